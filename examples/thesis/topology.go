package main

import (
	_ "embed"

	"github.com/planetstage/planetstage/topology"
)

// thesisYAML is the thesis's testbed (DESIGN.md's table); package
// topology's Example builds the same topology in Go.
//
//go:embed thesis.yaml
var thesisYAML []byte

// Thesis returns the thesis's testbed, decoded from thesis.yaml.
func Thesis() *topology.Topology {
	t, err := topology.Parse("thesis.yaml", thesisYAML)
	if err != nil {
		panic("thesis.yaml: " + err.Error()) // a bug of this program: the file is built in
	}
	return t
}
