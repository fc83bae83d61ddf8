package plan

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On a terminal the status line names the step running longest and moves;
// finished steps print their line above it; nothing is drawn once all
// are done.
func TestLiveStatusLine(t *testing.T) {
	t.Parallel()
	var b syncBuffer
	hook := liveEvery(&b, 10*time.Millisecond)
	k := StepResult{ID: "go/kubernetes", Target: "go build kubernetes", Action: Create, Start: time.Now()}
	e := StepResult{ID: "go/etcd", Target: "go build etcd", Action: Create, Start: time.Now()}
	hook.OnEvent(Event{Kind: Started, Step: k})
	hook.OnEvent(Event{Kind: Started, Step: e})
	require.Eventually(t, func() bool { return strings.Contains(b.String(), "\r\033[K … go build kubernetes (0s), and 1 more") }, 5*time.Second, 5*time.Millisecond)

	k.Outcome, k.Duration = Done, 3*time.Minute
	hook.OnEvent(Event{Kind: Finished, Step: k})
	require.Contains(t, b.String(), "\r\033[K ✓ create go build kubernetes (3m0s)\n\r\033[K … go build etcd (", "the line, then the status again")
	e.Outcome, e.Duration = Done, time.Minute
	hook.OnEvent(Event{Kind: Finished, Step: e})
	done := b.String()
	assert.True(t, strings.HasSuffix(done, "\r\033[K ✓ create go build etcd (1m0s)\n"), "%q", done)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, done, b.String(), "no status line once nothing runs")
}

// A pipe or a file gets Progress's plain lines; only a terminal gets Live.
func TestProgressForPlainOutput(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	require.NoError(t, err)
	defer f.Close()
	var buf bytes.Buffer
	for _, w := range []io.Writer{f, &buf} {
		h := ProgressFor(w)
		s := StepResult{ID: "a", Target: "a", Action: Create, Outcome: Done}
		h.OnEvent(Event{Kind: Started, Step: s})
		h.OnEvent(Event{Kind: Finished, Step: s})
	}
	data, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, " ✓ create a (0s)\n", string(data))
	assert.Equal(t, " ✓ create a (0s)\n", buf.String())
}
