package openvpn

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLook(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("conf"))
	out := "welcome from a noisy login shell\n" +
		lookFiles + "\n" + hex.EncodeToString(sum[:]) + "  /etc/openvpn/planetstage/vtun0.conf\n" +
		lookExec + "\n/etc/boot.d/50-openvpn\n" +
		lookRunning + "\nvtun0\n" +
		lookPids + "\nvtun0.pid\nvtun7.pid\n" +
		lookForward + "\n1\n" +
		lookRoutes + "\n192.168.20.0/24 via 10.255.0.2 dev vtun0\n192.168.2.0/24 via 10.255.0.9 dev vtun3\n10.4.0.0/24 dev eth0 proto kernel scope link src 10.4.0.90\n" +
		lookEnd + "\n"
	lk, err := parseLook(out, "r1")
	require.NoError(t, err)
	assert.True(t, lk.same("/etc/openvpn/planetstage/vtun0.conf", []byte("conf")))
	assert.False(t, lk.same("/etc/openvpn/planetstage/vtun0.conf", []byte("other")))
	assert.False(t, lk.same("/missing", nil), "a missing file is never the same, not even as an empty one")
	assert.True(t, lk.exec["/etc/boot.d/50-openvpn"])
	assert.True(t, lk.running["vtun0"])
	assert.Equal(t, []string{"vtun0.pid", "vtun7.pid"}, lk.pids)
	assert.Equal(t, "1", lk.forward)
	assert.Equal(t, "192.168.20.0/24 via 10.255.0.2 dev vtun0", lk.route("192.168.20.0/24"), "exactly that prefix, not 192.168.2.0/24")
	assert.Empty(t, lk.route("192.168.30.0/24"))

	_, err = parseLook(lookFiles+"\n"+lookExec+"\n", "r1")
	assert.ErrorContains(t, err, `router "r1": the state read stopped before its end`)
	_, err = parseLook(lookFiles+"\nnot a sum line\n"+lookEnd+"\n", "r1")
	assert.ErrorContains(t, err, "unexpected sha256sum line")
}
