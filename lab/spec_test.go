package lab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpecValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Spec)
		want   []string // substrings of the error; none means valid
	}{
		{name: "valid", modify: func(*Spec) {}},
		{name: "host outside its site", modify: func(s *Spec) { s.Sites[0].Hosts[0].Address = netip.MustParseAddr("172.21.20.7") },
			want: []string{"host h1: address 172.21.20.7 is outside 172.21.10.0/24"}},
		{name: "wan outside underlay", modify: func(s *Spec) { s.Sites[1].Router.WAN = netip.MustParseAddr("10.99.0.1") },
			want: []string{"router r2: wan 10.99.0.1 is outside 10.21.0.0/16"}},
		{name: "duplicate name and address", modify: func(s *Spec) {
			s.Sites[1].Hosts[0].Name = "h1"
			s.Sites[1].Hosts[0].Address = s.Sites[1].Router.LAN
		}, want: []string{`host "h1": name used twice`, "already used by router r2"}},
		{name: "overlapping sites", modify: func(s *Spec) { s.Sites[1].Prefix = netip.MustParsePrefix("172.21.10.0/23") },
			want: []string{"overlaps 172.21.10.0/24"}},
		{name: "bad names", modify: func(s *Spec) { s.Name = "Bad Name"; s.Sites[0].Router.Name = "" },
			want: []string{`lab name "Bad Name"`, `router ""`}},
		{name: "broadcast address", modify: func(s *Spec) { s.Sites[0].Hosts[0].Address = netip.MustParseAddr("172.21.10.255") },
			want: []string{"network or broadcast"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := twoSites("x", 1)
			tt.modify(&s)
			err := s.Validate()
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestGatewayAvoidsMachines(t *testing.T) {
	t.Parallel()
	p := netip.MustParsePrefix("192.168.10.0/24")
	gw, err := gateway(p, map[netip.Addr]bool{})
	require.NoError(t, err)
	assert.Equal(t, "192.168.10.254", gw.String())
	gw, err = gateway(p, map[netip.Addr]bool{netip.MustParseAddr("192.168.10.254"): true})
	require.NoError(t, err)
	assert.Equal(t, "192.168.10.253", gw.String())
	gw, err = gateway(netip.MustParsePrefix("10.4.0.0/16"), nil)
	require.NoError(t, err)
	assert.Equal(t, "10.4.255.254", gw.String())
	_, err = gateway(netip.MustParsePrefix("10.0.0.0/30"), map[netip.Addr]bool{netip.MustParseAddr("10.0.0.1"): true, netip.MustParseAddr("10.0.0.2"): true})
	assert.Error(t, err)
}

func TestRecipeTag(t *testing.T) {
	t.Parallel()
	a, b := DefaultRecipe(), DefaultRecipe()
	assert.Equal(t, a.Tag(), b.Tag(), "the tag depends on the recipe only")
	assert.True(t, strings.HasPrefix(a.Tag(), ImageRepository+":"))
	b.Packages = append([]string{"tcpdump"}, b.Packages...)
	assert.NotEqual(t, a.Tag(), b.Tag(), "another package set is another image")
	c := DefaultRecipe()
	c.Files[initPath] += "# changed\n"
	assert.NotEqual(t, a.Tag(), c.Tag(), "another init script is another image")
	d := DefaultRecipe()
	d.Packages[0], d.Packages[1] = d.Packages[1], d.Packages[0]
	assert.Equal(t, a.Tag(), d.Tag(), "package order does not matter")
}
