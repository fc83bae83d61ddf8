package k8snode

import (
	"archive/tar"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"
)

//go:embed files
var files embed.FS

// nodeBinaries maps a built binary to its place in the node image.
var nodeBinaries = map[string]string{
	"kubeadm": "/usr/local/bin/kubeadm", "kubelet": "/usr/local/bin/kubelet", "kubectl": "/usr/local/bin/kubectl",
	"containerd": "/usr/local/bin/containerd", "containerd-shim-runc-v2": "/usr/local/bin/containerd-shim-runc-v2",
	"ctr": "/usr/local/bin/ctr", "crictl": "/usr/local/bin/crictl", "runc": "/usr/local/sbin/runc",
	"bridge": "/opt/cni/bin/bridge", "loopback": "/opt/cni/bin/loopback", "ptp": "/opt/cni/bin/ptp",
	"host-local": "/opt/cni/bin/host-local", "portmap": "/opt/cni/bin/portmap",
}

// CloudConfig is what cloud-init cannot do in a lab container, turned off:
// the NoCloud seed is the only source (the lab writes it from the VM's
// guestinfo), Docker owns the network (each card's address and the
// meta-data's MAC match do not apply to a container's interfaces) and the
// host name (its /etc/hostname is Docker's); the root file system is not
// resized, and the locale is one the image has. The node image and the
// lab's own image both carry it at CloudConfigPath.
var CloudConfig = mustFile("files/cloud.cfg")

// CloudConfigPath is where an image keeps CloudConfig.
const CloudConfigPath = "/etc/cloud/cloud.cfg.d/90-planetstage-lab.cfg"

// CloudInitLabel marks an image that boots a VM's machine through
// cloud-init: its init runs cloud-init's local and init stages on a NoCloud
// seed in /var/lib/cloud/seed/nocloud before sshd starts. The node image
// carries it with the value "nocloud".
const CloudInitLabel = "io.planetstage.cloud-init"

