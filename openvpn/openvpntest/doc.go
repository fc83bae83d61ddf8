// Package openvpntest builds throwaway network labs for tests that run real
// OpenVPN: network namespaces on this machine, one underlay bridge, and per
// site a router namespace with a host namespace behind it. It needs root,
// /dev/net/tun, ip(8), openvpn(8) and ping(8); RequireNetns skips a test
// that lacks them. Namespace names start with "psr-" and a random suffix, and
// everything is removed when the test ends.
package openvpntest
