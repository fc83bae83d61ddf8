package lab

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecAdded: a running lab can gain hosts on its sites and nothing
// else; every other change is named.
func TestSpecAdded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		modify    func(*Spec)
		wantAdded []string
		wantErr   []string
	}{
		{name: "unchanged", modify: func(*Spec) {}},
		{name: "a worker more", modify: func(s *Spec) {
			s.Sites[1].Hosts = append(s.Sites[1].Hosts, Host{Name: "h3", Address: netip.MustParseAddr("172.21.20.102"), Kubernetes: "worker"})
		}, wantAdded: []string{"h3"}},
		{name: "new site", modify: func(s *Spec) {
			s.Sites = append(s.Sites, Site{Name: "c", Prefix: netip.MustParsePrefix("172.21.30.0/24"),
				Router: Router{Name: "r3", WAN: netip.MustParseAddr("10.21.0.92"), LAN: netip.MustParseAddr("172.21.30.1")}})
		}, wantErr: []string{`site "c": a new site (router "r3")`}},
		{name: "moved host", modify: func(s *Spec) { s.Sites[0].Hosts[0].Address = netip.MustParseAddr("172.21.10.102") },
			wantErr: []string{`machine "h1": site, address or role changed`}},
		{name: "removed host", modify: func(s *Spec) { s.Sites[1].Hosts = nil },
			wantErr: []string{`machine "h2": removed`}},
		{name: "renamed lab", modify: func(s *Spec) { s.Name = "y" }, wantErr: []string{`name and underlay must stay "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, next := twoSites("x", 1), twoSites("x", 1)
			tt.modify(&next)
			added, err := s.added(next)
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			var names []string
			for _, m := range added {
				names = append(names, m.Name)
				assert.Equal(t, "worker", m.Kubernetes, "the added host keeps its Kubernetes role")
			}
			assert.Equal(t, tt.wantAdded, names)
		})
	}
}
