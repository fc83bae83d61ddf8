//go:build tools

// Package tools records the main packages this wrapper module builds, so
// that go mod tidy keeps their dependencies pinned in go.sum.
package tools

import (
	_ "github.com/opencontainers/runc"
)
