package topology

import (
	"os"
	"testing"
)

// FuzzParse feeds the loader arbitrary bytes: no input may panic, and
// anything it accepts must validate and survive a round trip. The corpus
// under testdata/fuzz/FuzzParse keeps what the fuzzer found interesting.
// Run it with -fuzzminimizetime 5s: each new input is otherwise minimised
// for up to a minute, which looks like a hang (0 execs/s) but is not.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/thesis.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("apiVersion: planetstage.io/v1alpha1\nkind: Topology\nname: x\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("sites: [{hosts: [{address: 1.2.3.4.5}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		if err := top.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		out, err := Marshal(top)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := Parse("again.yaml", out); err != nil {
			t.Fatalf("a parsed topology does not parse again: %v\n%s", err, out)
		}
	})
}
