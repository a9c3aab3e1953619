package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ValidateURL checks the syntax of an endpoint URL: absolute, scheme http
// or https, a host, a valid port if one is given, and no user:password
// part, because credentials in the URL would end up in logs and in the
// dashboard. It does not resolve the host; see Guard.CheckURL.
func ValidateURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		return nil, fmt.Errorf("url is invalid: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, errors.New("url must be absolute (http:// or https://)")
	default:
		return nil, fmt.Errorf("url scheme %q is not allowed: use http or https", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("url has no host")
	}
	if u.User != nil {
		return nil, errors.New("url must not contain a user name or password: use a custom header instead")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url port %q is invalid", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, errors.New("url port is empty")
	}
	return u, nil
}

// CheckURL validates rawURL with ValidateURL, resolves its host and checks
// every address it resolves to, so that an endpoint pointing at, say,
// 10.0.0.5 is refused with a clear message when it is created. It returns
// the first *BlockedError found. The check at dial time still runs on
// every attempt: DNS can change after this call.
func (g *Guard) CheckURL(ctx context.Context, rawURL string) error {
	u, err := parseURL(rawURL)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return g.Check(ip)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return fmt.Errorf("url host %q does not resolve", host)
		}
		return fmt.Errorf("url host %q: resolve: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("url host %q does not resolve", host)
	}
	for _, ip := range addrs {
		if err := g.Check(ip); err != nil {
			return err
		}
	}
	return nil
}
