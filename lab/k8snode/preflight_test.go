package k8snode

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/preflight"
)

// The packages a cold build needs are the ones the first run on a fresh
// machine lacked (libseccomp-dev, pkg-config) and the rest of the build's
// tools.
func TestRequirementsNameThePackagesAColdBuildNeeds(t *testing.T) {
	var pkgs []string
	for _, r := range Requirements() {
		if r.Package != "" {
			pkgs = append(pkgs, r.Package)
		}
		assert.NotNil(t, r.Check, r.Name)
		assert.NotEmpty(t, r.For, r.Name)
	}
	assert.Equal(t, []string{"gcc", "pkg-config", "libseccomp-dev", "mmdebstrap"}, pkgs)
}

// A stage that has to be built runs the preflight first: a machine that
// lacks something fails at once, naming it, and the stage neither runs nor
// leaves a marker. A cached stage needs nothing and checks nothing.
func TestStagePreflightBeforeBuilding(t *testing.T) {
	b := testBuilder(t)
	b.toolsChecked = false
	checks := 0
	b.requirements = func() []preflight.Requirement {
		return []preflight.Requirement{{Name: "libseccomp", For: "runc", Package: "libseccomp-dev",
			Check: func(context.Context) error { checks++; return errors.New("missing") }}}
	}
	b.opts.Preflight = preflight.Options{NoInstall: true}
	final := filepath.Join(b.cache, "bin-x")
	ran := false
	err := b.stage(t.Context(), &Result{}, "binaries", final, func(context.Context, string) error { ran = true; return nil })
	var me *preflight.MissingError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, err.Error(), "apt-get install -y libseccomp-dev")
	assert.False(t, ran, "the stage must not start")
	assert.NoFileExists(t, filepath.Join(final, ".done"))

	cached := filepath.Join(b.cache, "rootfs-y")
	require.NoError(t, os.MkdirAll(cached, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cached, ".done"), nil, 0o644))
	checks = 0
	require.NoError(t, b.stage(t.Context(), &Result{}, "rootfs", cached, func(context.Context, string) error {
		t.Fatal("a cached stage must not run")
		return nil
	}))
	assert.Zero(t, checks, "a cached stage checks nothing")
}

// Every stage built and every component compiled is a step on the hook, so
// a cold build shows what it is doing as it goes.
func TestBuildStepsReachTheHook(t *testing.T) {
	b := testBuilder(t)
	var events []plan.Event
	b.opts.Hook = plan.HookFunc(func(e plan.Event) { events = append(events, e) })
	final := filepath.Join(b.cache, "bin-z")
	require.NoError(t, b.stage(t.Context(), &Result{}, "binaries", final, func(context.Context, string) error {
		return b.step("go/etcd", "go build etcd", func() error { return nil })
	}))
	boom := errors.New("boom")
	err := b.stage(t.Context(), &Result{}, "images", filepath.Join(b.cache, "img-z"), func(context.Context, string) error { return boom })
	require.ErrorIs(t, err, boom)

	type ev struct {
		kind    plan.EventKind
		id      string
		outcome plan.Outcome
	}
	var got []ev
	for _, e := range events {
		got = append(got, ev{e.Kind, e.Step.ID, e.Step.Outcome})
		if e.Kind == plan.Finished {
			assert.Positive(t, e.Step.Duration, e.Step.ID)
		}
	}
	assert.Equal(t, []ev{
		{plan.Started, "node-image/binaries", ""},
		{plan.Started, "node-image/go/etcd", ""},
		{plan.Finished, "node-image/go/etcd", plan.Done},
		{plan.Finished, "node-image/binaries", plan.Done},
		{plan.Started, "node-image/images", ""},
		{plan.Finished, "node-image/images", plan.Failed},
	}, got)
}
