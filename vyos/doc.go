// Package vyos configures VyOS routers with the site-to-site tunnels of the
// openvpn package's model.
//
// Build turns one router's part of an openvpn.Model into its whole
// planetstage configuration as set commands: host name, the underlay address
// on eth0, the site address on eth1 (or a VLAN vif), the OpenVPN tunnels,
// static routes to the other sites and SSH. The router's VyOS version picks
// the dialect (V12 … V15); what differs between them:
//
//   - 1.2/1.3 keep keys in files under /config/auth (shared-secret-key-file,
//     tls ca-cert-file/cert-file/key-file/dh-file); 1.4+ keep them in "set pki"
//     (pki openvpn shared-secret, pki certificate) and pin the peer with
//     "tls peer-fingerprint". 1.2/1.3 have no fingerprint pinning, so the
//     peer's self-signed certificate is the tunnel's only CA, which pins it.
//   - "encryption aes256" (1.2), "encryption cipher aes256" (1.3, and static
//     keys on 1.4+), none in TLS mode on 1.4+ (1.5 rejects it; OpenVPN 2.6
//     negotiates AES-256-GCM).
//   - keep-alive failure-count is a count in 1.2 and seconds from 1.3 on.
//   - static routes: "interface-route P next-hop-interface vtunN" before 1.4,
//     "route P interface vtunN" from 1.4.
//
// One end of every TLS tunnel is "tls role passive" and the other "active":
// two active ends never connect.
//
// Validate checks commands against a schema of the paths planetstage emits,
// written by hand per dialect from the VyOS sources (not copied from them),
// plus the cross-checks VyOS's commit makes, so that a typo fails a test
// rather than a commit on a router.
package vyos
