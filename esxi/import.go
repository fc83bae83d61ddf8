package esxi

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/ovf/importer"
)

// importVM creates v from the OVF or OVA at v.Source: CreateImportSpec,
// ImportVApp, upload of every disk through the NFC lease (with progress
// updates), then lease Complete; on error the lease is aborted. This is
// how VMs come from templates on standalone ESXi, which cannot clone.
//
// The OVF's networks are mapped, in order, to v's NICs' port groups. vApp
// properties are not delivered to the guest by ESXi (vCenter does that);
// pass guest data through v.CloudInit / v.ExtraConfig instead, which the
// caller's reconfigure writes right after the import.
func (c *Client) importVM(ctx context.Context, v VM) error {
	opener := importer.Opener{Client: c.vim}
	var archive importer.Archive = &importer.FileArchive{Path: v.Source, Opener: opener}
	ovfPath := v.Source
	switch strings.ToLower(filepath.Ext(v.Source)) {
	case ".ova":
		archive = &importer.TapeArchive{Path: v.Source, Opener: opener}
		ovfPath = "*.ovf"
	case ".ovf":
	default:
		return c.errorf(v.object(), "import", fmt.Errorf("source %q: want a .ova or .ovf file", v.Source))
	}
	data, err := importer.ReadOvf(ovfPath, archive)
	if err != nil {
		return c.errorf(v.object(), "import: read "+v.Source, err)
	}
	env, err := importer.ReadEnvelope(data)
	if err != nil {
		return c.errorf(v.object(), "import: parse "+v.Source, err)
	}
	var nets []importer.Network
	if env.Network != nil {
		for i, n := range env.Network.Networks {
			if i < len(v.NICs) {
				nets = append(nets, importer.Network{Name: n.Name, Network: v.NICs[i].PortGroup})
			}
		}
	}
	name := v.Name
	imp := importer.Importer{
		Client: c.vim, Finder: c.finder, Datacenter: c.dc, Datastore: c.datastore,
		ResourcePool: c.pool, Host: c.hostSys, Folder: c.vmFolder, Archive: archive,
		Log: func(msg string) (int, error) {
			c.log.Debug("ovf import", "vm", v.Name, "msg", strings.TrimSpace(msg))
			return len(msg), nil
		},
	}
	opts := importer.Options{Name: &name, NetworkMapping: nets, DiskProvisioning: "thin"}
	if v.Owner != "" {
		opts.Annotation = "Managed by planetstage, topology " + v.Owner
	}
	if _, err := imp.Import(ctx, ovfPath, opts); err != nil {
		return c.errorf(v.object(), "import "+v.Source, err)
	}
	return nil
}
