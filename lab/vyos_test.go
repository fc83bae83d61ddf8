package lab

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/remote"
	"github.com/planetstage/planetstage/topology"
)

// A real VyOS image needs the version it runs, named in the error.
func TestVyOSOptions(t *testing.T) {
	t.Setenv(EnvVyOSImage, "")
	t.Setenv(EnvVyOSVersion, "")
	img, v, err := vyosOptions(Options{})
	require.NoError(t, err)
	assert.Empty(t, img+v, "no image: the stand-in")

	_, _, err = vyosOptions(Options{VyOSImage: "vyos:1.4"})
	assert.ErrorContains(t, err, "VyOSVersion (PLANETSTAGE_VYOS_VERSION)")
	_, _, err = vyosOptions(Options{VyOSImage: "vyos:1.4", VyOSVersion: "2.0"})
	assert.ErrorContains(t, err, `vyos version "2.0"`)

	t.Setenv(EnvVyOSImage, "vyos:rolling")
	t.Setenv(EnvVyOSVersion, "rolling")
	img, v, err = vyosOptions(Options{})
	require.NoError(t, err)
	assert.Equal(t, "vyos:rolling rolling", img+" "+v, "the environment when Options say nothing")
}

// A real VyOS router is started as VyOS's docs say, adapted to the
// image's version, said so in a note, and logged in to as the user vyos
// (also as the jump to its site's hosts).
func TestRealVyOSRouter(t *testing.T) {
	keys, err := openKeyStore(t.TempDir())
	require.NoError(t, err)
	l := &Lab{vyosImage: "vyos:1.4", vyosVersion: "1.4", keys: keys}
	topo := simTopology("vytunit")
	c, notes := l.adapted(topo)
	l.topo = c
	assert.Equal(t, "1.4", c.Sites[0].Router.Version, "the image's version, whatever the topology says")
	assert.Contains(t, notes[0], "router vyos01 (VyOS 1.2 in the topology) runs real VyOS 1.4 from image vyos:1.4")

	run := l.routerRunOf("vyos01")
	assert.Equal(t, RouterRun{Name: "vyos01", Kind: RouterVyOS, Version: "1.4", Image: "vyos:1.4"}, run)
	assert.Equal(t, RouterRun{Name: "gw2", Kind: RouterLinux}, l.routerRunOf("gw2"))
	img, flags, err := l.vyosRun(context.Background(), run)
	require.NoError(t, err)
	assert.Equal(t, "vyos:1.4", img)
	assert.Equal(t, []string{"--privileged", "-v", "/lib/modules:/lib/modules:ro", "--entrypoint", "/sbin/init"}, flags)

	router := remote.SSHConfig{Name: "vyos01", User: "root"}
	host := remote.SSHConfig{Name: "master01", User: "root", Jump: &router}
	assert.Equal(t, "vyos", l.loginAs(router).User)
	got := l.loginAs(host)
	assert.Equal(t, "root", got.User, "hosts stay root")
	assert.Equal(t, "vyos", got.Jump.User, "through their VyOS router as vyos")
	assert.Equal(t, "root", router.User, "the caller's config is not changed")
	assert.Equal(t, "root", l.loginAs(remote.SSHConfig{Name: "gw2", User: "root"}).User)

	standin := &Lab{keys: keys}
	c, notes = standin.adapted(simTopology("vytunit"))
	standin.topo = c
	assert.Equal(t, topology.RouterVyOS, c.Sites[0].Router.Kind)
	assert.Equal(t, "1.2", c.Sites[0].Router.Version)
	assert.Contains(t, notes[0], "runs in the VyOS stand-in, not VyOS")
	assert.Equal(t, "root", standin.loginAs(router).User, "the stand-in is root's, like every lab machine")
	assert.Equal(t, "vyos01: VyOS 1.2 stand-in (not VyOS)", standin.Routers()[0].String())
}
