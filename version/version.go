// Package version says what a program built with planetstage runs: the
// planetstage module's version and revision as built into it, Go, the
// libraries that talk to the outside world, and what the lab's Kubernetes
// node image compiles. A results folder records it beside its numbers; a
// command line prints it.
package version

import (
	"fmt"
	"io"
	"maps"
	"runtime/debug"
	"slices"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// Module is planetstage's module path.
const Module = "github.com/planetstage/planetstage"

// Unknown is what a version that cannot be found reads.
const Unknown = "(unknown)"

// libraries are the dependencies Info names: those that talk to
// hypervisors, machines and clusters, and the YAML decoder.
var libraries = []string{"github.com/vmware/govmomi", "golang.org/x/crypto", "k8s.io/client-go", "k8s.io/kubernetes", "sigs.k8s.io/yaml"}

// Info is what Get finds.
type Info struct {
	// Planetstage is the module's version in this program: the main
	// module's when the program is planetstage's own (a test, an example),
	// else the dependency's ("(devel)" for a build from a checkout).
	Planetstage string `json:"planetstage"`
	// Revision and Modified are the VCS revision the program was built
	// from, and whether the checkout had changes; empty when not recorded.
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	// Modules are the versions of the libraries linked in, by module path;
	// a program that does not link one (it imports only the model) lacks
	// it.
	Modules map[string]string `json:"modules"`
	// NodeImage is what the lab's Kubernetes node image compiles.
	NodeImage k8snode.Versions `json:"nodeImage"`
}

// Get reads the program's build information.
func Get() Info {
	v := Info{Planetstage: Unknown, Go: Unknown, Modules: map[string]string{}, NodeImage: k8snode.DefaultVersions}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Path == Module {
		v.Planetstage = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	for _, d := range bi.Deps {
		switch {
		case d.Path == Module && d.Replace != nil:
			v.Planetstage = d.Version + " => " + d.Replace.Path
		case d.Path == Module:
			v.Planetstage = d.Version
		case slices.Contains(libraries, d.Path):
			v.Modules[d.Path] = d.Version
		}
	}
	return v
}

// WriteText writes v for a person: planetstage and Go on the first line,
// a library per line, then the node image.
func (v Info) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "planetstage %s", v.Planetstage)
	if v.Revision != "" {
		fmt.Fprintf(ew, " (%.12s%s)", v.Revision, map[bool]string{true: ", modified"}[v.Modified])
	}
	fmt.Fprintf(ew, ", %s\n", v.Go)
	for _, p := range slices.Sorted(maps.Keys(v.Modules)) {
		fmt.Fprintf(ew, "  %-28s %s\n", p, v.Modules[p])
	}
	n := v.NodeImage
	fmt.Fprintf(ew, "node image: Kubernetes %s, etcd %s, containerd %s, runc %s, CoreDNS %s, CNI plugins %s, Debian %s\n",
		n.Kubernetes, n.Etcd, n.Containerd, n.Runc, n.CoreDNS, n.CNI, n.Suite)
	return ew.err
}

// errWriter keeps the first error of a series of writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
