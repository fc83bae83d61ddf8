// Package preflight checks, before any long work starts, that this machine
// has what the work needs (programs, C libraries, a Docker engine, root),
// installs what Debian's packages provide when it may, and otherwise stops
// at once with the one command to run.
//
// A cold build of the lab's Kubernetes node image compiles for a quarter of
// an hour before it first needs libseccomp; without a preflight, a missing
// -dev package fails it there. With one, the same run either installs the
// package in seconds (as root, with apt-get) or ends in a second with
//
//	this machine lacks what the work needs:
//	  - the C library libseccomp (found by pkg-config), for runc's seccomp filters in the node image: Debian package libseccomp-dev
//	run: sudo apt-get install -y libseccomp-dev
//
// Requirements come from the packages that know them (k8snode.Requirements,
// the lab's image build); Ensure checks a list of them.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/planetstage/planetstage/internal/proc"
	"github.com/planetstage/planetstage/plan"
)

// Requirement is one thing some work needs from this machine.
type Requirement struct {
	// Name is what is needed, as messages name it: "mmdebstrap",
	// "libseccomp (pkg-config module libseccomp)".
	Name string
	// For says which work needs it.
	For string
	// Package is the Debian package that provides it; empty when no
	// package does (then Hint says what to do).
	Package string
	// Hint is what to do when Package is empty or cannot be installed.
	Hint string
	// Check returns nil when the requirement is met, or why it is not.
	Check func(ctx context.Context) error
}

// checkTimeout bounds one Check: a hung Docker engine must not hang the
// preflight that exists to fail fast.
const checkTimeout = 15 * time.Second

func (r Requirement) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	return r.Check(ctx)
}

// Command requires an executable on PATH, provided by Debian package pkg.
func Command(name, pkg, forWhat string) Requirement {
	return Requirement{Name: name, For: forWhat, Package: pkg, Check: func(context.Context) error {
		_, err := exec.LookPath(name)
		return err
	}}
}

// PkgConfig requires a C library that pkg-config knows as module, with its
// headers, provided by Debian package pkg (a -dev package). It needs
// pkg-config itself too; list Command("pkg-config", …) before it.
func PkgConfig(module, pkg, forWhat string) Requirement {
	return Requirement{Name: "the C library " + module + " (found by pkg-config)",
		For: forWhat, Package: pkg, Check: func(ctx context.Context) error {
			out, err := proc.Command(ctx, "pkg-config", "--exists", "--print-errors", module).CombinedOutput()
			if err != nil {
				return fmt.Errorf("pkg-config --exists %s: %w: %s", module, err, strings.TrimSpace(string(out)))
			}
			return nil
		}}
}

// DockerEngine requires a Docker engine that answers the docker CLI.
func DockerEngine(forWhat string) Requirement {
	return Requirement{Name: "a Docker engine", For: forWhat,
		Hint: "start the engine (`systemctl start docker`, or run dockerd) and check that `docker version` shows a Server",
		Check: func(ctx context.Context) error {
			out, err := proc.Command(ctx, "docker", "version", "--format", "{{.Server.Version}}").CombinedOutput()
			if err != nil {
				return fmt.Errorf("docker version: %w: %s", err, strings.TrimSpace(string(out)))
			}
			return nil
		}}
}

// Root requires this process to run as root.
func Root(forWhat string) Requirement {
	return Requirement{Name: "root", For: forWhat, Hint: "run it as root (or with sudo)",
		Check: func(context.Context) error {
			if os.Geteuid() != 0 {
				return fmt.Errorf("running as uid %d", os.Geteuid())
			}
			return nil
		}}
}

// Installer installs Debian packages.
type Installer func(ctx context.Context, packages []string) error

// Options tune Ensure.
type Options struct {
	// Install installs missing packages. Nil: apt-get (see Apt) when this
	// process runs as root and apt-get is on PATH; otherwise nothing is
	// installed and the error names the command to run.
	Install Installer
	// NoInstall never installs; Ensure only checks.
	NoInstall bool
	// Hook sees the install as one step (ID "preflight/install", Target
	// the apt-get command, Reason what needs the packages): a Started and
	// a Finished event. Nil: no events.
	Hook plan.Hook
}

// MissingError is what Ensure returns when requirements stay unmet.
type MissingError struct {
	// Missing are the unmet requirements, in the order they were asked for.
	Missing []Requirement
	// Installed says whether an install was tried (and failed to provide
	// them); Cause is its error, if it returned one.
	Installed bool
	Cause     error
}

