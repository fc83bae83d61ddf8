package remote

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLocalContract(t *testing.T) {
	t.Parallel()
	testRunnerContract(t, &Local{Name: "here"}, t.TempDir())
}

func TestLocalHost(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "localhost", (&Local{}).Host())
	assert.Equal(t, "router", (&Local{Name: "router"}).Host())
}
