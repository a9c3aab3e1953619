package delivery

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestGuardCheck(t *testing.T) {
	tests := []struct {
		addr   string
		reason string // "" = allowed
	}{
		// public
		{"93.184.216.34", ""},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"172.32.0.1", ""},  // just past 172.16/12
		{"100.128.0.1", ""}, // just past CGNAT
		{"2606:4700:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", ""},  // 6to4 of 8.8.8.8

		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:10.1.2.3", "private"},
		{"::ffff:192.168.0.1", "private"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
		{"fec0::1", "private"},
		{"64:ff9b:1::a00:1", "private"},
		{"169.254.1.1", "link-local"},
		{"::ffff:169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"169.254.169.254", "metadata"},
		{"::ffff:169.254.169.254", "metadata"},
		{"100.100.100.200", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"::ffff:224.0.0.1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"0.1.2.3", "reserved"},
		{"100.64.0.1", "cgnat"},
		{"100.127.255.255", "cgnat"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.1", "reserved"},
		{"198.18.0.1", "reserved"},
		{"::7f00:1", "reserved"}, // IPv4-compatible 127.0.0.1
		{"2001:db8::1", "reserved"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"}, // Teredo
		{"64:ff9b::7f00:1", "loopback"},                      // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", "metadata"},                   // NAT64 of 169.254.169.254
		{"2002:c0a8:101::1", "private"},                      // 6to4 of 192.168.1.1
	}
	g := NewGuard(nil)
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(tt.addr))
			assertBlocked(t, err, tt.reason)
		})
	}
}

func assertBlocked(t *testing.T, err error, reason string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("want allowed, got %v", err)
		}
		return
	}
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("want *BlockedError (%s), got %v", reason, err)
	}
	if be.Reason != reason {
		t.Fatalf("reason = %q, want %q (%v)", be.Reason, reason, err)
	}
}

func TestGuardAllowList(t *testing.T) {
	g := NewGuard([]netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd00:1::/32"),
		netip.MustParsePrefix("192.168.5.7/16"), // unmasked on purpose
	})
	tests := []struct {
		addr   string
		reason string
	}{
		{"127.0.0.1", ""},
		{"::ffff:127.0.0.1", ""},
		{"10.1.2.3", ""},
		{"192.168.9.9", ""},
		{"fd00:1::5", ""},
		{"8.8.8.8", ""},
		{"::1", "loopback"}, // 127/8 does not cover IPv6 loopback
		{"10.2.0.1", "private"},
		{"169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assertBlocked(t, g.Check(netip.MustParseAddr(tt.addr)), tt.reason)
		})
	}
}

func TestGuardNilAndInvalid(t *testing.T) {
	var g *Guard
	assertBlocked(t, g.Check(netip.MustParseAddr("127.0.0.1")), "loopback")
	assertBlocked(t, g.Check(netip.MustParseAddr("8.8.8.8")), "")
	assertBlocked(t, NewGuard(nil).Check(netip.Addr{}), "invalid")
}

func TestBlockedErrorMessage(t *testing.T) {
	err := NewGuard(nil).Check(netip.MustParseAddr("127.0.0.1"))
	if got, want := err.Error(), "ssrf guard: refused 127.0.0.1 (loopback)"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string // substring; "" = valid
	}{
		{"https://example.com/hook", ""},
		{"http://example.com:8080/a?b=c", ""},
		{"HTTPS://EXAMPLE.COM/", ""},
		{"http://[2001:db8::1]:443/x", ""},
		{"", "empty"},
		{"/relative/path", "absolute"},
		{"example.com/hook", "absolute"},
		{"ftp://example.com/", `scheme "ftp"`},
		{"file:///etc/passwd", `scheme "file"`},
		{"gopher://example.com/", "scheme"},
		{"http:example.com", "no host"},
		{"http:///path", "no host"},
		{"https://user:pass@example.com/", "user name or password"},
		{"https://user@example.com/", "user name or password"},
		{"http://example.com:0/", "port"},
		{"http://example.com:99999/", "port"},
		{"http://example.com:/", "port"},
		{"http://exa mple.com/", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := ValidateURL(tt.url)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestGuardCheckURL(t *testing.T) {
	ctx := context.Background()
	g := NewGuard(nil)
	tests := []struct {
		url    string
		reason string
	}{
		{"http://8.8.8.8/hook", ""},
		{"https://[2606:4700:4700::1111]/", ""},
		{"http://127.0.0.1:8080/", "loopback"},
		{"http://[::1]/", "loopback"},
		{"http://[::ffff:169.254.169.254]/latest/meta-data", "metadata"},
		{"http://169.254.169.254/latest/meta-data", "metadata"},
		{"http://10.0.0.1/", "private"},
		{"http://localhost:9/", "loopback"}, // resolved through /etc/hosts
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			assertBlocked(t, g.CheckURL(ctx, tt.url), tt.reason)
		})
	}
	if err := g.CheckURL(ctx, "ftp://8.8.8.8/"); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("ftp url: err = %v", err)
	}
	allow := NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
	assertBlocked(t, allow.CheckURL(ctx, "http://localhost:9/"), "")
}
