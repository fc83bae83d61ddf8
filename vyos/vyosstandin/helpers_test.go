package vyosstandin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/secret"
	"github.com/planetstage/planetstage/tunnel"
	"github.com/planetstage/planetstage/vyos"
	"github.com/planetstage/planetstage/vyos/vyosstandin"
)

// recordingSystem is a test System: it records the commands and daemons
// realising asks for, and plays their effects (a started daemon runs and
// its interface exists) without touching this machine.
type recordingSystem struct {
	mu      sync.Mutex
	runs    []string
	starts  []string // ids, in order
	stops   []string
	daemons map[string][]string
	links   map[string]bool // made by "ip link add", removed by "ip link del"
	failRun string          // a command containing it fails
}

func newRecordingSystem() *recordingSystem {
	return &recordingSystem{daemons: map[string][]string{}, links: map[string]bool{}}
}

func (s *recordingSystem) Run(_ context.Context, argv ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := strings.Join(argv, " ")
	s.runs = append(s.runs, line)
	if s.failRun != "" && strings.Contains(line, s.failRun) {
		return fmt.Errorf("%s: exit status 2: RTNETLINK answers: No such device", line)
	}
	if len(argv) > 3 && argv[0] == "ip" && argv[1] == "link" {
		switch argv[2] {
		case "add":
			s.links[argv[3]] = true
		case "del":
			delete(s.links, argv[3])
		}
	}
	return nil
}

func (s *recordingSystem) Start(_ context.Context, id string, argv ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts = append(s.starts, id)
	s.daemons[id] = argv
	return nil
}

func (s *recordingSystem) Stop(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.daemons[id]; ok {
		s.stops = append(s.stops, id)
		delete(s.daemons, id)
	}
	return nil
}

func (s *recordingSystem) Running(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.daemons[id]
	return ok
}

func (s *recordingSystem) LinkExists(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.daemons {
		if strings.HasSuffix(id, " "+name) {
			return true
		}
	}
	return s.links[name] || strings.HasPrefix(name, "eth")
}

// reset forgets what was recorded, keeping the daemons.
func (s *recordingSystem) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runs, s.starts, s.stops = nil, nil, nil
}

// standinRunner is a remote.Runner on a stand-in in this process: what
// package vyos sends a router over SSH (the vbash script, file writes and
// reads under Root, ls and rm of /config/auth) reaches the stand-in and
// Root as it would reach the machine.
type standinRunner struct {
	r *vyosstandin.Router
}

func (s standinRunner) Host() string { return "standin" }

func (s standinRunner) Run(ctx context.Context, c remote.Cmd) error {
	out := c.Stdout
	if out == nil {
		out = io.Discard
	}
	in := c.Stdin
	if in == nil {
		in = strings.NewReader("")
	}
	switch {
	case c.Command == vyos.Shell:
		if st := s.r.Run(ctx, in, out); st != 0 {
			return &remote.ExitError{Host: s.Host(), Command: c.Command, Status: st}
		}
		return nil
	case strings.HasPrefix(c.Command, "ls -1 -- "):
		dir := strings.Fields(c.Command)[3]
		entries, _ := os.ReadDir(filepath.Join(s.r.Root, dir))
		for _, e := range entries {
			fmt.Fprintln(out, e.Name())
		}
		return nil
	case strings.HasPrefix(c.Command, "rm -f "):
		for _, p := range strings.Fields(strings.TrimPrefix(c.Command, "rm -f ")) {
			os.Remove(filepath.Join(s.r.Root, strings.Trim(p, "'")))
		}
		return nil
	}
	return fmt.Errorf("standinRunner: unexpected command %q", c.Command)
}

func (s standinRunner) WriteFile(_ context.Context, p string, data []byte, mode fs.FileMode) error {
	full := filepath.Join(s.r.Root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, data, mode)
}

func (s standinRunner) ReadFile(_ context.Context, p string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(s.r.Root, p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	}
	return data, err
}

// newStandin is a stand-in of d in a directory of the test's.
func newStandin(t *testing.T, d vyos.Dialect) (*vyosstandin.Router, *recordingSystem) {
	sys := newRecordingSystem()
	return &vyosstandin.Router{Dialect: d, Root: t.TempDir(), System: sys}, sys
}

// run runs script on r and returns its output and status.
func run(t *testing.T, r *vyosstandin.Router, script string) (string, int) {
	t.Helper()
	var out strings.Builder
	st := r.Run(context.Background(), strings.NewReader(script), &out)
	return out.String(), st
}

// configs builds the configurations of three thesis-shaped routers of
// dialect d, with auth.
func configs(t *testing.T, d vyos.Dialect, auth openvpn.Auth) []*vyos.Config {
	t.Helper()
	var sites []tunnel.Site
	for i := range 3 {
		lan := netip.AddrFrom4([4]byte{192, 168, byte(10 * (i + 1)), 1})
		sites = append(sites, tunnel.Site{
			Name: fmt.Sprintf("site-%c", 'a'+i), Router: fmt.Sprintf("vyos%02d", i+1),
			WAN: netip.AddrFrom4([4]byte{10, 4, 0, byte(90 + i)}), LAN: lan, Prefix: netip.PrefixFrom(lan, 24).Masked(),
		})
	}
	tm, err := tunnel.New(tunnel.Spec{Mode: tunnel.Mesh, Sites: sites, Transit: netip.MustParsePrefix("10.255.0.0/16"), Port: 1194})
	require.NoError(t, err)
	m, err := openvpn.New(tm, openvpn.Options{Auth: auth})
	require.NoError(t, err)
	k, err := openvpn.LoadKeys(secret.NewDir(t.TempDir()), m)
	require.NoError(t, err)
	var out []*vyos.Config
	for _, s := range sites {
		c, err := vyos.Build(vyos.Router{Model: m, Keys: k, Site: s.Name, Dialect: d, Underlay: netip.MustParsePrefix("10.4.0.0/16")})
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func newTextLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
