package main

import (
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/topology"
)

// onHardware points t's hypervisors at the URLs given with --esxi (in
// order; credentials from GOVC_USERNAME and GOVC_PASSWORD, TLS checked
// unless GOVC_INSECURE=1) and returns it; an error names a bad list. The
// hardware has its own distances, so --geo (the lab's emulated latency)
// is refused.
func onHardware(t *topology.Topology, urls, geo string) (*topology.Topology, error) {
	if geo != "" {
		return nil, fmt.Errorf("--geo %s: the lab's emulated latency; the hardware has its own distances", geo)
	}
	list := strings.Split(urls, ",")
	if len(list) != len(t.Hypervisors) {
		return nil, fmt.Errorf("--esxi: %d URLs for %d hypervisors", len(list), len(t.Hypervisors))
	}
	t = t.Clone()
	for i, u := range list {
		t.Hypervisors[i].URL = strings.TrimSpace(u)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("--esxi: %w", err)
	}
	return t, nil
}
