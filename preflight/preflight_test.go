package preflight

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/plan"
)

// fakeMachine stands in for the packages of a machine: a requirement is
// met when its package is "installed". The installer is the seam Ensure
// offers for apt-get, which a test must not run on the machine it runs on.
type fakeMachine struct {
	installed map[string]bool
	checks    map[string]int
	installs  [][]string
	fail      error // the installer's error
	ignore    bool  // the installer "succeeds" but installs nothing
}

func newFake(installed ...string) *fakeMachine {
	f := &fakeMachine{installed: map[string]bool{}, checks: map[string]int{}}
	for _, p := range installed {
		f.installed[p] = true
	}
	return f
}

func (f *fakeMachine) req(name, pkg string) Requirement {
	return Requirement{Name: name, For: "the " + name + " test", Package: pkg, Check: func(context.Context) error {
		f.checks[name]++
		if !f.installed[pkg] {
			return errors.New(name + " missing")
		}
		return nil
	}}
}

func (f *fakeMachine) install(_ context.Context, pkgs []string) error {
	f.installs = append(f.installs, pkgs)
	if f.fail != nil || f.ignore {
		return f.fail
	}
	for _, p := range pkgs {
		f.installed[p] = true
	}
	return nil
}

func TestEnsureMetRequirementsInstallNothing(t *testing.T) {
	f := newFake("gcc", "pkg-config")
	got, err := Ensure(context.Background(), []Requirement{f.req("gcc", "gcc"), f.req("pkg-config", "pkg-config")}, Options{Install: f.install})
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Empty(t, f.installs)
}

func TestEnsureInstallsWhatIsMissingOnceAndChecksAgain(t *testing.T) {
	f := newFake("gcc")
	var events []plan.Event
	reqs := []Requirement{f.req("gcc", "gcc"), f.req("libseccomp", "libseccomp-dev"), f.req("pkg-config", "pkg-config"), f.req("libseccomp", "libseccomp-dev")}
	got, err := Ensure(context.Background(), reqs, Options{Install: f.install, Hook: plan.HookFunc(func(e plan.Event) { events = append(events, e) })})
	require.NoError(t, err)
	assert.Equal(t, []string{"libseccomp-dev", "pkg-config"}, got)
	assert.Equal(t, [][]string{{"libseccomp-dev", "pkg-config"}}, f.installs, "one install for everything missing")
	assert.Equal(t, 2, f.checks["libseccomp"], "checked before and after the install, once despite being listed twice")
	assert.Equal(t, 1, f.checks["gcc"], "what was there is not checked again")
	require.Len(t, events, 2, "the install is one step")
	assert.Equal(t, plan.Started, events[0].Kind)
	done := events[1].Step
	assert.Equal(t, plan.Finished, events[1].Kind)
	assert.Equal(t, "preflight/install", done.ID)
	assert.Equal(t, "apt-get install -y libseccomp-dev pkg-config", done.Target)
	assert.Equal(t, "needed for the libseccomp test; the pkg-config test", done.Reason)
	assert.Equal(t, plan.Done, done.Outcome)
}

func TestEnsureWithoutInstallNamesEverythingAndTheCommand(t *testing.T) {
	f := newFake()
	docker := Requirement{Name: "a Docker engine", For: "the lab", Hint: "start the engine", Check: func(context.Context) error { return errors.New("down") }}
	_, err := Ensure(context.Background(), []Requirement{f.req("mmdebstrap", "mmdebstrap"), docker, f.req("pkg-config", "pkg-config")},
		Options{Install: f.install, NoInstall: true})
	var me *MissingError
	require.ErrorAs(t, err, &me)
	assert.Empty(t, f.installs, "NoInstall installs nothing")
	assert.Equal(t, []string{"mmdebstrap", "pkg-config"}, me.Packages())
	msg := err.Error()
	assert.Contains(t, msg, "mmdebstrap, for the mmdebstrap test: Debian package mmdebstrap")
	assert.Contains(t, msg, "a Docker engine, for the lab: start the engine")
	assert.True(t, strings.HasSuffix(msg, "apt-get install -y mmdebstrap pkg-config"), msg)
	assert.NotContains(t, msg, "did not help")
}

func TestEnsureNothingToInstallForHintOnlyRequirements(t *testing.T) {
	f := newFake()
	root := Requirement{Name: "root", For: "the images", Hint: "run it as root", Check: func(context.Context) error { return errors.New("uid 1000") }}
	_, err := Ensure(context.Background(), []Requirement{root}, Options{Install: f.install})
	require.Error(t, err)
	assert.Empty(t, f.installs, "no package provides root")
	assert.NotContains(t, err.Error(), "run:", "no command to give")
	assert.Contains(t, err.Error(), "root, for the images: run it as root")
}

func TestEnsureReportsAFailedInstall(t *testing.T) {
	f := newFake()
	f.fail = errors.New("E: Unable to locate package libseccomp-dev")
	_, err := Ensure(context.Background(), []Requirement{f.req("libseccomp", "libseccomp-dev")}, Options{Install: f.install})
	var me *MissingError
	require.ErrorAs(t, err, &me)
	assert.True(t, me.Installed)
	assert.ErrorIs(t, err, f.fail)
	assert.Contains(t, err.Error(), "installing them did not help: E: Unable to locate package")
}

func TestEnsureReportsAnInstallThatProvidedNothing(t *testing.T) {
	f := newFake()
	f.ignore = true
	_, err := Ensure(context.Background(), []Requirement{f.req("mmdebstrap", "mmdebstrap"), f.req("gcc", "gcc")}, Options{Install: f.install})
	var me *MissingError
	require.ErrorAs(t, err, &me)
	assert.Len(t, me.Missing, 2)
	assert.True(t, me.Installed)
	assert.Contains(t, err.Error(), "installing them did not help")
}

func TestEnsureStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake()
	install := func(ctx context.Context, pkgs []string) error { cancel(); return ctx.Err() }
	_, err := Ensure(ctx, []Requirement{f.req("gcc", "gcc")}, Options{Install: install})
	assert.ErrorIs(t, err, context.Canceled)
}

// The built-in checks against this machine's real programs.
func TestCommandAndPkgConfigChecks(t *testing.T) {
	ctx := context.Background()
	assert.NoError(t, Command("sh", "dash", "a shell").Check(ctx))
	assert.Error(t, Command("planetstage-no-such-program", "x", "nothing").Check(ctx))
	if _, err := exec.LookPath("pkg-config"); err != nil {
		t.Skip("needs pkg-config")
	}
	missing := PkgConfig("planetstage-no-such-library", "libplanetstage-dev", "nothing")
	err := missing.Check(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "planetstage-no-such-library")
	assert.Equal(t, "the C library planetstage-no-such-library (found by pkg-config)", missing.Name)
	out, err := exec.Command("pkg-config", "--list-all").Output()
	require.NoError(t, err)
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		t.Skip("pkg-config knows no library here")
	}
	assert.NoError(t, PkgConfig(fields[0], "whatever", "a present library").Check(ctx), "pkg-config knows %s", fields[0])
}

func TestRootCheck(t *testing.T) {
	err := Root("anything").Check(context.Background())
	assert.Equal(t, os.Geteuid() == 0, err == nil, "%v", err)
}

func TestDockerEngineCheck(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI")
	}
	answers := exec.Command("docker", "version", "--format", "{{.Server.Version}}").Run() == nil
	err := DockerEngine("a test").Check(context.Background())
	assert.Equal(t, answers, err == nil, "%v", err)
	// An engine that does not exist does not answer.
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/planetstage.sock")
	assert.Error(t, DockerEngine("a test").Check(context.Background()))
}
