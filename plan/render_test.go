package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleResult() *Result {
	return &Result{Applied: false, Duration: 1200 * time.Millisecond, Steps: []StepResult{
		{ID: "esxi/pg/site-c", Layer: "esxi", Target: "port group site-c on esxi2", Action: Create, Reason: "missing", Outcome: Done},
		{ID: "esxi/vm/node03", Layer: "esxi", Target: "vm node03 on esxi2 (VLAN 30)", Deps: []string{"esxi/pg/site-c"}, Action: Update, Reason: "VLAN is 20, want 30", Outcome: Done},
		{ID: "routers/vyos01", Layer: "routers", Target: "router vyos01", Action: NoOp, Outcome: Done},
		{ID: "routers/vyos02", Layer: "routers", Target: "router vyos02", Outcome: Failed, Err: errors.New("dial: refused")},
		{ID: "cluster/init", Layer: "cluster", Target: "kubeadm init on master01", Deps: []string{"routers/vyos02"}, Outcome: Skipped, Err: errors.New(`skipped: dependency "routers/vyos02" failed`)},
	}}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, sampleResult().WriteText(&b))
	assert.Equal(t, `+ create    port group site-c on esxi2 (missing)
~ update    vm node03 on esxi2 (VLAN 30) (VLAN is 20, want 30)
= unchanged router vyos01
! failed    router vyos02: dial: refused
? skipped   kubeadm init on master01: skipped: dependency "routers/vyos02" failed
plan: 1 created, 1 updated, 1 unchanged, 1 failed, 1 skipped in 1.2s
`, b.String())
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, sampleResult().WriteJSON(&b))
	var got struct {
		Steps []map[string]any `json:"steps"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	require.Len(t, got.Steps, 5)
	first := got.Steps[1]
	assert.Equal(t, "esxi/vm/node03", first["id"])
	assert.Equal(t, "update", first["action"])
	assert.Equal(t, "esxi", first["layer"])
	assert.Equal(t, []any{"esxi/pg/site-c"}, first["deps"])
	assert.Equal(t, "VLAN is 20, want 30", first["reason"])
	assert.Equal(t, []any{}, got.Steps[0]["deps"], "no deps is an empty list, not null")
}

func TestWriteDOTAndMermaid(t *testing.T) {
	t.Parallel()
	var dot, mermaid bytes.Buffer
	require.NoError(t, sampleResult().WriteDOT(&dot))
	require.NoError(t, sampleResult().WriteMermaid(&mermaid))
	assert.Contains(t, dot.String(), `"esxi/vm/node03" -> "esxi/pg/site-c";`)
	assert.Contains(t, dot.String(), `"esxi/vm/node03" [label = "~ esxi/vm/node03"];`)
	assert.Contains(t, mermaid.String(), "flowchart RL\n")
	assert.Contains(t, mermaid.String(), "\ts1 --> s0\n")
	assert.Contains(t, mermaid.String(), "\ts4 --> s3\n")
}

func TestTimingReport(t *testing.T) {
	t.Parallel()
	r := sampleResult()
	r.Steps[0].Duration = 2500 * time.Millisecond
	rep := r.Timing()
	require.Len(t, rep.Steps, 5)
	assert.Equal(t, 2.5, rep.Steps[0].Seconds)
	assert.Equal(t, Failed, rep.Steps[3].Outcome)
	assert.Equal(t, "dial: refused", rep.Steps[3].Error)
	assert.InDelta(t, 1.2, rep.TotalSeconds, 1e-9)
}

func TestProgressLines(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	hook := Progress(&b)
	for _, s := range sampleResult().Steps {
		hook.OnEvent(Event{Kind: Started, Step: s})
		hook.OnEvent(Event{Kind: Finished, Step: s})
	}
	assert.Equal(t, ` ✓ create port group site-c on esxi2: missing (0s)
 ✓ update vm node03 on esxi2 (VLAN 30): VLAN is 20, want 30 (0s)
 = router vyos01 (unchanged)
 ✗ router vyos02: dial: refused
 - kubeadm init on master01 (skipped)
`, b.String())
}

// syncBuffer is a bytes.Buffer that the progress timers may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A long step says it is still running, again and again, until it ends;
// then it says nothing more.
func TestProgressLongStepsMove(t *testing.T) {
	t.Parallel()
	var b syncBuffer
	hook := progressEvery(&b, 20*time.Millisecond, 20*time.Millisecond)
	s := StepResult{ID: "node-image/go/kubernetes", Target: "go build kubernetes", Action: Create, Start: time.Now()}
	hook.OnEvent(Event{Kind: Started, Step: s})
	require.Eventually(t, func() bool { return strings.Count(b.String(), " … go build kubernetes (") >= 2 }, 5*time.Second, 5*time.Millisecond)
	s.Outcome, s.Duration = Done, 2*time.Minute
	hook.OnEvent(Event{Kind: Finished, Step: s})
	after := b.String()
	assert.True(t, strings.HasSuffix(after, " ✓ create go build kubernetes (2m0s)\n"), after)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, after, b.String(), "nothing after the step finished")
}

// Steps running side by side share one "still running" line, said by the
// one running longest.
func TestProgressOneLineForStepsSideBySide(t *testing.T) {
	t.Parallel()
	var b syncBuffer
	hook := progressEvery(&b, 20*time.Millisecond, 20*time.Millisecond)
	start := time.Now()
	for i, name := range []string{"node01", "node02", "node03"} {
		hook.OnEvent(Event{Kind: Started, Step: StepResult{ID: name, Target: "power of vm " + name, Start: start.Add(time.Duration(i) * time.Millisecond)}})
	}
	require.Eventually(t, func() bool { return strings.Count(b.String(), "\n") >= 2 }, 5*time.Second, 5*time.Millisecond)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		assert.Regexp(t, `^ … power of vm node01 \(\d+s\), and 2 more running$`, line)
	}
	for _, name := range []string{"node01", "node02", "node03"} {
		hook.OnEvent(Event{Kind: Finished, Step: StepResult{ID: name, Target: "power of vm " + name, Action: Create, Outcome: Done}})
	}
}
