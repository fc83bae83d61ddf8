package kubeadm

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
