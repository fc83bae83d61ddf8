package esxi_test

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/find"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
)

// makeOVA packs testdata/node.ovf and its disk into an OVA (a tar with the
// descriptor first, as the format requires).
func makeOVA(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "node.ova")
	f, err := os.Create(p)
	require.NoError(t, err)
	tw := tar.NewWriter(f)
	for _, name := range []string{"node.ovf", "node-disk1.vmdk"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, f.Close())
	return p
}

// TestImport creates VMs from an OVF and an OVA through an NFC lease
// (standalone ESXi cannot clone), maps the appliance's network to a site
// port group, reconfigures sizing and writes cloud-init guestinfo. The
// disk is a 4 KiB placeholder, not a real VMDK: the simulator stores the
// upload without parsing it, so the test proves the upload, not the image.
func TestImport(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := newSimHost(t, false).connect(t)
	setupNetwork(ctx, t, c, pg("site-a", 10))
	ova := makeOVA(t)

	for _, src := range []string{filepath.Join("testdata", "node.ovf"), ova} {
		name := "import-" + filepath.Ext(src)[1:]
		v := esxi.VM{Name: name, Source: src, CPUs: 2, MemoryMB: 1024, Owner: "thesis",
			NICs:      []esxi.NIC{{PortGroup: "site-a"}},
			CloudInit: &esxi.CloudInit{UserData: "#cloud-config\n", MetaData: "local-hostname: " + name + "\n"}}
		ch, err := c.EnsureVM(ctx, v)
		require.NoError(t, err, src)
		assert.Equal(t, plan.Create, ch.Action)
		assert.Contains(t, ch.Reason, "imported from "+src)

		info, err := c.VMInfo(ctx, name)
		require.NoError(t, err)
		require.NotNil(t, info, src)
		assert.Equal(t, 2, info.CPUs, "reconfigured from the OVF's 1 vCPU")
		assert.Equal(t, 1024, info.MemoryMB)
		assert.Equal(t, []esxi.NIC{{PortGroup: "site-a", Type: "vmxnet3"}}, info.NICs, "OVF network mapped to the site")
		assert.Equal(t, "thesis", info.Owner)

		ch, err = c.InspectVM(ctx, v)
		require.NoError(t, err)
		assert.Equal(t, plan.NoOp, ch.Action, ch.Reason)

		// The disk went through the lease into the datastore.
		finder := find.NewFinder(c.Vim(), true)
		dc, err := finder.DefaultDatacenter(ctx)
		require.NoError(t, err)
		finder.SetDatacenter(dc)
		ds, err := finder.DefaultDatastore(ctx)
		require.NoError(t, err)
		_, err = ds.Stat(ctx, name+"/disk-0.vmdk")
		require.NoError(t, err, "uploaded disk")
	}

	_, err := c.EnsureVM(ctx, esxi.VM{Name: "bad", Source: "image.qcow2"})
	require.ErrorContains(t, err, "want a .ova or .ovf file")
	_, err = c.EnsureVM(ctx, esxi.VM{Name: "missing", Source: "nope.ova"})
	require.ErrorContains(t, err, `vm "missing": import: read nope.ova`)
}