func (e *MissingError) Error() string {
	var b strings.Builder
	b.WriteString("this machine lacks what the work needs:")
	for _, r := range e.Missing {
		fmt.Fprintf(&b, "\n  - %s, for %s", r.Name, r.For)
		switch {
		case r.Package != "":
			fmt.Fprintf(&b, ": Debian package %s", r.Package)
		case r.Hint != "":
			fmt.Fprintf(&b, ": %s", r.Hint)
		}
	}
	if e.Installed {
		b.WriteString("\ninstalling them did not help")
		if e.Cause != nil {
			fmt.Fprintf(&b, ": %v", e.Cause)
		}
	}
	if cmd := installCommand(e.Packages()); cmd != "" {
		b.WriteString("\nrun: ")
		if os.Geteuid() != 0 {
			b.WriteString("sudo ")
		}
		b.WriteString(cmd)
	}
	return b.String()
}

func (e *MissingError) Unwrap() error { return e.Cause }

// Packages are the Debian packages that would provide what is missing.
func (e *MissingError) Packages() []string { return packages(e.Missing) }

func packages(reqs []Requirement) []string {
	var pkgs []string
	for _, r := range reqs {
		if r.Package != "" && !slices.Contains(pkgs, r.Package) {
			pkgs = append(pkgs, r.Package)
		}
	}
	return pkgs
}

func installCommand(pkgs []string) string {
	if len(pkgs) == 0 {
		return ""
	}
	return "apt-get install -y " + strings.Join(pkgs, " ")
}

// Ensure checks every requirement; when some are missing that Debian
// packages provide, it installs those packages (see Options.Install) and
// checks again. It returns the packages it installed, or a *MissingError
// naming everything still missing and the command that would provide it.
// Requirements with the same Name are checked once.
func Ensure(ctx context.Context, reqs []Requirement, o Options) (installed []string, err error) {
	missing, err := unmet(ctx, dedupe(reqs))
	if err != nil || len(missing) == 0 {
		return nil, err
	}
	pkgs := packages(missing)
	install := o.Install
	if install == nil && os.Geteuid() == 0 {
		if _, err := exec.LookPath("apt-get"); err == nil {
			install = Apt
		}
	}
	if o.NoInstall || install == nil || len(pkgs) == 0 {
		return nil, &MissingError{Missing: missing}
	}
	step := plan.StepResult{ID: "preflight/install", Layer: "preflight", Target: installCommand(pkgs), Action: plan.Create,
		Reason: "needed for " + strings.Join(purposes(missing), "; "), Start: time.Now()}
	if o.Hook != nil {
		o.Hook.OnEvent(plan.Event{Kind: plan.Started, Step: step})
	}
	ierr := install(ctx, pkgs)
	if o.Hook != nil {
		step.Duration, step.Outcome, step.Err = time.Since(step.Start), plan.Done, ierr
		if ierr != nil {
			step.Outcome = plan.Failed
		}
		o.Hook.OnEvent(plan.Event{Kind: plan.Finished, Step: step})
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	still, err := unmet(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(still) > 0 || ierr != nil {
		if len(still) == 0 {
			still = missing
		}
		return nil, &MissingError{Missing: still, Installed: true, Cause: ierr}
	}
	return pkgs, nil
}

func dedupe(reqs []Requirement) []Requirement {
	var out []Requirement
	for _, r := range reqs {
		if !slices.ContainsFunc(out, func(o Requirement) bool { return o.Name == r.Name }) {
			out = append(out, r)
		}
	}
	return out
}

func unmet(ctx context.Context, reqs []Requirement) ([]Requirement, error) {
	var missing []Requirement
	for _, r := range reqs {
		if r.check(ctx) != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			missing = append(missing, r)
		}
	}
	return missing, nil
}

func purposes(reqs []Requirement) []string {
	var out []string
	for _, r := range reqs {
		if r.For != "" && !slices.Contains(out, r.For) {
			out = append(out, r.For)
		}
	}
	return out
}

// Apt installs packages with apt-get, waiting up to five minutes for
// another apt (unattended upgrades, a parallel job) to release its lock.
// When a package is unknown, as on a machine whose package lists were
// never downloaded, it runs apt-get update once and tries again.
func Apt(ctx context.Context, pkgs []string) error {
	install := func() (string, error) {
		args := append([]string{"-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends"}, pkgs...)
		cmd := proc.Command(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := install()
	if err == nil || ctx.Err() != nil {
		return err
	}
	if strings.Contains(out, "Unable to locate package") || strings.Contains(out, "has no installation candidate") {
		if uout, uerr := proc.Command(ctx, "apt-get", "-o", "DPkg::Lock::Timeout=300", "update").CombinedOutput(); uerr != nil {
			return fmt.Errorf("apt-get update: %w: %s", uerr, tail(string(uout)))
		}
		if out, err = install(); err == nil {
			return nil
		}
	}
	return errors.New(installCommand(pkgs) + ": " + err.Error() + ": " + tail(out))
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1024 {
		s = "…" + s[len(s)-1024:]
	}
	return s
}
