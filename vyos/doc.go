// Package vyos configures VyOS routers with site-to-site tunnels: the
// tunnel model of package tunnel, carried by OpenVPN (openvpn.Model, Build)
// or WireGuard (wireguard.Model, BuildWireGuard).
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
//   - latency emulation (Router.Latency, per tunnel): "traffic-policy
//     network-emulator NAME network-delay 50ms" attached with "interfaces
//     openvpn vtunN traffic-policy out NAME" up to 1.3; "qos policy
//     network-emulator NAME delay 50" and "qos interface vtunN egress NAME"
//     from 1.4.
//
// One end of every TLS tunnel is "tls role passive" and the other "active":
// two active ends never connect. The tunnel model's listening end
// (Ends[0]) is the passive one (openvpn.RoleOf), and tunnel i is the
// interface "vtun<i>" (openvpn.Interface).
//
// BuildWireGuard renders the same tunnels as "interfaces wireguard wgN",
// one peer per interface (named after the peer's router), with the same
// transit /30s and static routes. What differs between versions (from
// VyOS's interface definitions, interfaces-wireguard.xml for 1.2/1.3 and
// interfaces_wireguard.xml.in for 1.4+):
//
//   - the private key: 1.2 has no configuration node for it and reads
//     /config/auth/wireguard/private.key (what "generate wireguard keypair"
//     writes), which Apply writes (0600); 1.3 names a keypair directory,
//     "private-key NAME" with /config/auth/wireguard/NAME/private.key
//     (NAME carries a hash of the public key, so a new key is a new
//     command); 1.4+ take the base64 key itself, "private-key KEY".
//   - the peer's key is "pubkey" up to 1.3 and "public-key" from 1.4.
//   - the peer's endpoint is "endpoint ADDR:PORT" in 1.2, "address" and
//     "port" from 1.3.
//   - the listening port is 1024–65535 in 1.2 and 1–65535 after, so a
//     lower vpn.port is an error naming it for a 1.2 router.
//   - latency emulation on a WireGuard interface: "qos interface wgN" from
//     1.4; for 1.2/1.3 planetstage knows no checked command, and
//     BuildWireGuard says so.
//
// A router carries one tunnel kind: either configuration owns "interfaces
// openvpn" and "interfaces wireguard" (and the other's pki entries), so
// applying one after the other deletes the first in the same commit. A
// 1.2 WireGuard key file (a name of VyOS's, not planetstage's) is removed
// by Remove but not by switching back to OpenVPN.
//
// Validate checks commands against a schema of the paths planetstage emits,
// written by hand per dialect from the VyOS sources (not copied from them),
// plus the cross-checks VyOS's commit makes, so that a typo fails a test
// rather than a commit on a router.
//
// planetstage owns "interfaces openvpn", "interfaces wireguard", the
// static routes to the other sites' prefixes and its pki entries on the
// routers it manages: OpenVPN and WireGuard interfaces it did not create
// are deleted on apply. Everything else on the
// router is left alone.
//
// Apply sends a router only what differs from its running configuration:
// it reads "show configuration commands" back (over SSH, with vbash and the
// configure script template), deletes what planetstage owns but no longer
// wants, sets what is missing, and commits once, optionally with
// commit-confirm. A failed set aborts before commit; "Commit failed" is
// returned with VyOS's message (secrets redacted) and the candidate is
// discarded; "No configuration changes to commit" is success. Success needs
// the whole script to have run: a missing vbash, a non-zero exit, a failed
// save, a lost connection or a session that ended before the script's last
// line (which prints a marker) is an error saying which. ApplyAPI does
// the same over the HTTPS API (1.3+; 1.4+ for configs without key files).
//
// Key material is shown as <redacted> wherever a command is rendered for a
// human (Drift.Reasons, Render, InspectRemove, errors, logs), by the path of
// the command and not only by where it came from: after a key rotation the
// plan deletes the router's old private or static key, read back from its
// running configuration, and that old key is redacted like the new one. Only
// the script sent to the router carries the keys.
//
// What was tested, and against what. No VyOS image exists on the machines
// that build planetstage, so:
//
//   - Apply, Inspect, Remove and read-back were tested through
//     planetstage's remote.SSH (host key checked against known_hosts)
//     against an in-process SSH server (golang.org/x/crypto/ssh) that
//     behaves like VyOS's configure shell for the commands planetstage sends
//     and prints VyOS's output formats (fakevyos_test.go); ApplyAPI against
//     an httptest server with the API's request and reply shapes. Neither
//     is VyOS.
//   - The set commands were checked against the hand-written schema and
//     golden files per dialect.
//   - OpenVPNConf ports VyOS's mapping from these commands to openvpn.conf;
//     what it renders ran with the real OpenVPN 2.6 in network namespaces,
//     for every dialect and auth mode, against VyOS-rendered and Linux peers,
//     with a negative control for certificate pinning.
//   - In the lab, routers of kind vyos run in the VyOS stand-in
//     (vyos/vyosstandin, NOT VyOS): Apply, Inspect and Running reach it
//     over real SSH, it interprets their scripts against this package's
//     command tree for the router's version (TreeOf), and realises commits
//     with the real openvpn (the conf OpenVPNConf renders) and ip. The lab
//     test meshes VyOS 1.2, 1.3, 1.4, 1.5 and Linux routers this way:
//     every pair reachable, a second apply a no-op, read-back as committed.
//   - TestRealVyOS (here, and in lab over SSH) applies to real VyOS
//     containers when PLANETSTAGE_VYOS_IMAGE names a locally built image;
//     it is skipped otherwise and has not run here.
//
// Key files in /config/auth (1.2/1.3) are named by a hash of their
// contents, so new key material changes the commands and VyOS restarts the
// tunnels; files no longer referred to are removed after the commit.
//
// Not verified for lack of VyOS: whether 1.2/1.3 ask a question after
// commit-confirm (a "y" line is sent for every version), whether "save" and
// "confirm" return a non-zero status when they fail (the scripts print a
// marker when they do), and which values
// "show configuration commands" prints in another form than they were set
// (quotes are stripped and fingerprints compared in any case; any other
// difference would make a plan show an update that commits nothing).
package vyos
