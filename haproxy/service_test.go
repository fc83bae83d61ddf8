package haproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/planetstage/planetstage/plan"
	"github.com/planetstage/planetstage/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRunner is a recording stand-in for a remote host, for checking the
// order of commands where the real situation (systemd, a host without
// haproxy, apt) cannot be set up here. Files live in a map; each command
// is answered by respond, matched on a substring.
type fakeRunner struct {
	mu      sync.Mutex
	cmds    []string
	files   map[string][]byte
	respond map[string]fakeAnswer
}

type fakeAnswer struct {
	out    string
	status int
}

var _ remote.Runner = (*fakeRunner)(nil)

func (f *fakeRunner) Host() string { return "fake-lb" }

func (f *fakeRunner) Run(_ context.Context, c remote.Cmd) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, c.Command)
	// The longest matching key wins, so specific answers override general ones.
	best := ""
	for k := range f.respond {
		if strings.Contains(c.Command, k) && len(k) > len(best) {
			best = k
		}
	}
	a := f.respond[best] // zero (success, no output) when nothing matched
	if c.Stdout != nil {
		io.WriteString(c.Stdout, a.out)
	}
	if a.status == 0 {
		f.mimicSwap(c.Command)
	}
	if a.status != 0 {
		return &remote.ExitError{Host: f.Host(), Command: c.Command, Status: a.status}
	}
	return nil
}

// mimicSwap does to the files what Apply's swap and restore commands do
// on a real host: keep the old config, move the candidate in; or move the
// kept one back.
func (f *fakeRunner) mimicSwap(cmd string) {
	const path = DefaultConfigPath
	switch {
	case strings.Contains(cmd, "mv -f "+path+".planetstage-new "+path):
		if old, ok := f.files[path]; ok {
			f.files[path+".planetstage-old"] = old
		}
		f.files[path] = f.files[path+".planetstage-new"]
		delete(f.files, path+".planetstage-new")
	case strings.Contains(cmd, "mv -f "+path+".planetstage-old "+path):
		f.files[path] = f.files[path+".planetstage-old"]
		delete(f.files, path+".planetstage-old")
	}
}

func (f *fakeRunner) WriteFile(_ context.Context, path string, data []byte, _ fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[path] = slices.Clone(data)
	return nil
}

func (f *fakeRunner) ReadFile(_ context.Context, path string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.files[path]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return d, nil
}

// index returns the position of the first command containing s, or -1.
func (f *fakeRunner) index(s string) int {
	return slices.IndexFunc(f.cmds, func(c string) bool { return strings.Contains(c, s) })
}

func newFake(answers map[string]fakeAnswer) *fakeRunner {
	return &fakeRunner{files: map[string][]byte{DefaultConfigPath: []byte("old config\n")}, respond: answers}
}

const (
	cmdHasHAProxy = "command -v haproxy >/dev/null"
	cmdSystemd    = "test -d /run/systemd/system"
	cmdCheck      = "haproxy -c -f"
	cmdIsActive   = "systemctl is-active --quiet haproxy"
)

func thesisConfig(t *testing.T) Config {
	return mustKubeAPI(t, KubeAPIOptions{Servers: thesisMasters()})
}

func TestApplyRefusedConfigChangesNothing(t *testing.T) {
	t.Parallel()
	alert := "[ALERT]    (42) : config : parsing [haproxy.cfg.planetstage-new:48] : 'server master01' : unable to load CA file"
	f := newFake(map[string]fakeAnswer{
		cmdSystemd: {status: 1},
		cmdCheck:   {out: alert, status: 1},
	})
	s := &Service{Runner: f}
	err := s.Apply(context.Background(), thesisConfig(t))
	var verr *ValidationError
	require.True(t, errors.As(err, &verr), "got %v", err)
	assert.Contains(t, err.Error(), "unable to load CA file", "haproxy's own message")
	assert.Contains(t, err.Error(), "fake-lb")
	assert.Equal(t, "old config\n", string(f.files[DefaultConfigPath]))
	assert.Equal(t, -1, f.index("mv -f"), "nothing moved into place")
	assert.Equal(t, -1, f.index("USR2"), "no reload")
	assert.Equal(t, -1, f.index("haproxy -W"), "no start")
	assert.Greater(t, f.index("rm -f /etc/haproxy/haproxy.cfg.planetstage-new"), f.index(cmdCheck), "candidate removed")
}

func TestApplySystemdValidatesThenReloads(t *testing.T) {
	t.Parallel()
	f := newFake(map[string]fakeAnswer{cmdSystemd: {}, cmdIsActive: {}})
	s := &Service{Runner: f}
	require.NoError(t, s.Apply(context.Background(), thesisConfig(t)))
	check, move, reload := f.index(cmdCheck), f.index("mv -f"), f.index("systemctl reload haproxy")
	require.NotEqual(t, -1, reload, "commands: %q", f.cmds)
	assert.Less(t, check, move)
	assert.Less(t, move, reload)
	want, err := Render(thesisConfig(t))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(f.files[DefaultConfigPath]))
	assert.Equal(t, string(loadedMark(want)), string(f.files[DefaultConfigPath+".planetstage-loaded"]), "the reload is recorded")
	swap := f.cmds[move]
	forget := strings.Index(swap, "rm -f /etc/haproxy/haproxy.cfg.planetstage-loaded &&")
	require.NotEqual(t, -1, forget, "the swap forgets the old record: %q", swap)
	assert.Less(t, forget, strings.Index(swap, "mv -f"), "the old record goes before the new file comes")
	assert.Equal(t, -1, f.index("apt-get"), "haproxy present: no install")
}

