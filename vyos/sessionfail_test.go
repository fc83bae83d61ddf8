package vyos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
)

// A configure session that did not run to its end is a failure, whatever
// VyOS printed before: Apply and Remove must not report success when vbash
// is missing, save fails, or the session is killed or exits non-zero.
func TestSessionFailuresAreErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inject func(f *fakeVyOS)
		want   string
	}{
		{"vbash missing", func(f *fakeVyOS) { f.noVbash = true }, "vbash not found"},
		{"save fails", func(f *fakeVyOS) { f.failSave = true }, "save failed"},
		{"killed during commit", func(f *fakeVyOS) { f.stopAfter, f.stopStatus = "commit", 137 }, "exited with status 137"},
		{"ended quietly during commit", func(f *fakeVyOS) { f.stopAfter, f.stopStatus = "commit", 0 }, "ended before the end of the script"},
		{"connection lost during commit", func(f *fakeVyOS) { f.stopAfter, f.stopStatus = "commit", -1 }, "connection lost"},
		{"non-zero exit", func(f *fakeVyOS) { f.exitStatus = 2 }, "exited with status 2"},
	}
	for _, tc := range cases {
		for _, op := range []string{"apply", "remove"} {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				f := newFakeVyOS(V15)
				r := dialFake(t, f)
				c := thesisConfig(t, V15, openvpn.TLS)
				if op == "remove" {
					require.NoError(t, Apply(ctx, r, c, Options{}))
				}
				f.mu.Lock()
				tc.inject(f)
				f.mu.Unlock()
				var err error
				if op == "apply" {
					err = Apply(ctx, r, c, Options{})
				} else {
					err = Remove(ctx, r, c, Options{})
				}
				require.Error(t, err, "a session that did not finish is not a success")
				assert.Contains(t, err.Error(), tc.want)
				assert.Contains(t, err.Error(), `router "vyos01"`)
				assertNoSecret(t, "the error", err.Error(), publicTextOf(c), secretsOf(c))
			})
		}
	}
}

// Negative control for the faults above: without one, the same fake
// applies and removes.
func TestSessionWithoutFaultSucceeds(t *testing.T) {
	t.Parallel()
	f := newFakeVyOS(V15)
	r := dialFake(t, f)
	c := thesisConfig(t, V15, openvpn.TLS)
	require.NoError(t, Apply(t.Context(), r, c, Options{}))
	require.NoError(t, Remove(t.Context(), r, c, Options{}))
}

// A commit-confirm that is not confirmed is rolled back by VyOS: Apply must
// not report success when confirm fails.
func TestFailedConfirmIsAnError(t *testing.T) {
	t.Parallel()
	f := newFakeVyOS(V14)
	f.failConfirm = true
	r := dialFake(t, f)
	c := thesisConfig(t, V14, openvpn.StaticKey)
	err := Apply(t.Context(), r, c, Options{ConfirmMinutes: 5})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "confirm after commit-confirm (VyOS rolls back in 5 minutes)")
	assert.Contains(t, err.Error(), "planetstage: confirm failed")
}
