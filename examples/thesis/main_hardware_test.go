package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hardware path itself needs real ESXi hosts and machines; here only
// its input is checked (nothing is dialled: a bad list fails first).
func TestEsxiFlagNeedsOneURLPerHypervisor(t *testing.T) {
	t.Parallel()
	for _, urls := range []string{"https://127.0.0.1:1/sdk", "https://a/sdk,https://b/sdk,https://c/sdk", "ftp://x,https://127.0.0.1:1/sdk"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"--esxi", urls}, &out, &errOut)
		assert.Equal(t, 2, code, urls)
		assert.Contains(t, errOut.String(), "--esxi", urls)
	}
	var out, errOut bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"--esxi", "https://127.0.0.1:1/sdk,https://127.0.0.1:2/sdk", "--geo", "planet"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "--geo planet: the lab's emulated latency")
	top, err := onHardware(Thesis(), "https://127.0.0.1:1/sdk, https://127.0.0.1:2/sdk", "")
	if assert.NoError(t, err) {
		assert.Equal(t, "https://127.0.0.1:2/sdk", top.Hypervisors[1].URL)
		assert.Equal(t, "https://10.4.0.14/sdk", Thesis().Hypervisors[1].URL, "the thesis itself is unchanged")
	}
}
