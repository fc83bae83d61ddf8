package lab

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/topology"
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

// Grow changes the lab while an Apply's steps and a harness read it; with
// -race this shows they never see it halfway (CI runs it so). The lab is
// not up: a host on a hypervisor site starts with its VM, so Grow starts
// no container and needs no engine.
func TestGrowWhileOthersRead(t *testing.T) {
	t.Parallel()
	topo := simTopology("labtest-grow-race")
	l, err := newLab(SpecFrom(topo), nil, Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	l.followVMs = true
	for _, m := range topo.Machines() {
		l.vmBacked[m.Name] = m.Site.Hypervisor != ""
	}
	l.adapt(topo)

	grown := topo.Clone()
	grown.Sites[0].Hosts = append(grown.Sites[0].Hosts, topology.Host{Name: "node09", Address: netip.MustParseAddr("172.25.10.109"), Role: topology.RoleWorker})
	grown.SetDefaults()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = l.Machines()
				_, _ = l.Machine("node09")
				_ = l.isVMBacked("node09")
				_ = l.machineNames()
				if lt := l.Topology(); lt != nil {
					_ = lt.Machines()
				}
				_ = l.Notes()
				_ = l.Spec()
			}
		}()
	}
	err = l.Grow(context.Background(), grown)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	m, ok := l.Machine("node09")
	require.True(t, ok)
	assert.Equal(t, "a", m.Site)
	assert.True(t, l.isVMBacked("node09"), "a host on a hypervisor site waits for its VM")
	_, ok = l.Topology().Machine("node09")
	assert.True(t, ok, "Topology() is the grown topology")
	assert.Contains(t, l.machineNames(), "node09")
}