func TestApplyInstallsMissingHAProxy(t *testing.T) {
	t.Parallel()
	f := newFake(map[string]fakeAnswer{cmdHasHAProxy: {status: 1}, cmdSystemd: {status: 1}})
	s := &Service{Runner: f}
	require.NoError(t, s.Apply(context.Background(), thesisConfig(t)))
	install := f.index("apt-get install -y --no-install-recommends haproxy")
	require.NotEqual(t, -1, install)
	assert.Less(t, install, f.index(cmdCheck))
	assert.NotEqual(t, -1, f.index("haproxy -W -D -p \"$pf\""), "master-worker without systemd")
}

func TestApplyWithoutAptFails(t *testing.T) {
	t.Parallel()
	f := newFake(map[string]fakeAnswer{cmdHasHAProxy: {status: 1}, "command -v apt-get": {status: 3}})
	s := &Service{Runner: f}
	err := s.Apply(context.Background(), thesisConfig(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "haproxy on fake-lb: install")
	assert.Equal(t, -1, f.index(cmdCheck), "stopped before writing anything")
	assert.Equal(t, "old config\n", string(f.files[DefaultConfigPath]))
}

func TestApplyFailedReloadRestoresOldConfig(t *testing.T) {
	t.Parallel()
	f := newFake(map[string]fakeAnswer{cmdSystemd: {}, "then systemctl reload haproxy && echo reloaded": {status: 1}, cmdIsActive: {}})
	s := &Service{Runner: f}
	err := s.Apply(context.Background(), thesisConfig(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reload (systemd)")
	assert.Greater(t, f.index("mv -f /etc/haproxy/haproxy.cfg.planetstage-old"), f.index("systemctl reload"), "old config restored: %q", f.cmds)
	assert.Equal(t, "old config\n", string(f.files[DefaultConfigPath]))
	assert.NotContains(t, f.files, DefaultConfigPath+".planetstage-loaded", "no record of a load that failed")
}

func TestInspect(t *testing.T) {
	t.Parallel()
	want, err := Render(thesisConfig(t))
	require.NoError(t, err)
	tests := []struct {
		name    string
		config  []byte // nil: no file
		loaded  []byte // the record of what haproxy loaded; nil: none
		answers map[string]fakeAnswer
		action  plan.Action
		reason  string
	}{
		{"haproxy missing", nil, nil, map[string]fakeAnswer{cmdHasHAProxy: {status: 1}}, plan.Create, "install haproxy"},
		{"no config", nil, nil, map[string]fakeAnswer{}, plan.Create, "write /etc/haproxy/haproxy.cfg"},
		{"config differs", []byte(strings.Replace(string(want), "master03", "master09", 1)), loadedMark(want), map[string]fakeAnswer{cmdSystemd: {}}, plan.Update, "+server master03 192.168.10.103:6443 check; -server master09"},
		{"not running", want, loadedMark(want), map[string]fakeAnswer{cmdSystemd: {}, cmdIsActive: {status: 3}}, plan.Update, "not running"},
		{"up to date", want, loadedMark(want), map[string]fakeAnswer{cmdSystemd: {}}, plan.NoOp, "up to date"},
		// An apply stopped between moving the file in and the reload.
		{"load not recorded", want, nil, map[string]fakeAnswer{cmdSystemd: {}}, plan.Update, "nothing records that haproxy loaded it"},
		{"another config loaded", want, loadedMark([]byte("old config\n")), map[string]fakeAnswer{cmdSystemd: {}}, plan.Update, "haproxy last loaded another config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeRunner{files: map[string][]byte{}, respond: tt.answers}
			if tt.config != nil {
				f.files[DefaultConfigPath] = tt.config
			}
			if tt.loaded != nil {
				f.files[DefaultConfigPath+".planetstage-loaded"] = tt.loaded
			}
			s := &Service{Runner: f}
			c, err := s.Inspect(context.Background(), thesisConfig(t))
			require.NoError(t, err)
			assert.Equal(t, tt.action, c.Action)
			assert.Contains(t, c.Reason, tt.reason)
			for _, cmd := range f.cmds {
				assert.NotContains(t, cmd, "mv ", "inspect changes nothing")
				assert.NotContains(t, cmd, "apt-get", "inspect changes nothing")
			}
		})
	}
}

func TestInspectRemoveLeavesForeignConfig(t *testing.T) {
	t.Parallel()
	ours, err := Render(thesisConfig(t))
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		files  map[string][]byte
		action plan.Action
	}{
		{"ours", map[string][]byte{DefaultConfigPath: ours}, plan.Delete},
		{"someone else's", map[string][]byte{DefaultConfigPath: []byte("global\n")}, plan.NoOp},
		{"none", map[string][]byte{}, plan.NoOp},
	} {
		f := &fakeRunner{files: tt.files}
		c, err := (&Service{Runner: f}).InspectRemove(context.Background())
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.action, c.Action, tt.name)
		assert.Empty(t, f.cmds, "inspect runs nothing")
	}
}
