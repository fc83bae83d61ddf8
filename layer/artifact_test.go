package layer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteArtifacts(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, WriteArtifacts(&b, "lb", []Artifact{
		{Machine: "lb", Layer: "lb", Title: "/etc/haproxy/haproxy.cfg", Content: "global\n"},
		{Machine: "lb", Layer: "routers", Title: "routes", Content: "no newline at the end"},
	}))
	assert.Equal(t, "# lb: /etc/haproxy/haproxy.cfg (lb)\nglobal\n\n# lb: routes (routers)\nno newline at the end\n", b.String())

	b.Reset()
	require.NoError(t, WriteArtifacts(&b, "node01", nil))
	assert.Equal(t, "# node01: no layer writes anything to this machine\n", b.String())
}
