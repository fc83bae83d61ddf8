package k8snode

import (
	"fmt"
	"strings"
)

// Versions pins every component of the node image. The Go module versions
// must match the wrapper modules under build/k8s (their go.mod files are what
// the Go build actually uses); they are repeated here for the version ldflags
// and the cache key.
type Versions struct {
	Kubernetes string `json:"kubernetes"` // k8s.io/kubernetes, e.g. v1.37.2
	Etcd       string `json:"etcd"`       // go.etcd.io/etcd/server/v3 (kubeadm 1.37 needs >= 3.6)
	CoreDNS    string `json:"coredns"`    // github.com/coredns/coredns
	CNI        string `json:"cni"`        // github.com/containernetworking/plugins
	Containerd string `json:"containerd"` // github.com/containerd/containerd/v2
	Runc       string `json:"runc"`       // github.com/opencontainers/runc
	Crictl     string `json:"crictl"`     // sigs.k8s.io/cri-tools
	GGCR       string `json:"ggcr"`       // github.com/google/go-containerregistry (the image tarball tool)
	Suite      string `json:"debian"`     // Debian suite of the node root file system
}

// DefaultVersions are the versions the offline build was verified with on
// this kind of machine (see the k8s-offline reference).
var DefaultVersions = Versions{
	Kubernetes: "v1.37.2",
	Etcd:       "v3.7.3",
	CoreDNS:    "v1.14.6",
	CNI:        "v1.9.1",
	Containerd: "v2.3.7",
	Runc:       "v1.4.4",
	Crictl:     "v1.37.0",
	GGCR:       "v0.22.1",
	Suite:      "bookworm",
}

// component is one `go build` in one wrapper module of build/k8s.
type component struct {
	dir      string            // wrapper module directory under build/k8s
	pkgs     []string          // main packages to build
	ldflags  string            // -ldflags beyond -s -w
	cgo      bool              // needs cgo (runc: libseccomp)
	tags     string            // build tags
	rename   map[string]string // output name -> final name
	wantBins []string          // binaries that must exist afterwards
}

func (v Versions) components() ([]component, error) {
	major, minor, ok := kubeMajorMinor(v.Kubernetes)
	if !ok {
		return nil, fmt.Errorf("versions: Kubernetes %q: want vMAJOR.MINOR.PATCH", v.Kubernetes)
	}
	kpkgs := []string{"kubeadm", "kubelet", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"}
	var kfull []string
	for _, p := range kpkgs {
		kfull = append(kfull, "k8s.io/kubernetes/cmd/"+p)
	}
	kver := "-X k8s.io/component-base/version.gitVersion=" + v.Kubernetes +
		" -X k8s.io/component-base/version.gitMajor=" + major +
		" -X k8s.io/component-base/version.gitMinor=" + minor +
		" -X k8s.io/component-base/version.gitTreeState=clean"
	cni := "github.com/containernetworking/plugins/plugins/"
	return []component{
		{dir: "ggcr", pkgs: []string{"."}, rename: map[string]string{"ggcr": "mkimg"}, wantBins: []string{"mkimg"}},
		{dir: "pause", pkgs: []string{"."}, wantBins: []string{"pause"}},
		{dir: "web", pkgs: []string{"."}, wantBins: []string{"web"}},
		{dir: "kubernetes", pkgs: kfull, ldflags: kver, wantBins: kpkgs},
		{dir: "etcd", pkgs: []string{"go.etcd.io/etcd/server/v3"},
			ldflags: "-X go.etcd.io/etcd/api/v3/version.GitSHA=" + v.Etcd,
			rename:  map[string]string{"server": "etcd"}, wantBins: []string{"etcd"}},
		{dir: "coredns", pkgs: []string{"."}, wantBins: []string{"coredns"}},
		{dir: "cni", pkgs: []string{cni + "main/bridge", cni + "main/loopback", cni + "main/ptp", cni + "ipam/host-local", cni + "meta/portmap"},
			wantBins: []string{"bridge", "loopback", "ptp", "host-local", "portmap"}},
		{dir: "containerd", pkgs: []string{
			"github.com/containerd/containerd/v2/cmd/containerd",
			"github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
			"github.com/containerd/containerd/v2/cmd/ctr"},
			ldflags:  "-X github.com/containerd/containerd/v2/version.Version=" + v.Containerd,
			tags:     "no_aufs no_zfs no_btrfs no_devmapper",
			wantBins: []string{"containerd", "containerd-shim-runc-v2", "ctr"}},
		{dir: "runc", pkgs: []string{"github.com/opencontainers/runc"}, cgo: true, tags: "seccomp",
			ldflags: "-X main.version=" + strings.TrimPrefix(v.Runc, "v"), wantBins: []string{"runc"}},
		{dir: "crictl", pkgs: []string{"sigs.k8s.io/cri-tools/cmd/crictl"},
			ldflags: "-X sigs.k8s.io/cri-tools/pkg/version.Version=" + v.Crictl, wantBins: []string{"crictl"}},
	}, nil
}

// kubeMajorMinor splits "v1.37.2" into "1" and "37".
func kubeMajorMinor(v string) (string, string, bool) {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if !strings.HasPrefix(v, "v") || len(parts) != 3 {
		return "", "", false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "", "", false
		}
	}
	return parts[0], parts[1], true
}
