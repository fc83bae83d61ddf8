package vyosstandin

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/vyos"
)

// A second interface kind beside OpenVPN, without a daemon (as WireGuard's
// kernel interfaces would be), is set up, left alone while unchanged, and
// torn down when deleted, by the same Realise.
func TestDaemonlessInterfaceKind(t *testing.T) {
	// Not parallel: it changes interfaceKinds, which no other test runs
	// beside (parallel tests wait for the sequential ones).
	saved := interfaceKinds
	t.Cleanup(func() { interfaceKinds = saved })
	interfaceKinds = append(append([]interfaceKind(nil), saved...), interfaceKind{
		Node: "tunnelx",
		units: func(_ context.Context, _ *Router, cfg []vyos.Command) ([]unit, error) {
			var out []unit
			for _, c := range cfg {
				if len(c.Path) == 4 && c.Path[1] == "tunnelx" {
					out = append(out, unit{Name: c.Path[2], Hash: c.Path[3],
						Setup: [][]string{{"ip", "link", "add", c.Path[2], "type", "dummy"}}})
				}
			}
			return out, nil
		},
		teardown: func(iface string) [][]string { return [][]string{{"ip", "link", "del", iface}} },
	})
	sys := &linkSystem{links: map[string]bool{}}
	r := &Router{Dialect: vyos.V14, Root: t.TempDir(), System: sys}
	ctx := context.Background()
	require.NoError(t, r.Realise(ctx, []string{join([]string{"interfaces", "tunnelx", "tx0", "a"})}))
	assert.Equal(t, []string{"ip link add tx0 type dummy"}, sys.runs)
	sys.runs = nil
	require.NoError(t, r.Realise(ctx, []string{join([]string{"interfaces", "tunnelx", "tx0", "a"})}))
	assert.Empty(t, sys.runs, "unchanged: left alone")
	require.NoError(t, r.Realise(ctx, nil))
	assert.Equal(t, []string{"ip link del tx0"}, sys.runs, "deleted: torn down")
}

// linkSystem plays ip link add/del.
type linkSystem struct {
	runs  []string
	links map[string]bool
}

func (s *linkSystem) Run(_ context.Context, argv ...string) error {
	s.runs = append(s.runs, strings.Join(argv, " "))
	if len(argv) > 3 && argv[1] == "link" {
		s.links[argv[3]] = argv[2] == "add"
	}
	return nil
}
func (s *linkSystem) Start(context.Context, string, ...string) error { return nil }
func (s *linkSystem) Stop(context.Context, string) error             { return nil }
func (s *linkSystem) Running(string) bool                            { return false }
func (s *linkSystem) LinkExists(name string) bool                    { return s.links[name] }
