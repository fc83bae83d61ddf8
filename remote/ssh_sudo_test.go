package remote

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

const (
	sudoUser   = "pstest-sudo"   // may run anything as root without a password
	noSudoUser = "pstest-nosudo" // may not use sudo
	sudoersTmp = "/etc/sudoers.d/planetstage-remote-test"
)

// addTestUsers creates the two login users for the sudo tests, and removes
// them afterwards.
func addTestUsers(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("sudo not installed (apt-get install sudo)")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd not installed (apt-get install passwd)")
	}
	for _, u := range []string{sudoUser, noSudoUser} {
		_ = exec.Command("userdel", "-r", u).Run() // left over from a killed run
		out, err := exec.Command("useradd", "-m", "-s", "/bin/bash", u).CombinedOutput()
		require.NoError(t, err, "useradd %s: %s", u, out)
		// "*" rather than useradd's "!": sshd refuses logins to locked accounts.
		out, err = exec.Command("usermod", "-p", "*", u).CombinedOutput()
		require.NoError(t, err, "usermod %s: %s", u, out)
	}
	t.Cleanup(func() {
		_ = os.Remove(sudoersTmp)
		for _, u := range []string{sudoUser, noSudoUser} {
			_ = exec.Command("userdel", "-r", u).Run()
		}
	})
	require.NoError(t, os.WriteFile(sudoersTmp, []byte(sudoUser+" ALL=(ALL) NOPASSWD: ALL\n"), 0o440))
	out, err := exec.Command("visudo", "-c", "-f", sudoersTmp).CombinedOutput()
	require.NoError(t, err, "visudo: %s", out)
}

func TestSSHSudo(t *testing.T) {
	t.Parallel()
	requireSSHD(t)
	addTestUsers(t)
	key := []ssh.PublicKey{clientKey().signer.PublicKey()}
	srv := startSSHD(t, sshdOptions{IP: "127.0.0.9", Users: map[string][]ssh.PublicKey{sudoUser: key, noSudoUser: key}})
	user := func(name string, sudo bool) *SSH {
		cfg := srv.rootConfig(t)
		cfg.User, cfg.Sudo, cfg.Name = name, sudo, name
		return newSSHRunner(t, cfg)
	}

	t.Run("login user without sudo", func(t *testing.T) {
		t.Parallel()
		out, err := Output(t.Context(), user(sudoUser, false), "id -un")
		require.NoError(t, err)
		assert.Equal(t, sudoUser+"\n", out)
	})
	t.Run("sudo runs as root", func(t *testing.T) {
		t.Parallel()
		r := user(sudoUser, true)
		out, err := Output(t.Context(), r, "id -un")
		require.NoError(t, err)
		assert.Equal(t, "root\n", out)
		// Files only root may write and read.
		path := filepath.Join("/root", ".planetstage-sudo-test-"+filepath.Base(t.TempDir()), "secret")
		t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(path)) })
		require.NoError(t, r.WriteFile(t.Context(), path, []byte("s3cret"), 0o600))
		got, err := r.ReadFile(t.Context(), path)
		require.NoError(t, err)
		assert.Equal(t, "s3cret", string(got))
		owner, err := Output(t.Context(), r, "stat -c %U:%a "+ShellQuote(path))
		require.NoError(t, err)
		assert.Equal(t, "root:600\n", owner)
		// The same file is out of reach without sudo.
		_, err = user(sudoUser, false).ReadFile(t.Context(), path)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "cannot search directory")
	})
	t.Run("sudo contract", func(t *testing.T) {
		t.Parallel()
		testRunnerContract(t, user(sudoUser, true), t.TempDir())
	})
	t.Run("sudo refused", func(t *testing.T) {
		t.Parallel()
		r := user(noSudoUser, true)
		_, err := Output(t.Context(), r, "true")
		require.Error(t, err)
		assert.Contains(t, err.Error(), noSudoUser)
		assert.Contains(t, strings.ToLower(err.Error()), "password is required")
		err = r.WriteFile(t.Context(), "/tmp/planetstage-never", []byte("TOPSECRET-token"), 0o600)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "TOPSECRET", "file content in an error")
		assert.Contains(t, err.Error(), "write /tmp/planetstage-never")
		assert.Contains(t, err.Error(), "password is required")
		assert.NotContains(t, err.Error(), "mktemp", "the script's text is not the error")
	})
}
