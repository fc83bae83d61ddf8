package topology

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliasBomb is the file of issue 19 scaled down: one anchor of hosts
// referenced by many sites. Small on disk, it stands for hosts×sites hosts.
func aliasBomb(hosts, sites int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: planetstage.io/v1alpha1\nkind: Topology\nname: bomb\nunderlay: {prefix: 10.0.0.0/16}\n")
	b.WriteString("defaults: {vms: {worker: {cpus: 1}}}\nsites:\n")
	for s := range sites {
		fmt.Fprintf(&b, "- name: s%d\n  vlan: %d\n  prefix: 10.%d.%d.0/24\n", s, s%4000+1, 1+s/256, s%256)
		fmt.Fprintf(&b, "  router: {name: r%d, kind: linux, wan: 10.0.%d.%d, lan: 10.%d.%d.1}\n", s, s/250, 1+s%250, 1+s/256, s%256)
		if s == 0 {
			b.WriteString("  hosts: &hosts\n")
			for h := range hosts {
				fmt.Fprintf(&b, "  - {name: h%d, address: 10.1.0.%d, role: worker}\n", h, 2+h%250)
			}
			continue
		}
		b.WriteString("  hosts: *hosts\n")
	}
	return b.Bytes()
}

// manyHosts is a large honest file: one site of n hosts, the host at
// unknown carrying an unknown field.
func manyHosts(n, unknown int) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: planetstage.io/v1alpha1\nkind: Topology\nname: big\nunderlay: {prefix: 10.0.0.0/16}\n")
	b.WriteString("sites:\n- name: big\n  vlan: 10\n  prefix: 10.100.0.0/14\n")
	b.WriteString("  router: {name: r, kind: linux, wan: 10.0.0.2, lan: 10.100.0.1}\n  hosts:\n")
	for h := range n {
		extra := ""
		if h == unknown {
			extra = ", colour: blue"
		}
		a := h + 2 // after the network address and the router
		fmt.Fprintf(&b, "  - {name: h%d, address: 10.%d.%d.%d, role: worker%s}\n", h, 100+a/65536, a/256%256, a%256, extra)
	}
	return b.Bytes()
}

func TestParseRejectsAliasBombs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		// wantOn is on the line of the alias the problem names.
		wantOn, want string
	}{
		// 1 000 hosts × 999 sites: 7 million nodes from 140 KB.
		{"wide anchor, many references", aliasBomb(1000, 999), "hosts: *hosts", "alias *hosts expands the document beyond"},
		{"nested anchors", []byte("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"), "g: [*f", "alias *f expands the document beyond"},
		{"an anchor that contains its alias", []byte("sites: &s [{name: a, hosts: *s}]\n"), "sites: &s", "alias *s refers to a node that contains it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("bomb.yaml", tt.data)
			var fe *FileError
			require.True(t, errors.As(err, &fe), "got %v", err)
			require.Len(t, fe.Problems, 1, "one problem, found before decoding: %v", err)
			lines := strings.Split(string(tt.data), "\n")
			line := fe.Problems[0].Line
			require.True(t, line > 0 && line <= len(lines), "line %d", line)
			assert.Contains(t, lines[line-1], tt.wantOn)
			assert.Contains(t, fe.Problems[0].Message, tt.want)
		})
	}
}

func TestParseAcceptsAliasesWithinTheLimit(t *testing.T) {
	t.Parallel()
	// Anchors are for sharing: 2 000 hosts sharing one VM sizing is 2 000
	// aliases, and fine.
	var b bytes.Buffer
	b.Write(manyHosts(0, -1))
	b.WriteString("  - {name: h0, address: 10.100.0.2, role: worker, vm: &small {cpus: 1, memoryMB: 512}}\n")
	for h := 1; h < 2000; h++ {
		fmt.Fprintf(&b, "  - {name: h%d, address: 10.100.%d.%d, role: worker, vm: *small}\n", h, h/250, 2+h%250)
	}
	top, err := Parse("shared.yaml", b.Bytes())
	require.NoError(t, err)
	assert.Len(t, top.Sites[0].Hosts, 2000)
	assert.Equal(t, 512, top.Sites[0].Hosts[1999].VM.MemoryMB)
}

func TestLoadRejectsOversizedFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huge.yaml")
	// Comments only: an oversized file is refused by its size, not by what
	// the parser makes of it.
	line := []byte("# padding padding padding padding padding padding padding padding\n")
	data := bytes.Repeat(line, MaxFileSize/len(line)+1)
	require.NoError(t, os.WriteFile(path, data, 0o600))

	_, err := Load(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "16 MiB")

	_, err = Parse("huge.yaml", data)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "huge.yaml")
	assert.Contains(t, err.Error(), "16 MiB")

	// Negative control: a topology padded to exactly the limit loads.
	thesis := mustRead(t, "testdata/thesis.yaml")
	padded := bytes.NewBuffer(data[:0:0])
	for padded.Len()+len(line) <= MaxFileSize-len(thesis) {
		padded.Write(line)
	}
	switch rest := MaxFileSize - len(thesis) - padded.Len(); {
	case rest == 1:
		padded.WriteString("\n")
	case rest > 1:
		padded.WriteString("#" + strings.Repeat(" ", rest-2) + "\n")
	}
	padded.WriteString(thesis)
	require.Equal(t, MaxFileSize, padded.Len())
	top, err := Parse("padded.yaml", padded.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "thesis", top.Name)
}

// A large honest file still gets its problems reported, all of them and
// only them.
func TestParseManyHostsReportsTheirProblem(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("50 000 hosts take about a second")
	}
	_, err := Parse("big.yaml", manyHosts(50_000, 31_337))
	var fe *FileError
	require.True(t, errors.As(err, &fe), "got %v", err)
	require.Len(t, fe.Problems, 1, "first: %v", fe.Problems[0])
	assert.Equal(t, "sites[0].hosts[31337].colour", fe.Problems[0].Path)
	assert.Contains(t, fe.Problems[0].Message, `unknown field "colour"`)
}

// BenchmarkLoadHostile measures what a hostile or merely huge file costs:
// the alias bomb must be refused at the cost of reading it, and 50 000
// hosts with one problem stay in seconds (issue 19).
func BenchmarkLoadHostile(b *testing.B) {
	for _, bm := range []struct {
		name string
		data []byte
	}{
		{"alias-bomb-1000x999", aliasBomb(1000, 999)},
		{"alias-bomb-20000x999", aliasBomb(20000, 999)},
		{"hosts-50000-unknown-field", manyHosts(50_000, 31_337)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse("hostile.yaml", bm.data); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}
