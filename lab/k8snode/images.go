package k8snode

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/planetstage/planetstage/internal/proc"
)

// imageRecipe says how one kubeadm image is made from a built binary.
type imageRecipe struct {
	binary     string // in the bin dir
	dest       string // path inside the image
	entrypoint string // empty: none (kubeadm's manifests give the command)
	proxyBase  bool   // kube-proxy needs iptables/nft/conntrack from Debian
}

// recipes maps an image's last path element to its recipe. kubeadm passes a
// command for the control-plane components and etcd, only args for CoreDNS.
var recipes = map[string]imageRecipe{
	"kube-apiserver":          {binary: "kube-apiserver", dest: "/usr/local/bin/kube-apiserver", entrypoint: "/usr/local/bin/kube-apiserver"},
	"kube-controller-manager": {binary: "kube-controller-manager", dest: "/usr/local/bin/kube-controller-manager", entrypoint: "/usr/local/bin/kube-controller-manager"},
	"kube-scheduler":          {binary: "kube-scheduler", dest: "/usr/local/bin/kube-scheduler", entrypoint: "/usr/local/bin/kube-scheduler"},
	"kube-proxy":              {binary: "kube-proxy", dest: "/usr/local/bin/kube-proxy", entrypoint: "/usr/local/bin/kube-proxy", proxyBase: true},
	"etcd":                    {binary: "etcd", dest: "/usr/local/bin/etcd", entrypoint: "/usr/local/bin/etcd"},
	"coredns":                 {binary: "coredns", dest: "/coredns", entrypoint: "/coredns"},
	"pause":                   {binary: "pause", dest: "/pause", entrypoint: "/pause"},
	"web":                     {binary: "web", dest: "/web", entrypoint: "/web"},
}

// WebImage is the image of the lab's system under test, a small HTTP server
// (build/k8s/web) that says which pod and node answered: the thesis's nginx,
// built offline. Every node has it, so a workload runs it with
// imagePullPolicy Never (or IfNotPresent).
const WebImage = "planetstage.io/web:v1"

// WebPort is the port WebImage listens on (its PORT environment variable
// changes it).
const WebPort = 8080

// KubeadmImages asks the built kubeadm which images it expects for the
// version and repository (`kubeadm config images list`).
func KubeadmImages(ctx context.Context, kubeadm, version, repo string) ([]string, error) {
	cmd := proc.Command(ctx, kubeadm, "config", "images", "list",
		"--kubernetes-version", version, "--image-repository", repo)
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("kubeadm config images list: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("kubeadm config images list: %w", err)
	}
	var refs []string
	for _, l := range strings.Fields(string(out)) {
		refs = append(refs, l)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("kubeadm config images list: no images")
	}
	return refs, nil
}

// imageFile is the tarball name of an image reference: its last path
// element without the tag ("registry.k8s.io/coredns/coredns:v1.14.6" ->
// "coredns.tar").
func imageFile(ref string) string {
	base := path.Base(ref)
	if i := strings.LastIndex(base, ":"); i >= 0 {
		base = base[:i]
	}
	return base + ".tar"
}

// componentImages writes one docker-save style tarball per image kubeadm
// expects, and one of WebImage, with the ggcr tool built in the binaries
// stage.
func (b *builder) componentImages(ctx context.Context, res *Result, bin, proxyBase string) (string, []string, error) {
	refs, err := KubeadmImages(ctx, filepath.Join(bin, "kubeadm"), b.v.Kubernetes, b.opts.ImageRepository)
	if err != nil {
		return "", nil, err
	}
	refs = append(refs, WebImage)
	key := hashOf(recipeVersion, filepath.Base(bin), filepath.Base(filepath.Dir(proxyBase)), strings.Join(refs, ","), fmt.Sprintf("%v", recipes))
	final := filepath.Join(b.cache, "images-"+key)
	err = b.stage(ctx, res, "images", final, func(ctx context.Context, tmp string) error {
		for _, ref := range refs {
			name := strings.TrimSuffix(imageFile(ref), ".tar")
			r, ok := recipes[name]
			if !ok {
				return fmt.Errorf("image %s: no recipe for %q (kubeadm expects an image this builder does not know)", ref, name)
			}
			args := []string{"-o", filepath.Join(tmp, imageFile(ref)), "-t", ref,
				"-f", filepath.Join(bin, r.binary) + ":" + r.dest + ":0755"}
			if r.entrypoint != "" {
				args = append(args, "-entrypoint", r.entrypoint)
			}
			if r.proxyBase {
				args = append(args, "-layer", proxyBase)
			}
			if err := b.run(ctx, "", nil, nil, filepath.Join(bin, "mkimg"), args...); err != nil {
				return fmt.Errorf("image %s: %w", ref, err)
			}
		}
		return os.WriteFile(filepath.Join(tmp, "images.txt"), []byte(strings.Join(refs, "\n")+"\n"), 0o644)
	})
	return final, refs, err
}
