// Package vyosstandin is the lab's VyOS stand-in: an interpreter of the
// configure session that package vyos sends a VyOS router over SSH
// ("vbash -s" reading a script that sources VyOS's script template, then
// configure, set, delete, commit or commit-confirm and confirm, save,
// show configuration commands, exit and exit discard), for one VyOS
// version, which realises what it commits on the Linux machine it runs on
// with the real openvpn, wg, wireguard-go and ip. It is NOT VyOS, and says so: in "show
// version", in its log, and in the lab's notes and reports.
//
// What it holds to, as VyOS does:
//
//   - A set outside the version's command tree (vyos.TreeOf: the paths
//     planetstage emits, per version) fails with VyOS's messages
//     ("Configuration path: [...] is not valid", "Value validation
//     failed", "Set failed"); a delete of a node that is not there fails
//     with "Nothing to delete" and "Delete failed"; a file under
//     /config/auth that a set refers to must exist.
//   - commit checks the candidate with vyos.Validate (the cross-checks
//     VyOS's commit makes) and prints "Commit failed" with the reason when
//     it fails; an unchanged candidate prints "No configuration changes to
//     commit" and exits 1. A commit whose realisation fails is undone (the
//     previous configuration is realised again) and fails.
//   - The active configuration survives the session; save writes it to
//     /config/config.boot (as set commands, not VyOS's curly-brace
//     format), which is loaded and realised again at boot (Boot).
//   - commit-confirm N asks "Proceed ? [Y/n]" and reads the answer from the
//     script; unless confirm follows within N minutes, the previous
//     configuration is realised again (VyOS reboots into it).
//
// Realising (Realise) turns the active configuration into the machine's
// state and converges: "interfaces ethernet ethN address" and vifs become
// addresses and VLAN links; every "interfaces openvpn vtunN" one openvpn
// daemon, with the openvpn.conf vyos.OpenVPNConf renders (the port of
// VyOS's own mapping) and the key files it refers to, restarted only when
// its configuration or key material changed and stopped when it is
// deleted; every "interfaces wireguard wgN" a WireGuard interface, in the
// version's syntax (1.2: the key in /config/auth/wireguard/private.key,
// peer "pubkey" and "endpoint"; 1.3: the named keypair
// /config/auth/wireguard/NAME/private.key that "private-key NAME" names;
// 1.4+: "private-key" and peer "public-key" inline; peer "address" and
// "port" from 1.3), made by the kernel where "ip link add type wireguard"
// works, else by a wireguard-go daemon, loaded with "wg setconf" from a
// 0600 file under /run/vyos-standin/wireguard (private key, port, peers
// with allowed-ips, endpoint, keepalive and pre-shared key), its
// addresses set with ip; a changed one is loaded in place with "wg
// syncconf" (unchanged peers keep their sessions), a deleted one is
// deleted (its wireguard-go ends). "protocols static" routes become
// kernel routes. Tunnel interfaces of another kind are added as another
// entry of interfaceKinds (realise.go), beside OpenVPN's and WireGuard's.
// Not realised: "system
// host-name" (a container cannot change its UTS name without
// CAP_SYS_ADMIN), "service ssh" (sshd keeps its port), network-emulator
// policies (this kernel has no netem; the lab emulates latency in its WAN
// relay and gives the routers no such policy).
//
// Secrets: the log (Config.Log) shows commands with key material as
// <redacted>; the output of "show configuration commands" carries keys as
// VyOS's does (package vyos reads them back and redacts what it shows);
// config.boot and the rendered key files are 0600.
package vyosstandin
