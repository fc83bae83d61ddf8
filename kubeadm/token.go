package kubeadm

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/planetstage/planetstage/secret"
)

// DefaultTokenTTL bounds a bootstrap token's life. Cluster API uses the same
// 15 minutes and refreshes the token when a join comes later; so do we.
const DefaultTokenTTL = 15 * time.Minute

// RedactedToken stands in for the bootstrap token in rendered configs shown
// to people. It has a token's shape, so a redacted config still passes
// kubeadm's validation.
const RedactedToken = "xxxxxx.xxxxxxxxxxxxxxxx"

var tokenFormat = regexp.MustCompile(`^[a-z0-9]{6}\.[a-z0-9]{16}$`)

// Token is a kubeadm bootstrap token ("abcdef.0123456789abcdef") and the time
// the API server forgets it.
type Token struct {
	Value   string    `json:"value"`
	Expires time.Time `json:"expires"`
}

// String hides the token's secret half, so a Token can be logged.
func (t Token) String() string {
	if len(t.Value) < 6 {
		return "<no token>"
	}
	return t.Value[:6] + "." + secret.Redacted
}

// ValidFor says whether the token exists and stays valid for at least d after now.
func (t Token) ValidFor(now time.Time, d time.Duration) bool {
	return tokenFormat.MatchString(t.Value) && t.Expires.After(now.Add(d))
}

// NewToken returns a random bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}) that
// expires ttl after now. rnd is crypto/rand.Reader unless a test says otherwise.
func NewToken(rnd io.Reader, now time.Time, ttl time.Duration) (Token, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 23)
	buf := make([]byte, 1)
	for len(out) < 23 {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return Token{}, fmt.Errorf("bootstrap token: %w", err)
		}
		// Reject bytes past the last whole multiple of 36 so every
		// character is equally likely.
		if buf[0] >= 252 {
			continue
		}
		out = append(out, alphabet[int(buf[0])%len(alphabet)])
		if len(out) == 6 {
			out = append(out, '.')
		}
	}
	return Token{Value: string(out), Expires: now.Add(ttl).UTC().Truncate(time.Second)}, nil
}

func (t Token) marshal() ([]byte, error) { return json.Marshal(t) }

// tokenSecret is t as the Secret in kube-system that makes it a bootstrap
// token, with the usages and group `kubeadm token create` gives a join
// token (JSON, which kubectl apply reads as YAML).
func tokenSecret(t Token) []byte {
	data, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
		"metadata": map[string]string{"name": "bootstrap-token-" + t.Value[:6], "namespace": "kube-system"},
		"stringData": map[string]string{
			"description":                    "join token made by planetstage",
			"token-id":                       t.Value[:6],
			"token-secret":                   t.Value[7:],
			"expiration":                     t.Expires.UTC().Format(time.RFC3339),
			"usage-bootstrap-authentication": "true",
			"usage-bootstrap-signing":        "true",
			"auth-extra-groups":              "system:bootstrappers:kubeadm:default-node-token",
		},
	})
	return data
}

func parseToken(b []byte) (Token, error) {
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return Token{}, fmt.Errorf("bootstrap token: stored token is not valid JSON")
	}
	if !tokenFormat.MatchString(t.Value) {
		return Token{}, fmt.Errorf("bootstrap token: stored token has the wrong format")
	}
	return t, nil
}
