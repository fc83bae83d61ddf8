// Package secret is where planetstage keeps what must not leak: generated
// key material (VPN keys and certificates, the cluster's CAs and tokens, the
// lab's SSH keys) between runs, and the word that stands in for it in
// output.
//
// Store is the contract the layers need: read a name, write a name, say
// whether it is secret. Package openvpn keeps its router keys in one,
// package kubeadm its PKI and bootstrap token. Dir is the Store in a local
// directory that planetstage itself uses (topology.State is built on it,
// and so is the lab's key store): the directory is created 0700, secret
// files 0600, others 0644, every write atomic and durable, names confined to the
// directory, and LoadOrCreate makes a missing key exactly once however
// many steps ask for it at the same time. Keys are made once and reused, so
// a second apply changes nothing and peers that pinned a key keep working.
//
// Redacted is what renders, plans, errors and logs show in place of a
// secret, so a test or a reader can tell a hidden value from a missing one.
//
// Names are confined lexically: absolute names and names that climb out
// with ".." are refused. A symbolic link placed inside the directory is
// followed; the directory is the owner's, and Dir does not defend it
// against its owner.
//
// OpenDir never changes the mode of a directory that exists (it may be
// the user's home): one that others can write is refused with what to do,
// one they can only read is used as it is, since the secrets in it are
// 0600 and its subdirectories 0700.
package secret
