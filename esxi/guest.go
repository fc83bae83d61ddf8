package esxi

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/types"
)

// GuestIPs waits up to timeout for the guest to report IP addresses (this
// needs VMware Tools or open-vm-tools in the guest) and returns them all,
// sorted, link-local addresses left out.
func (c *Client) GuestIPs(ctx context.Context, name string, timeout time.Duration) ([]netip.Addr, error) {
	st, err := c.readVM(ctx, name)
	if err != nil {
		return nil, err
	}
	object := fmt.Sprintf("vm %q", name)
	if st == nil {
		return nil, c.errorf(object, "guest IPs", fmt.Errorf("vm does not exist"))
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	seen := map[netip.Addr]bool{}
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil && !a.IsLinkLocalUnicast() && !a.IsLoopback() {
			seen[a] = true
		}
	}
	pc := property.DefaultCollector(c.vim)
	err = property.Wait(wctx, pc, st.ref.Reference(), []string{"guest.ipAddress", "guest.net"}, func(changes []types.PropertyChange) bool {
		for _, ch := range changes {
			switch v := ch.Val.(type) {
			case string:
				add(v)
			case types.ArrayOfGuestNicInfo:
				for _, nic := range v.GuestNicInfo {
					for _, ip := range nic.IpAddress {
						add(ip)
					}
				}
			}
		}
		return len(seen) > 0
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("no address reported within %s (is VMware Tools running in the guest?)", timeout)
		}
		return nil, c.errorf(object, "guest IPs", err)
	}
	out := make([]netip.Addr, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out, nil
}
