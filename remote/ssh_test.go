package remote

import (
	"testing"
)

func TestSSHContract(t *testing.T) {
	t.Parallel()
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.2"})
	r := newSSHRunner(t, srv.rootConfig(t))
	testRunnerContract(t, r, t.TempDir())
}
