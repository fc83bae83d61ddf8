package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/internal/flock"
	"github.com/planetstage/planetstage/internal/proc"
	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/preflight"
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
// names another: Debian with sshd and what routers (openvpn, wireguard-go
// and wireguard-tools, iproute2, iptables) and load balancers (haproxy)
// need, plus ping for the matrix and iperf3 for measuring the tunnels'
// throughput (stage verify --measure). The kernel here has no WireGuard
// module, so a WireGuard router runs wireguard-go on the container's
// /dev/net/tun.
func DefaultRecipe() Recipe {
	return Recipe{
		Suite: "bookworm",
		Packages: []string{
			"ca-certificates", "haproxy", "iperf3", "iproute2", "iptables", "iputils-ping",
			"netcat-openbsd", "openssh-server", "openvpn", "procps", "wireguard-go", "wireguard-tools",
			"cloud-init",
		},
		Files: map[string]string{
			initPath: initScript,
			"/etc/ssh/sshd_config.d/planetstage.conf": sshdConfig,
			k8snode.CloudConfigPath:                   k8snode.CloudConfig,
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
//
// A machine whose VM the machines layer made boots as a VMware guest does:
// cloud-init runs, by hand since no service manager runs here, on the VM's
// user-data and meta-data (the lab seeds them from the VM's guestinfo as
// NoCloud), once per instance; its SSH host key and the authorized key
// come from there. Only its local and init stages run (finding the seed,
// users, SSH keys): the config and final modules, which the machines
// layer's user-data does not use, cost seconds of Python per machine.
const initScript = `#!/bin/sh
# planetstage lab init: cloud-init (VM machines), boot hooks, then sshd in the foreground.
mkdir -p /run/sshd && chmod 0755 /run/sshd
seed=/var/lib/cloud/seed/nocloud
if [ -s $seed/user-data ] && [ ! -e /var/lib/cloud/instance/boot-finished ]; then
	for stage in "init --local" init; do
		cloud-init $stage >>/var/log/planetstage-cloud-init.log 2>&1 ||
			echo "planetstage-init: cloud-init $stage failed, see /var/log/planetstage-cloud-init.log" >&2
	done
fi
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
// pam_loginuid refuses logins in a container. MaxStartups is raised from
// OpenSSH's 10: one process opens many sessions to a machine at once (plan
// steps, the matrix, probes, the banner wait), and on a loaded machine the
// handshakes queue up long enough for sshd to drop them ("Exceeded
// MaxStartups", seen once in CI).
const sshdConfig = `HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxStartups 100:30:200
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
// Debian mirror and `docker import` turns it into an image. Before it
// builds, it checks ImageRequirements: mmdebstrap is installed with apt
// when it is missing and this process runs as root; otherwise the error
// names the command to run. Nothing is pulled.
func EnsureImage(ctx context.Context, r Recipe) (string, error) {
	return EnsureImageWith(ctx, r, ImageOptions{})
}

// EnsureImageWith is EnsureImage with options.
func EnsureImageWith(ctx context.Context, r Recipe, opts ImageOptions) (string, error) {
	d, err := newEngine()
	if err != nil {
		return "", err
	}
	return ensureImage(ctx, d, r, opts)
}

func ensureImage(ctx context.Context, d *engine, r Recipe, opts ImageOptions) (string, error) {
	tag := r.Tag()
	if ok, err := d.imageExists(tag); err != nil || ok {
		return tag, err
	}
	progress := progressFunc(opts.Progress)
	if _, err := preflight.Ensure(ctx, ImageRequirements(), preflight.Options{Hook: preflightEvents(progress)}); err != nil {
		return "", fmt.Errorf("lab: building the lab image: %w", err)
	}
	// One build per recipe at a time on this machine: parallel tests and
	// programs wait for the first and then reuse its image.
	unlock, err := flock.Lock(ctx, filepath.Join(os.TempDir(), "planetstage-image-"+strings.TrimPrefix(tag, ImageRepository+":")+".lock"), 0o600)
	if err != nil {
		return "", err
	}
	defer unlock()
	if ok, err := d.imageExists(tag); err != nil || ok {
		return tag, err
	}
	start := time.Now()
	progress(Event{Phase: PhaseImage, Detail: tag})
	err = buildImage(ctx, d, r, tag, opts.Mirror)
	progress(Event{Phase: PhaseImage, Detail: tag, Done: true, Elapsed: time.Since(start), Err: err})
	if err != nil {
		return "", err
	}
	return tag, nil
}

func buildImage(ctx context.Context, d *engine, r Recipe, tag, mirror string) error {
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
	changes := []string{
		"ENTRYPOINT " + jsonArray(r.Entrypoint),
		"LABEL io.planetstage.recipe=" + strings.TrimPrefix(tag, ImageRepository+":"),
	}
	if err := d.importImage(ctx, rootfs, tag, changes); err != nil {
		return fmt.Errorf("lab: import node image: %w", err)
	}
	return nil
}

// ImageRequirements are what building the lab's image needs from this
// machine: mmdebstrap, run as root. EnsureImage checks them before it
// builds (not when the image is there) and installs mmdebstrap with
// apt-get when it runs as root.
func ImageRequirements() []preflight.Requirement {
	const why = "the lab's image (mmdebstrap --mode=root)"
	return []preflight.Requirement{
		preflight.Command("mmdebstrap", "mmdebstrap", why),
		preflight.Root(why),
	}
}

// preflightEvents shows a preflight's install as a lab phase.
func preflightEvents(progress func(Event)) plan.Hook {
	return plan.HookFunc(func(e plan.Event) {
		s := e.Step
		progress(Event{Phase: PhasePackages, Detail: s.Target, Done: e.Kind == plan.Finished, Elapsed: s.Duration, Err: s.Err})
	})
}

func jsonArray(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = fmt.Sprintf("%q", w)
	}
	return "[" + strings.Join(quoted, ",") + "]"
}
