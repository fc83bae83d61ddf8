package vyosstandin_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/vyos/vyosstandin"
)

// HostSystem's daemons are real processes: started detached, seen
// running, stopped, their output in the log directory.
func TestHostSystemDaemons(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := vyosstandin.HostSystem{Root: dir, LogDir: filepath.Join(dir, "log")}
	ctx := context.Background()
	assert.False(t, h.Running("openvpn vtun9"))
	require.NoError(t, h.Start(ctx, "openvpn vtun9", "/bin/sh", "-c", "echo started; exec sleep 60"))
	t.Cleanup(func() { _ = h.Stop(context.Background(), "openvpn vtun9") })
	assert.True(t, h.Running("openvpn vtun9"))
	assert.Eventually(t, func() bool {
		log, _ := os.ReadFile(filepath.Join(dir, "log", "openvpn-vtun9.log"))
		return string(log) == "started\n"
	}, 5*time.Second, 20*time.Millisecond, "the daemon's output goes to its log")
	require.NoError(t, h.Stop(ctx, "openvpn vtun9"))
	assert.False(t, h.Running("openvpn vtun9"), "stopped (a zombie counts as gone)")
	assert.True(t, h.LinkExists("lo"))
	assert.False(t, h.LinkExists("vtun9"))
	assert.ErrorContains(t, h.Run(ctx, "/bin/sh", "-c", "echo nope >&2; exit 3"), "nope")
}
