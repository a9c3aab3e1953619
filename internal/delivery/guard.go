package delivery

import (
	"fmt"
	"net/netip"
)

// Guard decides which resolved IP addresses outbound requests may reach.
// The zero value and a nil *Guard refuse every blocked range and allow
// nothing extra.
type Guard struct {
	allow []netip.Prefix
}

// NewGuard returns a Guard that refuses loopback, private, link-local,
// metadata, multicast, unspecified, CGNAT, broadcast and other reserved
// addresses (including their IPv4-mapped IPv6 forms), except those inside
// one of the allow prefixes, which the operator permits explicitly
// (for example 127.0.0.0/8 when running locally).
func NewGuard(allow []netip.Prefix) *Guard {
	g := &Guard{allow: make([]netip.Prefix, 0, len(allow))}
	for _, p := range allow {
		if p.IsValid() {
			g.allow = append(g.allow, p.Masked())
		}
	}
	return g
}

// BlockedError says which address the guard refused and why.
type BlockedError struct {
	// Addr is the address that was refused, as it was dialled.
	Addr netip.Addr
	// Reason names the range: "loopback", "private", "link-local",
	// "metadata", "multicast", "unspecified", "cgnat", "broadcast",
	// "reserved" or "invalid".
	Reason string
}

// Error returns, for example, "ssrf guard: refused 127.0.0.1 (loopback)".
func (e *BlockedError) Error() string {
	return fmt.Sprintf("ssrf guard: refused %s (%s)", e.Addr, e.Reason)
}

// Check returns a *BlockedError when ip may not be dialled, and nil when it
// may.
func (g *Guard) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return &BlockedError{Addr: ip, Reason: "invalid"}
	}
	ip = ip.WithZone("")
	plain := ip.Unmap()
	if g.allowed(ip) || g.allowed(plain) {
		return nil
	}
	if reason := blockedReason(plain); reason != "" {
		return &BlockedError{Addr: ip, Reason: reason}
	}
	return nil
}

func (g *Guard) allowed(ip netip.Addr) bool {
	if g == nil {
		return false
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// blockedRange is one refused prefix. Order matters: the first match names
// the reason, so the narrow metadata addresses come before the ranges that
// contain them.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

var blockedRanges = func() []blockedRange {
	table := []struct{ cidr, reason string }{
		// Cloud metadata services: AWS, GCP, Azure, OpenStack, Oracle
		// (169.254.169.254), Alibaba (100.100.100.200), AWS over IPv6.
		{"169.254.169.254/32", "metadata"},
		{"100.100.100.200/32", "metadata"},
		{"fd00:ec2::254/128", "metadata"},

		{"0.0.0.0/32", "unspecified"},
		{"0.0.0.0/8", "reserved"}, // "this network": reaches the local host on Linux
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "cgnat"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "reserved"},    // IETF protocol assignments
		{"192.0.2.0/24", "reserved"},    // documentation
		{"192.88.99.0/24", "reserved"},  // 6to4 relay anycast
		{"192.168.0.0/16", "private"},   //
		{"198.18.0.0/15", "reserved"},   // benchmarking
		{"198.51.100.0/24", "reserved"}, // documentation
		{"203.0.113.0/24", "reserved"},  // documentation
		{"224.0.0.0/4", "multicast"},
		{"255.255.255.255/32", "broadcast"},
		{"240.0.0.0/4", "reserved"},

		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "reserved"},         // IPv4-compatible, deprecated
		{"64:ff9b:1::/48", "private"}, // local-use NAT64
		{"100::/64", "reserved"},      // discard-only
		{"2001::/32", "reserved"},     // Teredo: hides an IPv4 address
		{"2001:db8::/32", "reserved"}, // documentation
		{"fc00::/7", "private"},       // unique local, includes fd00:ec2::/32
		{"fe80::/10", "link-local"},   //
		{"fec0::/10", "private"},      // site-local, deprecated
		{"ff00::/8", "multicast"},     //
	}
	out := make([]blockedRange, len(table))
	for i, r := range table {
		out[i] = blockedRange{netip.MustParsePrefix(r.cidr), r.reason}
	}
	return out
}()

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// blockedReason names the blocked range holding ip, or returns "" when ip
// is public. IPv6 forms that carry an IPv4 address for a translator to
// reach (NAT64, 6to4) are judged by that IPv4 address.
func blockedReason(ip netip.Addr) string {
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.reason
		}
	}
	if !ip.Is6() {
		return ""
	}
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return blockedReason(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(ip):
		return blockedReason(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return ""
}
