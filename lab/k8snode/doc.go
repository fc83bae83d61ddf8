// Package k8snode builds the offline Kubernetes node image of the
// planetstage lab: every binary from source through the Go module proxy
// (Kubernetes, etcd, CoreDNS, containerd, runc, CNI plugins, crictl, a pause
// program and a go-containerregistry image tool, pinned by the wrapper
// modules in build/k8s), docker-save style image tarballs of the components
// kubeadm runs (named as `kubeadm config images list` expects), and a node
// image: a Debian root file system from mmdebstrap (using this machine's apt
// mirror, read at run time) plus the binaries, containerd's configuration and
// a small init, loaded with `docker import` and tagged by a content hash.
//
// Nothing is pulled from a registry. Each stage is cached by a hash of its
// inputs in a directory outside the clone (see CacheDir), together with
// GOCACHE and GOMODCACHE, so only the first build on a machine is slow.
//
// A node container runs without systemd: k8snode-init (under tini) runs
// cloud-init's local and init stages when a NoCloud seed is there (the
// lab's seed of a VM's user-data: the SSH keys come from it), starts sshd
// and containerd, imports the component images into its k8s.io namespace,
// and keeps a kubelet running once kubeadm has written its configuration; a systemctl stand-in lets kubeadm (and people) start, stop
// and query kubelet, containerd and haproxy. Start containers with RunFlags
// and wait for ReadyFile.
//
// `go test ./lab/k8snode` runs the unit tests. The image is exercised where
// users run it: the lab starts control planes and workers from it
// (lab.Options.NodeImage) and the kubeadm package bootstraps them over SSH,
// in `go run ./examples/thesis` and in stagecli's
// TestClusterFromTheCommandLine, both in CI.
package k8snode
