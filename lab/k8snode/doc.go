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
// A node container runs without systemd: k8snode-init (under tini) starts
// containerd, imports the component images into its k8s.io namespace,
// starts sshd and keeps a kubelet running once kubeadm has written its
// configuration; a systemctl stand-in lets kubeadm (and people) start, stop
// and query kubelet, containerd and haproxy. Start containers with RunFlags
// and wait for ReadyFile.
//
// Plain `go test ./lab/k8snode` runs the unit tests only. The end-to-end
// test builds (or reuses) everything and brings up HAProxy + control plane(s)
// + a worker in Docker with kubeadm, asserting every node Ready and CoreDNS
// running:
//
//	PLANETSTAGE_K8S=1 go test -run TestClusterInDocker -v -timeout 120m ./lab/k8snode
//
// PLANETSTAGE_K8S_CONTROL_PLANES=2 adds a control-plane join;
// PLANETSTAGE_K8S_KEEP=1 leaves the containers (label io.planetstage.test=k8s).
package k8snode
