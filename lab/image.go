package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/planetstage/planetstage/internal/proc"
	"github.com/planetstage/planetstage/remote"
)

// ImageRepository is the repository of the node images the lab builds; the
// tag is a hash of the recipe.
const ImageRepository = "planetstage/node"

// Recipe says how the lab's node image is built. Every field goes into the
// image's tag, so changing any of them builds a new image, and an unchanged
// recipe reuses the image already in the engine.
type Recipe struct {
	// Suite is the Debian release ("bookworm").
	Suite string
	// Packages are installed on top of mmdebstrap's minbase variant.
	Packages []string
	// Files are written into the root file system (path -> content); scripts
	// under /usr/local/sbin are made executable.
	Files map[string]string
	// Entrypoint is the image's ENTRYPOINT.
	Entrypoint []string
}

// DefaultRecipe is the node image every lab machine runs unless Options.Image
// names another: Debian with sshd and what routers (openvpn, iproute2,
// iptables) and load balancers (haproxy) need, plus ping for the matrix and
// iperf3 for measuring the tunnels' throughput (stage verify --measure).
func DefaultRecipe() Recipe {
	return Recipe{
		Suite: "bookworm",
		Packages: []string{
			"ca-certificates", "haproxy", "iperf3", "iproute2", "iptables", "iputils-ping",
			"netcat-openbsd", "openssh-server", "openvpn", "procps",
		},
		Files: map[string]string{
			initPath: initScript,
			"/etc/ssh/sshd_config.d/planetstage.conf": sshdConfig,
		},
		Entrypoint: []string{initPath},
	}
}

const initPath = "/usr/local/sbin/planetstage-init"

// initScript runs the machine's boot hooks, then sshd in the foreground
// (docker-init is PID 1 and reaps the daemons the hooks leave). Executables
// in /etc/planetstage/boot.d run at every start: the hook a layer uses to
// bring its daemons and routes back after a reboot (on real machines a
// service manager would run the same scripts). Nothing else starts on its
// own; each layer owns its daemons. Docker gives every container a default
// route to the host's bridge; a router drops it, so that nothing routes
// towards the world.
const initScript = `#!/bin/sh
# planetstage lab init: boot hooks, then sshd in the foreground.
mkdir -p /run/sshd && chmod 0755 /run/sshd
if [ "$(cat /etc/planetstage/role 2>/dev/null)" = router ]; then
	ip route del default 2>/dev/null
fi
for f in /etc/planetstage/boot.d/*; do
	[ -x "$f" ] && { "$f" </dev/null || echo "planetstage-init: $f failed" >&2; }
done
exec /usr/sbin/sshd -D -e
`

// sshdConfig is read before Debian's defaults (Include comes first), so it
// wins: the lab's own ed25519 host key, keys only, and no PAM, whose
// pam_loginuid refuses logins in a container.
const sshdConfig = `HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
`

// Tag returns the image reference for r: ImageRepository:<hash of r>.
func (r Recipe) Tag() string {
	h := sha256.New()
	fmt.Fprintf(h, "planetstage lab recipe v1\nsuite %s\n", r.Suite)
	pkgs := slices.Clone(r.Packages)
	slices.Sort(pkgs)
	fmt.Fprintf(h, "packages %q\nentrypoint %q\n", pkgs, r.Entrypoint)
	paths := make([]string, 0, len(r.Files))
	for p := range r.Files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		fmt.Fprintf(h, "file %q %q\n", p, r.Files[p])
	}
	return ImageRepository + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}

// ImageOptions tune EnsureImage.
type ImageOptions struct {
	// Mirror is the Debian archive URI; empty reads it from this machine's
	// apt sources (see DebianMirror).
	Mirror string
	// Progress receives the build's phases; nil drops them.
	Progress func(Event)
}

// EnsureImage returns the tag of r's image, building it when the engine does
// not have it: mmdebstrap makes the root file system from the configured
// Debian mirror and `docker import` turns it into an image. mmdebstrap is
// installed with apt when it is missing and this process runs as root;
// otherwise the error names the command to run. Nothing is pulled.
func EnsureImage(ctx context.Context, r Recipe) (string, error) {
	return EnsureImageWith(ctx, r, ImageOptions{})
}

