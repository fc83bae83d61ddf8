package layer

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSSHPoolReachesHostsThroughTheirRouter(t *testing.T) {
	t.Parallel()
	top := loadThesis(t)
	pool := NewSSHPool(top, nil)

	router, err := pool.Config("vyos02")
	require.NoError(t, err)
	assert.Equal(t, "10.4.0.91:22", router.Addr, "routers at their WAN address")
	assert.Nil(t, router.Jump)
	assert.Equal(t, "~/.ssh/known_hosts", router.KnownHostsFile)
	assert.False(t, router.InsecureIgnoreHostKey, "host keys are checked unless the topology opts out")
	assert.False(t, router.Sudo, "root needs no sudo")

	host, err := pool.Config("node03")
	require.NoError(t, err)
	assert.Equal(t, "192.168.30.101:22", host.Addr)
	require.NotNil(t, host.Jump, "hosts through their site's router")
	assert.Equal(t, "vyos03", host.Jump.Name)
	assert.Equal(t, "10.4.0.92:22", host.Jump.Addr)

	top.SSH.User, top.SSH.Port = "ops", 2222
	cfg, err := NewSSHPool(top, nil).Config("master01")
	require.NoError(t, err)
	assert.True(t, cfg.Sudo, "a non-root user runs through sudo")
	assert.False(t, cfg.Jump.Sudo, "but not on a VyOS router, whose scripts must run as the login user")
	assert.Equal(t, "192.168.10.101:2222", cfg.Addr)

	_, err = pool.Config("nope")
	assert.ErrorContains(t, err, `no machine "nope"`)
	require.NoError(t, pool.Close())
}

func TestSSHPoolWarnsWhenHostKeysAreNotChecked(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	top := loadThesis(t)
	NewSSHPool(top, log)
	assert.Empty(t, logs.String(), "host keys checked: nothing to warn about")
	top.SSH.InsecureIgnoreHostKey = true
	NewSSHPool(top, log)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "host key checking is off")
}
