package version

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetReadsThisBinary(t *testing.T) {
	v := Get()
	assert.Equal(t, runtime.Version(), v.Go)
	assert.NotEqual(t, Unknown, v.Planetstage, "a test binary of the module knows its module")
	assert.NotEmpty(t, v.NodeImage.Kubernetes)
	for p := range v.Modules {
		assert.Contains(t, libraries, p, "only the named libraries are listed")
	}
}

func TestWriteText(t *testing.T) {
	v := Info{Planetstage: "v1.2.3", Revision: "0123456789abcdef", Modified: true, Go: "go1.26.0",
		Modules: map[string]string{"sigs.k8s.io/yaml": "v1.4.0", "github.com/vmware/govmomi": "v0.56.0"}}
	var b bytes.Buffer
	require.NoError(t, v.WriteText(&b))
	lines := strings.Split(b.String(), "\n")
	assert.Equal(t, "planetstage v1.2.3 (0123456789ab, modified), go1.26.0", lines[0])
	assert.Contains(t, lines[1], "github.com/vmware/govmomi", "libraries sorted by path")
	assert.Contains(t, lines[2], "sigs.k8s.io/yaml")
	assert.True(t, strings.HasPrefix(lines[3], "node image: Kubernetes"))
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n++; f.n > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteTextReportsAFailedWrite(t *testing.T) {
	w := &failingWriter{}
	assert.EqualError(t, Get().WriteText(w), "disk full")
	assert.Equal(t, 2, w.n, "no write after the first failure")
}
