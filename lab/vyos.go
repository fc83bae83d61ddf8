package lab

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/planetstage/planetstage/internal/flock"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/vyos/vyosstandin"
)

// Environment variables that name a real VyOS image when Options does not
// (see Options.VyOSImage).
const (
	EnvVyOSImage   = "PLANETSTAGE_VYOS_IMAGE"
	EnvVyOSVersion = "PLANETSTAGE_VYOS_VERSION"
)

// StandinRepository is the repository of the VyOS stand-in images; the tag
// is a hash of the node image and the stand-in's program.
const StandinRepository = "planetstage/vyos-standin"

// RouterKind says what runs a router of the lab.
type RouterKind string

// What runs a lab's router.
const (
	// RouterLinux is a Linux router: openvpn and ip, configured by
	// package openvpn.
	RouterLinux RouterKind = "linux"
	// RouterVyOSStandin is a router of kind vyos in the VyOS stand-in
	// (package vyosstandin): configured by package vyos over SSH like a
	// VyOS router, realised with Debian's openvpn and ip. Not VyOS.
	RouterVyOSStandin RouterKind = "vyos-standin"
	// RouterVyOS is a router of kind vyos in a real VyOS image the user
	// supplied (Options.VyOSImage).
	RouterVyOS RouterKind = "vyos"
)

// RouterRun is what runs one router of the lab.
type RouterRun struct {
	Name string     `json:"name"`
	Kind RouterKind `json:"kind"`
	// Version is the VyOS version the router runs or plays.
	Version string `json:"version,omitempty"`
	// Image is the real VyOS image (RouterVyOS only).
	Image string `json:"image,omitempty"`
}

// String says it in words: "vyos01: VyOS 1.2 stand-in (not VyOS)".
func (r RouterRun) String() string {
	switch r.Kind {
	case RouterVyOSStandin:
		return fmt.Sprintf("%s: VyOS %s stand-in (not VyOS)", r.Name, r.Version)
	case RouterVyOS:
		return fmt.Sprintf("%s: real VyOS %s (image %s)", r.Name, r.Version, r.Image)
	}
	return r.Name + ": Linux"
}

// Routers says what runs each router of a lab made from a topology (nil
// for a lab made from a Spec, whose routers are Linux).
func (l *Lab) Routers() []RouterRun {
	t := l.Topology()
	if t == nil {
		return nil
	}
	var out []RouterRun
	for _, s := range t.Sites {
		out = append(out, l.routerRun(s.Router))
	}
	return out
}

func (l *Lab) routerRun(r topology.Router) RouterRun {
	switch {
	case r.Kind != topology.RouterVyOS:
		return RouterRun{Name: r.Name, Kind: RouterLinux}
	case l.vyosImage != "":
		return RouterRun{Name: r.Name, Kind: RouterVyOS, Version: r.Version, Image: l.vyosImage}
	}
	return RouterRun{Name: r.Name, Kind: RouterVyOSStandin, Version: r.Version}
}

// routerRunOf is routerRun for machine name of the lab's topology; a
// machine of a Spec lab, or a host, is Linux.
func (l *Lab) routerRunOf(name string) RouterRun {
	if t := l.Topology(); t != nil {
		for _, s := range t.Sites {
			if s.Router.Name == name {
				return l.routerRun(s.Router)
			}
		}
	}
	return RouterRun{Name: name, Kind: RouterLinux}
}

// vyosOptions reads the real VyOS image from opts, or from the
// environment, and checks its version.
func vyosOptions(opts Options) (image, version string, err error) {
	image, version = opts.VyOSImage, opts.VyOSVersion
	if image == "" {
		image, version = os.Getenv(EnvVyOSImage), os.Getenv(EnvVyOSVersion)
	}
	if image == "" {
		return "", "", nil
	}
	if version == "" {
		return "", "", fmt.Errorf("lab: VyOSVersion (%s): say which VyOS version the image %s runs (1.2 … 1.5)", EnvVyOSVersion, image)
	}
	if _, err := vyos.ParseVersion(version); err != nil {
		return "", "", fmt.Errorf("lab: VyOSVersion (%s): %w", EnvVyOSVersion, err)
	}
	return image, version, nil
}

// adaptRouter adapts a router of kind vyos to what the lab runs it in,
// and says how in a note.
func (l *Lab) adaptRouter(r *topology.Router) (note string) {
	if r.Kind != topology.RouterVyOS {
		return ""
	}
	if l.vyosImage != "" {
		note = fmt.Sprintf("router %s runs real VyOS %s from image %s, configured by package vyos over SSH", r.Name, l.vyosVersion, l.vyosImage)
		if r.Version != l.vyosVersion {
			note = fmt.Sprintf("router %s (VyOS %s in the topology) runs real VyOS %s from image %s, configured by package vyos over SSH in that version's syntax",
				r.Name, r.Version, l.vyosVersion, l.vyosImage)
			r.Version = l.vyosVersion
		}
		return note
	}
	return fmt.Sprintf("router %s (VyOS %s) runs in the VyOS stand-in, not VyOS: package vyos configures it over SSH as a VyOS %s router (set, commit, save, read-back), and it realises the tunnels and routes with Debian's openvpn and ip (set %s to run a real VyOS image)",
		r.Name, r.Version, r.Version, EnvVyOSImage)
}

