package k8snode

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestChangedSysctls(t *testing.T) {
	t.Parallel()
	before := map[string]string{"kernel/panic": "0", "vm/overcommit_memory": "0"}
	assert.Empty(t, ChangedSysctls(before, map[string]string{"kernel/panic": "0", "vm/overcommit_memory": "0"}))
	assert.Equal(t, []string{"kernel/panic 0 -> 10"}, ChangedSysctls(before, map[string]string{"kernel/panic": "10", "vm/overcommit_memory": "0"}))
	got := ReadHostSysctls()
	assert.Len(t, got, len(HostSysctls))
	assert.Empty(t, ChangedSysctls(got, ReadHostSysctls()), "reading twice changes nothing")
}
