package lab

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		event Event
		want  string
	}{
		{name: "a short phase starts silently", event: Event{Phase: PhaseNetworks}},
		{name: "a phase ends", event: Event{Phase: PhaseNetworks, Done: true, Elapsed: 1234 * time.Millisecond},
			want: " ✓ Creating networks (1.2s)\n"},
		{name: "with detail", event: Event{Phase: PhaseRelay, Detail: "on 10.0.0.1:40000-40002", Done: true, Elapsed: 50 * time.Millisecond},
			want: " ✓ Starting the WAN relay on 10.0.0.1:40000-40002 (100ms)\n"},
		{name: "a phase fails", event: Event{Phase: PhaseMachines, Done: true, Err: errors.New("no such image")},
			want: " ✗ Starting machines: no such image\n"},
		{name: "the long build is announced", event: Event{Phase: PhaseNodeImage, Detail: "(tens of minutes)"},
			want: " • Kubernetes node image (tens of minutes)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			Progress(&b)(tt.event)
			assert.Equal(t, tt.want, b.String())
		})
	}
}
