package k8snode

import (
	"context"
	"fmt"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/preflight"
)

// Requirements are what a cold Build needs from this machine besides Go
// itself: cgo for runc (gcc, pkg-config, libseccomp's headers), mmdebstrap
// for the root file systems (which it builds as root), and a Docker engine
// to load the image. Build checks them before the first stage it has to
// build, and installs the missing Debian packages when it runs as root
// (see Options.Preflight); a fully cached Build needs none of them.
func Requirements() []preflight.Requirement {
	const runc = "runc's seccomp filters in the node image (built with cgo)"
	const rootfs = "the node image's root file systems"
	return []preflight.Requirement{
		preflight.Command("gcc", "gcc", runc),
		preflight.Command("pkg-config", "pkg-config", runc),
		preflight.PkgConfig("libseccomp", "libseccomp-dev", runc),
		preflight.Command("mmdebstrap", "mmdebstrap", rootfs),
		preflight.Root(rootfs + " (mmdebstrap --mode=root)"),
		preflight.DockerEngine("loading the node image"),
	}
}

// ensureTools runs the preflight once per Build, before the first stage
// that has to be built.
func (b *builder) ensureTools(ctx context.Context) error {
	b.toolsMu.Lock()
	defer b.toolsMu.Unlock()
	if b.toolsChecked {
		return nil
	}
	o := b.opts.Preflight
	if o.Hook == nil && b.opts.Hook != nil {
		o.Hook = plan.HookFunc(b.onEvent)
	}
	reqs := Requirements
	if b.requirements != nil {
		reqs = b.requirements
	}
	installed, err := preflight.Ensure(ctx, reqs(), o)
	if err != nil {
		return fmt.Errorf("building the node image: %w", err)
	}
	if len(installed) > 0 {
		b.log.Info("preflight: installed", "packages", installed)
	}
	b.toolsChecked = true
	return nil
}
