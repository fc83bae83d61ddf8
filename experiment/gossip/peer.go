package gossip

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

// The peer's source ships inside planetstage's module (directory peer): a
// module of its own there, with a go.mod, would be left out of
// planetstage's module zip, so an importer could not build it. Its go.mod
// is stored as go.mod.in, and its main.go carries the build constraint
// ignore, so that planetstage's builds and go mod tidy never see libp2p.
//
//go:embed peer/main.go peer/go.mod.in peer/go.sum
var peerSource embed.FS

// peerConstraint is main.go's first line, which WritePeerSource leaves
// out. (Building with -tags ignore instead would also build every
// dependency's generator files that carry the same constraint.)
const peerConstraint = "//go:build ignore\n"

// WritePeerSource writes the built-in peer's Go module into dir (created
// if missing): go.mod, go.sum and main.go without its ignore constraint,
// ready for go build. A harness that wants a peer of its own starts from
// it.
func WritePeerSource(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for from, to := range map[string]string{"peer/main.go": "main.go", "peer/go.mod.in": "go.mod", "peer/go.sum": "go.sum"} {
		data, err := peerSource.ReadFile(from)
		if err != nil {
			return err
		}
		if to == "main.go" {
			if !bytes.HasPrefix(data, []byte(peerConstraint)) {
				return fmt.Errorf("gossip: peer source: main.go does not begin with %q", peerConstraint)
			}
			data = data[len(peerConstraint):]
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			return fmt.Errorf("gossip: peer source: %w", err)
		}
	}
	return nil
}
