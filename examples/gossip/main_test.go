package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Bad flags stop the program before any lab is touched.
func TestFlagsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: gossip --out DIR"},
		{[]string{"--out", t.TempDir(), "--geo", "atlantis"}, `geo preset "atlantis": unknown`},
		{[]string{"--out", t.TempDir(), "extra"}, "usage: gossip --out DIR"},
	} {
		var out, errOut bytes.Buffer
		code := run(t.Context(), tc.args, &out, &errOut)
		assert.Equal(t, 2, code, "%v", tc.args)
		assert.Contains(t, errOut.String(), tc.want)
	}
}
