package topology

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustRead(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}