func mustFile(name string) string {
	data, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// overlayFile is one file added on top of the Debian root file system.
type overlayFile struct {
	dest string
	mode int64
	src  string // a file on disk, or
	data []byte // content
}

// nodeImage assembles node-base.tar + binaries + configuration + image
// tarballs into one stream and loads it with `docker import`, tagged by the
// hash of everything that went in. An existing tag is reused.
func (b *builder) nodeImage(ctx context.Context, res *Result, nodeBase string) (string, error) {
	overlay, err := b.overlay(res.BinDir, res.ImageDir, res.Images)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, f := range overlay {
		parts = append(parts, f.dest, f.src, string(f.data))
	}
	key := hashOf(append([]string{recipeVersion, filepath.Base(res.BinDir), filepath.Base(filepath.Dir(nodeBase)),
		filepath.Base(res.ImageDir), strings.Join(importChanges, "\n")}, parts...)...)
	ref := b.opts.ImageName + ":" + key
	if _, err := b.docker(ctx, nil, "image", "inspect", ref); err == nil {
		b.log.Debug("cached", "stage", "node-image", "image", ref)
		return ref, nil
	}
	if err := b.ensureTools(ctx); err != nil {
		return "", err
	}
	start := time.Now()
	b.log.Info("building", "stage", "node-image", "image", ref)
	var id string
	err = b.step("import", "docker import "+ref, func() (err error) {
		id, err = b.importNodeTar(ctx, nodeBase, overlay, key)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("stage node-image: %w", err)
	}
	// The tag is what marks the image done (the inspect above), so it comes
	// last.
	if _, err := b.docker(ctx, nil, "tag", id, ref); err != nil {
		b.removeImage(ctx, id)
		return "", fmt.Errorf("stage node-image: %w", err)
	}
	res.Built = append(res.Built, "node-image")
	b.log.Info("built", "stage", "node-image", "seconds", time.Since(start).Seconds())
	return ref, nil
}

// nodeImageLabel carries the node image's key; untagged images with it are
// leftovers of an interrupted import (see prune).
const nodeImageLabel = "io.planetstage.k8snode"

// errImportDone ends the tar writer once docker import has stopped reading.
var errImportDone = errors.New("docker import finished")

// importNodeTar streams the node's root file system into `docker import`
// and returns the new image's ID. The image gets no tag here: docker
// imports a stream that ends early at an entry boundary as a valid, shorter
// image (probed on Docker 20.10), so only an import that docker, the tar
// writer and ctx all saw through may be tagged. An image imported in vain
// is removed.
func (b *builder) importNodeTar(ctx context.Context, nodeBase string, overlay []overlayFile, key string) (string, error) {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := writeNodeTar(pw, nodeBase, overlay)
		pw.CloseWithError(err)
		written <- err
	}()
	args := []string{"import"}
	for _, c := range importChanges {
		args = append(args, "--change", c)
	}
	args = append(args, "--change", "LABEL "+nodeImageLabel+"="+key, "-")
	out, err := b.docker(ctx, pr, args...)
	pr.CloseWithError(errImportDone)
	if werr := <-written; werr != nil && !errors.Is(werr, errImportDone) && ctx.Err() == nil {
		// The writer's failure is the cause; docker's error, if any, follows.
		err = errors.Join(fmt.Errorf("node tar: %w", werr), err)
	}
	id := strings.TrimSpace(out)
	if err == nil && !strings.HasPrefix(id, "sha256:") {
		err = fmt.Errorf("docker import: printed %q, not an image ID", tail(id, 200))
	}
	if err != nil {
		if strings.HasPrefix(id, "sha256:") {
			b.removeImage(ctx, id)
		}
		return "", err
	}
	return id, nil
}

// removeImage removes an image Build made but will not use. It runs even
// when ctx has ended (that is usually why), bounded by its own timeout;
// failing, it leaves the image to prune.
func (b *builder) removeImage(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := b.docker(ctx, nil, "image", "rm", id); err != nil {
		b.log.Warn("cannot remove an unfinished node image; the next build does", "image", id, "error", err)
	}
}

// importChanges are the Dockerfile instructions `docker import` applies.
// (Docker 20.10 rejects STOPSIGNAL here; SIGTERM is the default anyway and
// k8snode-init traps it.)
var importChanges = []string{
	`ENTRYPOINT ["/usr/bin/tini", "-g", "--", "/usr/local/bin/k8snode-init"]`,
	`ENV container=docker`,
	`LABEL ` + CloudInitLabel + `=nocloud`,
	`ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
}

// overlay lists the files the node image adds to the Debian rootfs.
func (b *builder) overlay(binDir, imageDir string, images []string) ([]overlayFile, error) {
	var out []overlayFile
	for bin, dest := range nodeBinaries {
		out = append(out, overlayFile{dest: dest, mode: 0o755, src: filepath.Join(binDir, bin)})
	}
	pause := ""
	for _, ref := range images {
		out = append(out, overlayFile{dest: "/opt/k8snode/images/" + imageFile(ref), mode: 0o644, src: filepath.Join(imageDir, imageFile(ref))})
		if imageFile(ref) == "pause.tar" {
			pause = ref
		}
	}
	if pause == "" {
		return nil, errors.New("node image: kubeadm lists no pause image")
	}
	out = append(out, overlayFile{dest: "/opt/k8snode/images/images.txt", mode: 0o644, data: []byte(strings.Join(images, "\n") + "\n")})
	cfg, err := ContainerdConfig(pause)
	if err != nil {
		return nil, err
	}
	out = append(out, overlayFile{dest: "/etc/containerd/config.toml", mode: 0o644, data: cfg})
	for _, f := range []struct {
		name, dest string
		mode       int64
	}{
		{"k8snode-init", "/usr/local/bin/k8snode-init", 0o755},
		{"systemctl", "/usr/local/bin/systemctl", 0o755},
		{"crictl.yaml", "/etc/crictl.yaml", 0o644},
		{"cloud.cfg", CloudConfigPath, 0o644},
	} {
		data, err := files.ReadFile("files/" + f.name)
		if err != nil {
			return nil, err
		}
		out = append(out, overlayFile{dest: f.dest, mode: f.mode, data: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dest < out[j].dest })
	return out, nil
}

// ContainerdConfig renders the node's containerd config.toml with the
// sandbox (pause) image reference kubeadm expects.
func ContainerdConfig(pause string) ([]byte, error) {
	t, err := template.ParseFS(files, "files/config.toml.tmpl")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, struct{ Pause string }{pause}); err != nil {
		return nil, fmt.Errorf("containerd config: %w", err)
	}
	return buf.Bytes(), nil
}

// writeNodeTar copies the base tarball without the entries the overlay
// replaces (Docker 20.10's import rejects duplicate paths), then adds the
// overlay's missing parent directories and its files.
func writeNodeTar(w io.Writer, base string, overlay []overlayFile) error {
	replaced := map[string]bool{}
	for _, o := range overlay {
		replaced[strings.TrimPrefix(o.dest, "/")] = true
	}
	clean := func(name string) string {
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(name, "./"), "/"), "/")
	}
	tw := tar.NewWriter(w)
	f, err := os.Open(base)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	have := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", base, err)
		}
		name := clean(h.Name)
		if replaced[name] {
			continue
		}
		have[name] = true
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
	now := time.Now()
	var dirs []string
	for _, o := range overlay {
		for d := path.Dir(strings.TrimPrefix(o.dest, "/")); d != "." && d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs) // parents before children
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "./" + d + "/", Mode: 0o755, ModTime: now}); err != nil {
			return err
		}
	}
	for _, o := range overlay {
		data := o.data
		if o.src != "" {
			if data, err = os.ReadFile(o.src); err != nil {
				return fmt.Errorf("overlay %s: %w", o.dest, err)
			}
		}
		h := &tar.Header{Typeflag: tar.TypeReg, Name: "./" + strings.TrimPrefix(o.dest, "/"), Mode: o.mode, Size: int64(len(data)), ModTime: now}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}
