package esxi_test

import (
	"testing"

	"github.com/planetstage/planetstage/esxi"
	"github.com/planetstage/planetstage/esxi/esxitest"
)

// simHost wraps esxitest.Host with the short names the tests use.
type simHost struct{ *esxitest.Host }

func newSimHost(t testing.TB, updatablePortGroups bool) *simHost {
	return &simHost{esxitest.New(t, esxitest.Options{NoUpdatePortGroup: !updatablePortGroups})}
}

func (h *simHost) config() esxi.Config               { return h.Config() }
func (h *simHost) connect(t testing.TB) *esxi.Client { return h.Connect(t) }
func (h *simHost) userURL() string                   { return h.UserURL() }
