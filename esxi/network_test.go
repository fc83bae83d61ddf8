package esxi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/plan"
)

func TestValidVLAN(t *testing.T) {
	t.Parallel()
	for vlan, ok := range map[int]bool{-1: false, 0: true, 1: true, 10: true, 4094: true, 4095: true, 4096: false, 5000: false} {
		err := esxi.ValidVLAN(vlan)
		assert.Equal(t, ok, err == nil, "VLAN %d: %v", vlan, err)
	}
}

func TestPortGroups(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h := newSimHost(t, false)
	c := h.connect(t)

	// An uplink the host does not have is refused before anything is
	// made, naming what the host has.
	_, err := c.EnsureVSwitch(ctx, esxi.VSwitch{Name: "vs1", Uplinks: []string{"vmnic1", "vmnic7"}})
	var ue *esxi.UplinkError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, "vmnic7", ue.Uplink)
	assert.ErrorContains(t, err, "uplink vmnic7 is not a physical NIC of this host (it has vmnic0, vmnic1)")
	missing, err := c.InspectVSwitch(ctx, esxi.VSwitch{Name: "vs1"})
	require.NoError(t, err)
	assert.Equal(t, plan.Create, missing.Action, "nothing was created")

	ch, err := c.EnsureVSwitch(ctx, esxi.VSwitch{Name: "vs1", Uplinks: []string{"vmnic1"}})
	require.NoError(t, err)
	assert.Equal(t, plan.Create, ch.Action)
	assert.Contains(t, ch.Reason, "uplinks vmnic1")
	ch, err = c.EnsureVSwitch(ctx, esxi.VSwitch{Name: "vs1", Uplinks: []string{"vmnic1"}})
	require.NoError(t, err)
	assert.Equal(t, plan.NoOp, ch.Action)
	_, err = c.EnsureVSwitch(ctx, esxi.VSwitch{Name: "vs2"})
	require.NoError(t, err)

	// A Create applied after someone else created the port group is fine.
	stale, err := c.InspectPortGroup(ctx, esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 10})
	require.NoError(t, err)
	require.Equal(t, plan.Create, stale.Action)
	_, err = c.EnsurePortGroup(ctx, esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 10})
	require.NoError(t, err)
	require.NoError(t, c.ApplyPortGroup(ctx, esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 10}, stale),
		"DuplicateName/AlreadyExists means done")

	tests := []struct {
		name    string
		pg      esxi.PortGroup
		wantErr string
		want    plan.Action
	}{
		{name: "VLAN above 4095 rejected on our side", pg: esxi.PortGroup{Name: "b", VSwitch: "vs1", VLAN: 5000}, wantErr: "VLAN 5000 out of range"},
		{name: "negative VLAN rejected", pg: esxi.PortGroup{Name: "b", VSwitch: "vs1", VLAN: -1}, wantErr: "out of range"},
		{name: "empty name", pg: esxi.PortGroup{VSwitch: "vs1"}, wantErr: "empty name"},
		{name: "same name on another vswitch", pg: esxi.PortGroup{Name: "a", VSwitch: "vs2", VLAN: 10}, wantErr: `exists on vswitch "vs1"`},
		{name: "trunk VLAN 4095 is valid", pg: esxi.PortGroup{Name: "trunk", VSwitch: "vs1", VLAN: 4095}, want: plan.Create},
		{name: "unchanged", pg: esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 10}, want: plan.NoOp},
		{name: "drift", pg: esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 11}, want: plan.Update},
	}
	for _, tt := range tests {
		ch, err := c.InspectPortGroup(ctx, tt.pg)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, tt.name)
			assert.ErrorContains(t, err, "esxi "+c.Host(), "error names the host")
			continue
		}
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, ch.Action, tt.name)
	}

	// Nothing was created by the rejected inputs.
	pgs, err := c.PortGroups(ctx)
	require.NoError(t, err)
	for _, p := range pgs {
		assert.NotEqual(t, "b", p.Name)
	}

	// The plain simulator (like the vcsim binary) lacks UpdatePortGroup:
	// the repair fails with a clear, typed error instead of pretending.
	_, err = c.EnsurePortGroup(ctx, esxi.PortGroup{Name: "a", VSwitch: "vs1", VLAN: 11})
	require.Error(t, err)
	assert.True(t, errors.Is(err, esxi.ErrUnsupported), err.Error())
	var e *esxi.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, `port group "a"`, e.Object)
	assert.Equal(t, "update VLAN to 11", e.Op)

	ch, err = c.RemovePortGroup(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, plan.Delete, ch.Action)
	require.NoError(t, c.ApplyRemovePortGroup(ctx, "a"), "removing a missing port group is no error")
}