// vyosRun returns the image and the docker create flags of a VyOS router.
// The stand-in is a lab machine (docker-init reaps its daemons); real
// VyOS is started as VyOS's documentation says: privileged, the host's
// kernel modules read-only, its own init as PID 1.
func (l *Lab) vyosRun(ctx context.Context, run RouterRun) (image string, flags []string, err error) {
	if run.Kind == RouterVyOS {
		return run.Image, []string{"--privileged", "-v", "/lib/modules:/lib/modules:ro", "--entrypoint", "/sbin/init"}, nil
	}
	img, err := l.standinImage(ctx)
	if err != nil {
		return "", nil, err
	}
	return img, []string{"--init"}, nil
}

// prepareVyOS tells a stand-in router, before it first starts, which
// VyOS version it plays.
func (l *Lab) prepareVyOS(ctx context.Context, ctr string, run RouterRun) error {
	if run.Kind != RouterVyOSStandin {
		return nil
	}
	files, err := tarOf(map[string][]byte{"etc/vyos-standin/version": []byte(run.Version + "\n")})
	if err != nil {
		return err
	}
	return l.d.upload(ctx, ctr, "/", bytes.NewReader(files))
}

// bootstrapVyOS makes a started real VyOS router reachable as on
// hardware: once its configuration system accepts a commit, the lab's
// public key is installed for the user vyos, and SSH and the addresses
// of eth0 and eth1 are set, all through VyOS's own configuration (the
// same set commands package vyos then finds in place).
func (l *Lab) bootstrapVyOS(ctx context.Context, m Machine, run RouterRun) error {
	if run.Kind != RouterVyOS {
		return nil
	}
	_, pub, err := l.keys.clientKey()
	if err != nil {
		return err
	}
	fields := strings.Fields(string(ssh.MarshalAuthorizedKey(pub)))
	site, _ := l.site(m.Site)
	spec := l.Spec()
	script := strings.Join([]string{
		"source /opt/vyatta/etc/functions/script-template",
		"configure",
		"set system login user vyos authentication public-keys planetstage-lab type " + fields[0],
		"set system login user vyos authentication public-keys planetstage-lab key " + fields[1],
		"set service ssh port 22",
		fmt.Sprintf("set interfaces ethernet eth0 address %s/%d", m.Addresses[0], spec.Underlay.Bits()),
		fmt.Sprintf("set interfaces ethernet eth1 address %s/%d", m.Address, site.Prefix.Bits()),
		"commit",
		"save",
		"exit",
		"echo 'planetstage: bootstrap done'",
	}, "\n") + "\n"
	ctr := l.ContainerName(m.Name)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var out string
	for {
		// As the user vyos: configuration scripts run as root leave files
		// that break later CLI editing (VyOS's command-scripting docs).
		var buf bytes.Buffer
		var status int
		status, err = l.d.exec(ctx, execSpec{Container: ctr, User: "vyos", Cmd: []string{"/bin/vbash", "-s"},
			Stdin: strings.NewReader(script), Stdout: &buf, Stderr: &buf})
		out = buf.String()
		if err == nil && status != 0 {
			err = fmt.Errorf("vbash exited with status %d", status)
		}
		if err == nil && strings.Contains(out, "planetstage: bootstrap done") && !strings.Contains(out, "failed") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("VyOS in %s did not accept the lab's configuration within 5 minutes: %v: %s", ctr, err, tail(strings.TrimSpace(out), 1024))
		case <-time.After(2 * time.Second):
		}
	}
}

// loginAs is the SSH login of a real VyOS router (and of a jump through
// one): the user vyos, which bootstrapVyOS gave the lab's key. VyOS's sshd
// refuses root.
func (l *Lab) loginAs(cfg remote.SSHConfig) remote.SSHConfig {
	if l.vyosImage == "" {
		return cfg
	}
	if l.routerRunOf(cfg.Name).Kind == RouterVyOS {
		cfg.User = "vyos"
	}
	if cfg.Jump != nil {
		jump := l.loginAs(*cfg.Jump)
		cfg.Jump = &jump
	}
	return cfg
}

func (l *Lab) site(name string) (Site, bool) {
	for _, s := range l.Spec().Sites {
		if s.Name == name {
			return s, true
		}
	}
	return Site{}, false
}

