package topology

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds the loader arbitrary bytes. Whatever it is given, Parse
// returns: no panic (one caught past the YAML parser is reported as an
// internal error, and fails here), a refusal is a *FileError with at
// least one problem, and anything accepted validates and survives a round
// trip through Marshal unchanged. The corpus under testdata/fuzz/FuzzParse
// keeps what the fuzzer found interesting; .ci/run fuzzes for a minute.
// Run it with -fuzzminimizetime 5s: each new input is otherwise minimised
// for up to a minute, which looks like a hang (0 execs/s) but is not.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/thesis.yaml")
	if err != nil {
		f.Fatal(err)
	}
	thesis := string(seed)
	f.Add(seed)
	f.Add([]byte("apiVersion: planetstage.io/v1alpha1\nkind: Topology\nname: x\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("sites: [{hosts: [{address: 1.2.3.4.5}]}]\n"))
	// The hostile cases of issue 19, small: aliases that stand for far
	// more than the file, an alias inside its anchor, a wide anchor shared
	// by sites, many hosts.
	f.Add([]byte("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"))
	f.Add([]byte("sites: &s [{name: a, hosts: *s}]\n"))
	f.Add(aliasBomb(3, 4))
	f.Add(manyHosts(200, 7))
	// Numbers that are not finite, and an ssh section that says nothing.
	f.Add([]byte(thesis + "latency: {inflation: nan}\n"))
	f.Add([]byte(thesis + "latency: {inflation: inf, links: [{from: site-a, to: site-b, rttMs: inf, jitterMs: nan, lossPct: nan}]}\n"))
	f.Add([]byte(strings.Replace(thesis, "  hypervisor: esxi1\n", "  hypervisor: esxi1\n  location: {lat: NaN, lon: 1e400}\n", 1)))
	f.Add([]byte(strings.Replace(thesis, "ssh: {user: root, identityFile: ~/.ssh/id_ed25519, knownHosts: ~/.ssh/known_hosts}", "ssh: {}", 1)))
	f.Add([]byte(strings.Replace(thesis, "ssh: {user: root, identityFile: ~/.ssh/id_ed25519, knownHosts: ~/.ssh/known_hosts}", "ssh:", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := Parse("fuzz.yaml", data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 {
				t.Fatalf("a refusal must be a *FileError with its problems, got %T: %v", err, err)
			}
			for _, p := range fe.Problems {
				if strings.HasPrefix(p.Message, internalError) {
					t.Fatalf("Parse panicked: %v", p.Message)
				}
			}
			return
		}
		if err := top.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		out, err := Marshal(top)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse("again.yaml", out)
		if err != nil {
			t.Fatalf("a parsed topology does not parse again: %v\n%s", err, out)
		}
		if back, err := Marshal(again); err != nil || string(back) != string(out) {
			t.Fatalf("a round trip changed the topology (err %v):\n%s\nbecame\n%s", err, out, back)
		}
	})
}
