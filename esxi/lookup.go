package esxi

import (
	"context"
	"fmt"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// findVM returns the VM named name in the host's VM folder, or nil.
//
// VMs are looked up in a name cache, filled by listing the VM folder's
// VMs with their names in one property-collector call; readVM drops an
// entry whose VM is gone or renamed. It does not use
// SearchIndex.FindChild: govmomi's simulator panics there when a VM that
// another client is creating has no name yet, inside its object lock, and
// every later call on the folder then hangs (seen in the 100-VM benchmark).
func (c *Client) findVM(ctx context.Context, name string) (*object.VirtualMachine, error) {
	if err := c.ensureSession(ctx); err != nil {
		return nil, err
	}
	c.vmMu.Lock()
	ref, ok := c.vmRefs[name]
	c.vmMu.Unlock()
	if ok {
		return object.NewVirtualMachine(c.vim, ref), nil
	}
	refs, err := c.listVMs(ctx)
	if err != nil {
		return nil, c.errorf(fmt.Sprintf("vm %q", name), "find", err)
	}
	c.vmMu.Lock()
	c.vmRefs = refs
	c.vmMu.Unlock()
	if ref, ok := refs[name]; ok {
		return object.NewVirtualMachine(c.vim, ref), nil
	}
	return nil, nil
}

// listVMs maps the names of the VMs in the VM folder to their references.
func (c *Client) listVMs(ctx context.Context) (map[string]types.ManagedObjectReference, error) {
	req := types.RetrieveProperties{
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{
				Obj:       c.vmFolder.Reference(),
				Skip:      types.NewBool(true),
				SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "Folder", Path: "childEntity"}},
			}},
			PropSet: []types.PropertySpec{{Type: "VirtualMachine", PathSet: []string{"name"}}},
		}},
	}
	res, err := property.DefaultCollector(c.vim).RetrieveProperties(ctx, req)
	if err != nil {
		return nil, err
	}
	var vms []mo.VirtualMachine
	if err := mo.LoadObjectContent(res.Returnval, &vms); err != nil {
		return nil, err
	}
	out := make(map[string]types.ManagedObjectReference, len(vms))
	for _, vm := range vms {
		if vm.Name != "" {
			out[vm.Name] = vm.Self
		}
	}
	return out, nil
}

func (c *Client) cacheVM(name string, ref *types.ManagedObjectReference) {
	c.vmMu.Lock()
	defer c.vmMu.Unlock()
	if c.vmRefs == nil {
		c.vmRefs = map[string]types.ManagedObjectReference{}
	}
	if ref == nil {
		delete(c.vmRefs, name)
	} else {
		c.vmRefs[name] = *ref
	}
}