// ensureStandin builds (or finds) the stand-in image when a router runs
// in it, before any machine starts, so that the build is a phase of Up
// rather than part of the first router's start.
func (l *Lab) ensureStandin(ctx context.Context) error {
	for _, r := range l.Routers() {
		if r.Kind == RouterVyOSStandin {
			_, err := l.standinImage(ctx)
			return err
		}
	}
	return nil
}

// standinImage returns the VyOS stand-in image, building it once per Lab
// when the engine does not have it.
func (l *Lab) standinImage(ctx context.Context) (string, error) {
	l.standinMu.Lock()
	defer l.standinMu.Unlock()
	if l.standinImg != "" {
		return l.standinImg, nil
	}
	start := time.Now()
	l.progress(Event{Phase: PhaseStandinImage})
	img, cached, err := ensureStandinImage(ctx, l.d, l.image)
	l.progress(Event{Phase: PhaseStandinImage, Detail: img, Done: true, Elapsed: time.Since(start), Err: err, Cached: cached})
	if err != nil {
		return "", fmt.Errorf("lab %q: %s: %w", l.name, PhaseStandinImage, err)
	}
	l.standinImg = img
	return img, nil
}

// StandinPackage is the Go package of the stand-in's vbash.
const StandinPackage = "github.com/planetstage/planetstage/vyos/vyosstandin/vbash"

// ensureStandinImage builds the stand-in's vbash (go build, static) and
// adds it to base as /bin/vbash, with its boot hook and a motd that says
// what it is: a container created, the files copied in, committed; nothing
// pulled. The tag is a
// hash of base's ID and the program, so an unchanged stand-in is reused.
func ensureStandinImage(ctx context.Context, d *engine, base string) (tag string, cached bool, err error) {
	dir, err := os.MkdirTemp("", "planetstage-standin-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "vbash")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, StandinPackage)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("go build %s (the stand-in is built from this program's module, with the go command): %w: %s", StandinPackage, err, tail(strings.TrimSpace(string(out)), 1024))
	}
	program, err := os.ReadFile(bin)
	if err != nil {
		return "", false, err
	}
	img, err := d.c.InspectImage(base)
	if err != nil {
		return "", false, fmt.Errorf("docker image inspect %s: %w", base, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "planetstage vyos stand-in v1\nbase %s\n", img.ID)
	h.Write(program)
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	tag = StandinRepository + ":" + sum
	if ok, err := d.imageExists(tag); err != nil || ok {
		return tag, ok, err
	}
	unlock, err := flock.Lock(ctx, filepath.Join(os.TempDir(), "planetstage-image-standin-"+sum+".lock"), 0o600)
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if ok, err := d.imageExists(tag); err != nil || ok {
		return tag, ok, err
	}
	files, err := tarOf(map[string][]byte{
		"usr/bin/vbash":                            program, // /bin/vbash: /bin is a link to usr/bin
		"etc/planetstage/boot.d/50-vyos-standin":   []byte("#!/bin/sh\n# The VyOS stand-in loads /config/config.boot at boot, as VyOS does.\nexec /bin/vbash --boot\n"),
		"opt/vyatta/etc/functions/script-template": []byte("# " + vyosstandin.Banner + "\n# /bin/vbash reads this line itself; there is no VyOS here.\n"),
		"etc/motd":                          []byte("\n" + vyosstandin.Banner + ".\nIt plays the VyOS version in /etc/vyos-standin/version; its log is /var/log/vyos-standin/.\n\n"),
		"usr/share/doc/vyos-standin/README": []byte(vyosstandin.Banner + ". Source: " + StandinPackage + ".\n"),
	})
	if err != nil {
		return "", false, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ctr := "planetstage-standin-build-" + hex.EncodeToString(b)
	if _, err := d.createContainer(ctx, containerSpec{Name: ctr, Image: base}); err != nil {
		return "", false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, d.removeContainer(cctx, ctr))
	}()
	if err := d.upload(ctx, ctr, "/", bytes.NewReader(files)); err != nil {
		return "", false, err
	}
	if err := d.commitContainer(ctx, ctr, tag, []string{"LABEL io.planetstage.vyos-standin=" + sum}); err != nil {
		return "", false, err
	}
	return tag, false, nil
}

// tarOf is an archive of files for docker cp: executables (an ELF or a
// script) 0755, others 0644. It has no directory entries: docker cp makes
// missing parents, and an entry for /bin would replace Debian's symlink.
func tarOf(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var errs []error
	for name, data := range files {
		mode := int64(0o644)
		if bytes.HasPrefix(data, []byte("#!")) || bytes.HasPrefix(data, []byte("\x7fELF")) {
			mode = 0o755
		}
		errs = append(errs, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Now()}))
		_, err := tw.Write(data)
		errs = append(errs, err)
	}
	errs = append(errs, tw.Close())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return buf.Bytes(), nil
}
