package topology

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// Load reads, decodes and validates the topology file at path. Any problem
// — YAML syntax, an unknown field, a malformed address, an overlapping
// prefix — comes back in a *FileError listing every problem with its line
// and field; nothing is returned half-read. A file beyond MaxFileSize, or
// whose aliases stand for more than MaxNodes nodes, is refused before it
// is decoded.
func Load(path string) (*Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	defer f.Close()
	// Read one byte past the limit, no more: the file may be a device or
	// a pipe whose size Stat does not know.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if len(data) > MaxFileSize {
		size := int64(len(data))
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		return nil, &FileError{File: path, Problems: Problems{*sizeProblem(size)}}
	}
	t, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	t.resolvePaths(filepath.Dir(path))
	return t, nil
}

// resolvePaths makes the file names a topology file gives relative to its
// own directory, not to the working directory of whoever loads it.
func (t *Topology) resolvePaths(dir string) {
	if c := t.Cluster; c != nil && c.CNI != "" && c.CNI != CNIVXLAN && c.CNI != CNINone && !filepath.IsAbs(c.CNI) {
		c.CNI = filepath.Join(dir, c.CNI)
	}
}

// Parse is Load for data already read; name is what errors call the file.
func Parse(name string, data []byte) (t *Topology, err error) {
	inYAML := true
	defer func() {
		// The YAML parser is not ours; bad input must still be an error.
		// A panic past it is a bug of ours, and says so (FuzzParse looks).
		if p := recover(); p != nil {
			msg := fmt.Sprintf("cannot parse: %v", p)
			if !inYAML {
				msg = fmt.Sprintf("%s: %v (please report it)", internalError, p)
			}
			t, err = nil, &FileError{File: name, Problems: Problems{{Message: msg}}}
		}
	}()
	if p := sizeProblem(int64(len(data))); p != nil {
		return nil, &FileError{File: name, Problems: Problems{*p}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, &FileError{File: name, Problems: Problems{{Message: yamlMessage(err)}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FileError{File: name, Problems: Problems{{Line: extra.Line, Message: "more than one YAML document; a topology file holds one"}}}
	}
	if len(doc.Content) == 0 {
		return nil, &FileError{File: name, Problems: Problems{{Message: "empty file"}}}
	}
	inYAML = false
	if p := aliasProblem(&doc); p != nil {
		return nil, &FileError{File: name, Problems: Problems{*p}}
	}
	d := &decoder{lines: make(map[string]int)}
	t = new(Topology)
	d.decode(doc.Content[0], reflect.ValueOf(t).Elem(), "")
	t.SetDefaults()
	problems := d.problems
	for _, p := range t.validate() {
		// A field that did not decode is reported once, by the decoder.
		if !d.reported(p.Path) {
			p.Line = d.lineOf(p.Path)
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &FileError{File: name, Problems: problems}
	}
	return t, nil
}

// reported reports whether the decoder already found a problem at path or
// at a field that contains it.
func (d *decoder) reported(path string) bool {
	for _, p := range d.problems {
		if path == p.Path || strings.HasPrefix(path, p.Path+".") || strings.HasPrefix(path, p.Path+"[") {
			return true
		}
	}
	return false
}

// lineOf finds the line of path, or of its nearest decoded parent: a
// problem about a missing field points at the mapping that lacks it.
func (d *decoder) lineOf(path string) int {
	for p := path; p != ""; p = parent(p) {
		if line, ok := d.lines[p]; ok {
			return line
		}
	}
	return 0
}

func parent(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return path[:i]
		}
	}
	return ""
}

// internalError starts the message of a panic in the decoder or
// validator, which no input should cause.
const internalError = "internal error"

func yamlMessage(err error) string {
	return "invalid YAML: " + err.Error()
}

// Marshal returns t as a topology file.
func Marshal(t *Topology) ([]byte, error) {
	return sigsyaml.Marshal(t)
}
