package config

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// pprofListen validates HOOKRELAY_PPROF_LISTEN. Empty turns profiling
// off; a bare port ("6060" or ":6060") binds to 127.0.0.1, since profiles
// reveal memory contents and a CPU profile costs the process while it
// runs. In production an address that is not loopback is refused unless
// HOOKRELAY_PPROF_ALLOW_REMOTE=true says the operator means it.
func pprofListen(raw, env, allowRemote string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if !strings.Contains(raw, ":") {
		raw = ":" + raw
	}
	host, port, err := net.SplitHostPort(raw)
	if err != nil || port == "" {
		return "", fmt.Errorf("HOOKRELAY_PPROF_LISTEN: %q is not host:port or a port", raw)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	loopback := host == "localhost"
	if ip, err := netip.ParseAddr(host); err == nil {
		loopback = ip.IsLoopback()
	}
	if !loopback && env == EnvProduction && strings.TrimSpace(allowRemote) != "true" {
		return "", fmt.Errorf("HOOKRELAY_PPROF_LISTEN: %q is not a loopback address; profiles expose memory, "+
			"so production needs HOOKRELAY_PPROF_ALLOW_REMOTE=true for that", raw)
	}
	return net.JoinHostPort(host, port), nil
}
