package k8snode

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// HostSysctls are the host-wide kernel settings a kubelet wants to change.
// Every node container shares the host's kernel, so
// the node image's init shadows them with files bound over /proc/sys, and
// a cluster in the lab must leave this machine's own values alone.
var HostSysctls = []string{"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"}

// ReadHostSysctls reads HostSysctls on this machine, by path under
// /proc/sys.
func ReadHostSysctls() map[string]string {
	got := map[string]string{}
	for _, k := range HostSysctls {
		data, err := os.ReadFile("/proc/sys/" + k)
		if err != nil {
			got[k] = "unreadable: " + err.Error()
			continue
		}
		got[k] = strings.TrimSpace(string(data))
	}
	return got
}

// ChangedSysctls lists, sorted, the settings that differ between two
// readings as "KEY BEFORE -> AFTER".
func ChangedSysctls(before, after map[string]string) []string {
	var changed []string
	for k, v := range before {
		if after[k] != v {
			changed = append(changed, fmt.Sprintf("%s %s -> %s", k, v, after[k]))
		}
	}
	slices.Sort(changed)
	return changed
}
