package tunnel

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// dnsLabel is the shape of a site or router name, as package topology
// requires it. Names reach tunnel configs, file names and shell scripts of
// the tunnel kinds; this shape keeps every one of them a single harmless
// word there.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

const notLabel = "is not a DNS label (lower-case letters, digits and '-', at most 63, not starting or ending with '-')"

// nameErrors checks the shape of site's names; where says which site.
func nameErrors(where string, s Site) []error {
	var errs []error
	if s.Name != "" && !dnsLabel.MatchString(s.Name) {
		errs = append(errs, fmt.Errorf("tunnel: %s: name %s", where, notLabel))
	}
	if s.Router != "" && !dnsLabel.MatchString(s.Router) {
		errs = append(errs, fmt.Errorf("tunnel: %s: router %q %s", where, s.Router, notLabel))
	}
	return errs
}

// CheckNames reports every site or router name in m, in its sites or its
// tunnels' ends, that is not a DNS label. New rejects such names already; a
// tunnel kind calls CheckNames because a Model can be built without New,
// and its names end up in configs and scripts.
func (m *Model) CheckNames() error {
	var errs []error
	checked := map[[2]string]bool{}
	for i, s := range m.Spec.Sites {
		checked[[2]string{s.Name, s.Router}] = true
		errs = append(errs, nameErrors(siteWhere(i, s), s)...)
		if s.Name == "" || s.Router == "" {
			errs = append(errs, fmt.Errorf("tunnel: %s: empty site or router name", siteWhere(i, s)))
		}
	}
	for _, t := range m.Tunnels {
		for _, e := range t.Ends {
			if checked[[2]string{e.Site, e.Router}] {
				continue
			}
			errs = append(errs, nameErrors(fmt.Sprintf("tunnel %d: site %q", t.Index, e.Site), Site{Name: e.Site, Router: e.Router})...)
			if e.Site == "" || e.Router == "" {
				errs = append(errs, fmt.Errorf("tunnel: tunnel %d: an end has an empty site or router name", t.Index))
			}
		}
	}
	return errors.Join(errs...)
}

func siteWhere(i int, s Site) string {
	if s.Name == "" {
		return fmt.Sprintf("site #%d", i+1)
	}
	return fmt.Sprintf("site %q", s.Name)
}

func validate(spec Spec) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("tunnel: "+format, args...)) }
	switch spec.Mode {
	case Mesh:
		if spec.Hub != "" {
			bad("hub %q: only hub-spoke mode has a hub", spec.Hub)
		}
	case HubSpoke:
		if !slices.ContainsFunc(spec.Sites, func(s Site) bool { return s.Name == spec.Hub }) {
			bad("hub %q: no such site (hub-spoke mode needs a hub)", spec.Hub)
		}
	case Regional:
		if spec.Hub != "" {
			bad("hub %q: regional mode names its hubs in hubs", spec.Hub)
		}
		if len(spec.Hubs) == 0 {
			bad("hubs: regional mode needs at least one hub")
		}
		for i, h := range spec.Hubs {
			if !slices.ContainsFunc(spec.Sites, func(s Site) bool { return s.Name == h }) {
				bad("hubs[%d] %q: no such site", i, h)
			}
			if slices.Index(spec.Hubs, h) < i {
				bad("hubs[%d] %q: listed twice", i, h)
			}
		}
	default:
		bad("mode %q: want %q, %q or %q", spec.Mode, Mesh, HubSpoke, Regional)
	}
	if spec.Mode != Regional && len(spec.Hubs) > 0 {
		bad("hubs %v: only regional mode has hubs", spec.Hubs)
	}
	if !spec.Transit.IsValid() || !spec.Transit.Addr().Is4() || spec.Transit.Bits() > 30 {
		bad("transit %s: want an IPv4 prefix of /30 or larger", spec.Transit)
	}
	// Which port is usual depends on the kind of tunnel, so the model
	// takes none by default.
	if spec.Port == 0 {
		bad("port 0: want the UDP port of the first tunnel")
	}
	if len(spec.Sites) == 0 {
		bad("no sites")
	}
	seen := map[string]bool{}
	for i, s := range spec.Sites {
		where := siteWhere(i, s)
		if s.Name == "" {
			bad("%s: empty name", where)
		}
		errs = append(errs, nameErrors(where, s)...)
		for _, k := range []string{"site " + s.Name, "router " + s.Router, "wan " + s.WAN.String()} {
			if seen[k] {
				bad("%s: duplicate %s", where, k)
			}
			seen[k] = true
		}
		if s.Router == "" {
			bad("%s: empty router name", where)
		}
		switch {
		case spec.Mode != Regional && s.Hub != "":
			bad("%s: hub %q: only a spoke of regional mode names its hub", where, s.Hub)
		case spec.Mode != Regional:
		case slices.Contains(spec.Hubs, s.Name) && s.Hub != "":
			bad("%s: hub %q: the site is a hub itself", where, s.Hub)
		case slices.Contains(spec.Hubs, s.Name):
		case s.Hub == "":
			bad("%s: no hub: every spoke of regional mode names one of hubs %v", where, spec.Hubs)
		case !slices.Contains(spec.Hubs, s.Hub):
			bad("%s: hub %q is not one of hubs %v", where, s.Hub, spec.Hubs)
		}
		if !s.WAN.Is4() {
			bad("%s: router wan %v: want an IPv4 address", where, s.WAN)
		}
		if !s.Prefix.IsValid() || !s.Prefix.Addr().Is4() {
			bad("%s: prefix %v: want an IPv4 prefix", where, s.Prefix)
			continue
		}
		if s.Prefix != s.Prefix.Masked() {
			bad("%s: prefix %s has host bits set (want %s)", where, s.Prefix, s.Prefix.Masked())
		}
		if !s.Prefix.Contains(s.LAN) {
			bad("%s: router lan %v is not in prefix %s", where, s.LAN, s.Prefix)
		}
		if spec.Transit.IsValid() && spec.Transit.Overlaps(s.Prefix) {
			bad("%s: prefix %s overlaps transit %s", where, s.Prefix, spec.Transit)
		}
		for _, o := range spec.Sites[:i] {
			if o.Prefix.IsValid() && o.Prefix.Overlaps(s.Prefix) {
				bad("%s: prefix %s overlaps site %q (%s)", where, s.Prefix, o.Name, o.Prefix)
			}
		}
	}
	return errors.Join(errs...)
}

// checkRemotes rejects a Remotes entry that names no tunnel end or no
// usable address, so that a stale override cannot silently point nowhere.
func (m *Model) checkRemotes() error {
	var errs []error
	for ref, ap := range m.Spec.Remotes {
		found := slices.ContainsFunc(m.Tunnels, func(t Tunnel) bool {
			_, _, ok := t.Local(ref.Site)
			return ok && t.Index == ref.Tunnel
		})
		if !found {
			errs = append(errs, fmt.Errorf("tunnel: remote for tunnel %d at site %q: no such tunnel end", ref.Tunnel, ref.Site))
		}
		if !ap.Addr().Is4() || ap.Port() == 0 {
			errs = append(errs, fmt.Errorf("tunnel: remote for tunnel %d at site %q: %s: want an IPv4 address and a port", ref.Tunnel, ref.Site, ap))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}