// EnsureImageWith is EnsureImage with options.
func EnsureImageWith(ctx context.Context, r Recipe, opts ImageOptions) (string, error) {
	d, err := newDockerCLI()
	if err != nil {
		return "", err
	}
	return ensureImage(ctx, d, r, opts)
}

func ensureImage(ctx context.Context, d dockerCLI, r Recipe, opts ImageOptions) (string, error) {
	tag := r.Tag()
	if _, err := d.run(ctx, nil, "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
		return tag, nil
	}
	// One build per recipe at a time on this machine: parallel tests and
	// programs wait for the first and then reuse its image.
	unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), "planetstage-image-"+strings.TrimPrefix(tag, ImageRepository+":")+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := d.run(ctx, nil, "image", "inspect", "--format", "{{.Id}}", tag); err == nil {
		return tag, nil
	}
	progress := progressFunc(opts.Progress)
	start := time.Now()
	progress(Event{Phase: PhaseImage, Detail: tag})
	err = buildImage(ctx, d, r, tag, opts.Mirror)
	progress(Event{Phase: PhaseImage, Detail: tag, Done: true, Elapsed: time.Since(start), Err: err})
	if err != nil {
		return "", err
	}
	return tag, nil
}

func buildImage(ctx context.Context, d dockerCLI, r Recipe, tag, mirror string) error {
	if err := ensureMmdebstrap(ctx); err != nil {
		return err
	}
	if mirror == "" {
		var err error
		if mirror, err = DebianMirror(r.Suite); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "planetstage-image-")
	if err != nil {
		return fmt.Errorf("lab: image build: %w", err)
	}
	defer os.RemoveAll(dir)
	overlay := filepath.Join(dir, "overlay")
	for p, content := range r.Files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(p, "/usr/local/sbin/") || strings.HasPrefix(content, "#!") {
			mode = 0o755
		}
		full := filepath.Join(overlay, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("lab: image build: %w", err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			return fmt.Errorf("lab: image build: %w", err)
		}
	}
	rootfs := filepath.Join(dir, "rootfs.tar")
	args := []string{
		"--variant=minbase",
		"--include=" + strings.Join(r.Packages, ","),
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		// Host keys made by openssh-server's postinst would be shared by
		// every container; the lab gives each machine its own.
		`--customize-hook=rm -f "$1"/etc/ssh/ssh_host_*`,
		`--customize-hook=cp -a ` + remote.ShellQuote(overlay) + `/. "$1"/`,
		`--customize-hook=mkdir -p "$1"/run/sshd "$1"/etc/planetstage`,
		"--mode=root",
		r.Suite, rootfs, mirror,
	}
	var out strings.Builder
	cmd := proc.Command(ctx, "mmdebstrap", args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("lab: mmdebstrap %s: %w: %s", r.Suite, err, strings.TrimSpace(tail(out.String(), 2048)))
	}
	importArgs := []string{"import",
		"--change", "ENTRYPOINT " + jsonArray(r.Entrypoint),
		"--change", "LABEL io.planetstage.recipe=" + strings.TrimPrefix(tag, ImageRepository+":"),
		rootfs, tag}
	if _, err := d.run(ctx, nil, importArgs...); err != nil {
		return fmt.Errorf("lab: import node image: %w", err)
	}
	return nil
}

// ensureMmdebstrap installs mmdebstrap with apt when it is missing and this
// process may (root); otherwise it names the command to run.
func ensureMmdebstrap(ctx context.Context) error {
	if _, err := exec.LookPath("mmdebstrap"); err == nil {
		return nil
	}
	const install = "apt-get install -y mmdebstrap"
	if os.Geteuid() != 0 {
		return fmt.Errorf("lab: building the node image needs mmdebstrap; run `sudo %s`, or name an image with lab.Options.Image", install)
	}
	// Other apt users (unattended upgrades, a parallel job) hold the lock for
	// a while; wait for it rather than fail.
	out, err := proc.Command(ctx, "apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "mmdebstrap").CombinedOutput()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("lab: %s: %w: %s", install, err, strings.TrimSpace(tail(string(out), 1024)))
	}
	return nil
}

func jsonArray(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	return "[" + strings.Join(quoted, ",") + "]"
}

// lockFile takes an exclusive flock on path, waiting until it is free or ctx
// ends, and returns the function that releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lab: image build lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lab: image build lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
