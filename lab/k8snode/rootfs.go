package k8snode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// nodePackages make the node's root file system: what kubeadm, the kubelet,
// containerd and kube-proxy's host side need, plus haproxy (a load-balancer
// node runs the same image), sshd for the lab, tini as PID 1, and
// cloud-init, which boots a node from its VM's user-data as on a VMware
// guest.
var nodePackages = []string{
	"conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux", "mount", "kmod",
	"libseccomp2", "pigz", "e2fsprogs", "bash", "ca-certificates", "curl", "jq", "procps",
	"socat", "openssh-server", "less", "iputils-ping", "haproxy", "tini", "ebtables", "psmisc",
	"cloud-init",
}

// proxyPackages are the userspace tools kube-proxy runs (iptables-restore,
// nft, conntrack); they form the base layer of the kube-proxy image.
var proxyPackages = []string{"iptables", "nftables", "conntrack", "ca-certificates"}

// rootfs builds the node and kube-proxy base tarballs with mmdebstrap from
// the Debian mirror this machine's apt uses (read at run time).
func (b *builder) rootfs(ctx context.Context, res *Result) (node, proxy string, err error) {
	mirrors, err := AptMirrors("/etc/apt", b.v.Suite)
	if err != nil {
		return "", "", err
	}
	key := hashOf(recipeVersion, b.v.Suite, strings.Join(nodePackages, ","), strings.Join(proxyPackages, ","), strings.Join(mirrors, "\n"))
	final := filepath.Join(b.cache, "rootfs-"+key)
	err = b.stage(ctx, res, "rootfs", final, func(ctx context.Context, tmp string) error {
		if err := b.mmdebstrap(ctx, filepath.Join(tmp, "node-base.tar"), nodePackages, mirrors); err != nil {
			return fmt.Errorf("node rootfs: %w", err)
		}
		if err := b.mmdebstrap(ctx, filepath.Join(tmp, "kube-proxy-base.tar"), proxyPackages, mirrors); err != nil {
			return fmt.Errorf("kube-proxy rootfs: %w", err)
		}
		return nil
	})
	return filepath.Join(final, "node-base.tar"), filepath.Join(final, "kube-proxy-base.tar"), err
}

func (b *builder) mmdebstrap(ctx context.Context, out string, pkgs, mirrors []string) error {
	args := []string{
		"--variant=minbase", "--mode=root", "--format=tar",
		"--include=" + strings.Join(pkgs, ","),
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		// The image is offline: keep no apt source (and so no mirror name) in it.
		`--customize-hook=rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*; rm -rf "$1"/var/lib/apt/lists/*`,
		b.v.Suite, out,
	}
	args = append(args, mirrors...)
	return b.run(ctx, "", nil, nil, "mmdebstrap", args...)
}

// AptMirrors reads the apt sources under aptDir (sources.list, *.list and
// deb822 *.sources in sources.list.d) and returns one-line "deb URI SUITE
// main" entries for suite, suite-updates and suite-security, so mmdebstrap
// uses the same mirror as the machine without the name being written
// anywhere else.
func AptMirrors(aptDir, suite string) ([]string, error) {
	files := []string{filepath.Join(aptDir, "sources.list")}
	for _, pat := range []string{"*.list", "*.sources"} {
		m, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", pat))
		files = append(files, m...)
	}
	want := []string{suite, suite + "-updates", suite + "-security"}
	var out []string
	add := func(uri, s string) {
		line := "deb " + uri + " " + s + " main"
		if slices.Contains(want, s) && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apt sources %s: %w", f, err)
		}
		if strings.HasSuffix(f, ".sources") {
			for _, st := range deb822Stanzas(string(data)) {
				if !slices.Contains(strings.Fields(st["types"]), "deb") || strings.EqualFold(st["enabled"], "no") ||
					!slices.Contains(strings.Fields(st["components"]), "main") {
					continue
				}
				for _, uri := range strings.Fields(st["uris"]) {
					for _, s := range strings.Fields(st["suites"]) {
						add(uri, s)
					}
				}
			}
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 0 && strings.HasPrefix(f[0], "[") { // not valid; skip
				continue
			}
			if len(f) < 4 || f[0] != "deb" {
				continue
			}
			rest := f[1:]
			if strings.HasPrefix(rest[0], "[") { // options like [signed-by=…]
				for len(rest) > 0 && !strings.HasSuffix(rest[0], "]") {
					rest = rest[1:]
				}
				if len(rest) > 0 {
					rest = rest[1:]
				}
			}
			if len(rest) >= 3 && slices.Contains(rest[2:], "main") {
				add(rest[0], rest[1])
			}
		}
	}
	if !slices.ContainsFunc(out, func(l string) bool { return strings.HasSuffix(l, " "+suite+" main") }) {
		return nil, fmt.Errorf("apt sources in %s: no enabled 'deb' entry for suite %q component main", aptDir, suite)
	}
	return out, nil
}

// deb822Stanzas parses deb822 paragraphs into lower-case field maps.
func deb822Stanzas(text string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur, last = map[string]string{}, ""
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "#"):
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if ok {
				last = strings.ToLower(strings.TrimSpace(k))
				cur[last] = strings.TrimSpace(v)
			}
		}
	}
	flush()
	return out
}
