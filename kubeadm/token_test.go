package kubeadm

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 50 {
		tok, err := NewToken(nil, testNow, DefaultTokenTTL)
		require.NoError(t, err)
		assert.Regexp(t, `^[a-z0-9]{6}\.[a-z0-9]{16}$`, tok.Value)
		assert.Equal(t, testNow.Add(DefaultTokenTTL), tok.Expires)
		assert.False(t, seen[tok.Value], "token repeated")
		seen[tok.Value] = true
		assert.NotContains(t, tok.String(), tok.Value[7:], "String must hide the secret half")
	}
	_, err := NewToken(bytes.NewReader([]byte{1, 2}), testNow, time.Minute)
	assert.Error(t, err, "a short random source must fail, not give a short token")
}

func TestTokenValidFor(t *testing.T) {
	t.Parallel()
	tok := Token{Value: "abcdef.0123456789abcdef", Expires: testNow.Add(10 * time.Minute)}
	tests := []struct {
		name string
		tok  Token
		need time.Duration
		want bool
	}{
		{"long enough", tok, 5 * time.Minute, true},
		{"expires too soon", tok, 11 * time.Minute, false},
		{"empty", Token{}, 0, false},
		{"malformed", Token{Value: "ABCDEF.0123456789abcdef", Expires: tok.Expires}, 0, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.tok.ValidFor(testNow, tt.need), tt.name)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	tok := Token{Value: "abcdef.0123456789abcdef", Expires: testNow}
	b, err := tok.marshal()
	require.NoError(t, err)
	got, err := parseToken(b)
	require.NoError(t, err)
	assert.Equal(t, tok.Value, got.Value)
	assert.True(t, tok.Expires.Equal(got.Expires))
	_, err = parseToken([]byte(`{"value":"nope"}`))
	assert.Error(t, err)
}

// A failing command's output is scrubbed before it is cut to its tail: a
// cut through the token would leave a part that no longer matches it.
func TestRunScrubsBeforeItCuts(t *testing.T) {
	t.Parallel()
	tok := Token{Value: "abcdef.0123456789abcdef", Expires: testNow.Add(time.Hour)}
	raw, err := tok.marshal()
	require.NoError(t, err)
	// The token's last characters end up just inside the 1024-byte tail.
	stderr := strings.Repeat("x", 2000) + tok.Value + strings.Repeat("y", 1024-10)
	b, _, _ := newTestBootstrapper(t, func(string, string) kubeadmtest.Reply {
		return kubeadmtest.Reply{Status: 1, Stderr: stderr}
	})
	require.NoError(t, b.Store.Write(storeToken, raw, true))
	r, err := b.Dial(t.Context(), "master01")
	require.NoError(t, err)
	_, err = b.run(t.Context(), r, "kubeadm join", nil)
	require.Error(t, err)
	for _, part := range []string{tok.Value[7:], tok.Value[13:], tok.Value[len(tok.Value)-8:]} {
		assert.NotContains(t, err.Error(), part)
	}
}

// A malformed token is an error, not a panic, in every config that
// carries one.
func TestConfigsRefuseAMalformedToken(t *testing.T) {
	t.Parallel()
	c := thesisCluster()
	for _, v := range []string{"", "short", "abcdef0123456789abcdef"} {
		s := Secrets{Token: Token{Value: v, Expires: testNow.Add(time.Hour)}}
		_, err := c.InitConfig(s, testNow)
		assert.ErrorContains(t, err, "has the wrong format", "%q", v)
		_, err = c.JoinConfig("node01", s)
		assert.Error(t, err, "%q", v)
	}
}
