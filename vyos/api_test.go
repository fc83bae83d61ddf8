package vyos

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/openvpn"
)

// fakeAPI is a test stand-in for VyOS's HTTPS API: the request and reply
// shapes of the reference (form fields data and key; {"success", "data",
// "error"}), a running config of set lines, and an injectable commit error.
type fakeAPI struct {
	key string

	mu         sync.Mutex
	running    []string
	saved      []string
	configures int
	failOn     string // a /configure whose ops touch this path fails
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reply := func(code int, data any, errMsg string) {
		w.WriteHeader(code)
		var e any
		if errMsg != "" {
			e = errMsg
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"success": code == 200, "data": data, "error": e})
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		reply(400, nil, "bad form")
		return
	}
	if r.FormValue("key") != f.key {
		reply(401, nil, "Valid API key is required")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/show":
		var b strings.Builder
		for _, l := range f.running {
			b.WriteString("set " + l + "\n")
		}
		reply(200, b.String(), "")
	case "/configure":
		f.configures++
		var ops []apiOp
		if err := json.Unmarshal([]byte(r.FormValue("data")), &ops); err != nil {
			reply(400, nil, "bad data")
			return
		}
		candidate := append([]string(nil), f.running...)
		for _, op := range ops {
			line := strings.Join(op.Path, " ")
			if f.failOn != "" && strings.Contains(line, f.failOn) {
				reply(400, nil, "[ "+line+" ]\nVyOS rejected it\n\nCommit failed")
				return
			}
			if op.Op == "delete" {
				candidate = deleteUnder(candidate, line)
			} else {
				candidate = append(candidate, line)
			}
		}
		f.running = candidate
		reply(200, nil, "")
	case "/config-file":
		f.saved = append([]string(nil), f.running...)
		reply(200, "Saving configuration to '/config/config.boot'...\nDone\n", "")
	default:
		reply(404, nil, "not found")
	}
}

func deleteUnder(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if l != prefix && !strings.HasPrefix(l, prefix+" ") {
			out = append(out, l)
		}
	}
	return out
}

func TestApplyOverAPI(t *testing.T) {
	t.Parallel()
	f := &fakeAPI{key: "api-key-SECRET"}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	api := &API{URL: srv.URL, Key: f.key, Client: srv.Client()} // trusts exactly the test server's certificate
	c := thesisConfig(t, V15, openvpn.TLS)
	ctx := t.Context()

	d, err := InspectAPI(ctx, api, c)
	require.NoError(t, err)
	assert.False(t, d.Installed)
	require.NoError(t, ApplyAPI(ctx, api, c))
	f.mu.Lock()
	assert.ElementsMatch(t, keys(c.Commands), f.running)
	assert.Equal(t, f.running, f.saved)
	assert.Equal(t, 1, f.configures, "one /configure: one commit")
	f.mu.Unlock()

	require.NoError(t, ApplyAPI(ctx, api, c))
	f.mu.Lock()
	assert.Equal(t, 1, f.configures, "re-apply sends nothing")
	f.running = deleteUnder(f.running, "interfaces openvpn vtun1 tls role")
	f.mu.Unlock()
	d, err = InspectAPI(ctx, api, c)
	require.NoError(t, err)
	require.Len(t, d.Commands, 1)
	assert.Equal(t, "set interfaces openvpn vtun1 tls role passive", d.Commands[0].String())
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	f := &fakeAPI{key: "right", failOn: "private key"}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	c := thesisConfig(t, V14, openvpn.TLS)

	err := ApplyAPI(t.Context(), &API{URL: srv.URL, Key: "wrong-key-SECRET", Client: srv.Client()}, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "HTTP 401")
	assert.NotContains(t, err.Error(), "SECRET", "the API key is never in errors")

	err = ApplyAPI(t.Context(), &API{URL: srv.URL, Key: "right", Client: srv.Client()}, c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Commit failed")
	for _, cmd := range c.Commands {
		if cmd.Secret {
			assert.NotContains(t, err.Error(), cmd.Path[len(cmd.Path)-1])
		}
	}

	// An untrusted certificate is refused: no silent InsecureSkipVerify.
	_, err = (&API{URL: srv.URL, Key: "right"}).Running(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")

	_, err = InspectAPI(t.Context(), &API{URL: srv.URL, Key: "right", Client: srv.Client()}, thesisConfig(t, V13, openvpn.TLS))
	assert.ErrorContains(t, err, "apply over SSH")
}

// After a key rotation the /configure call deletes the old key first; VyOS
// quoting that delete in its error must not put the old key in ours.
func TestAPIErrorAfterRotationShowsNoKey(t *testing.T) {
	t.Parallel()
	f := &fakeAPI{key: "right"}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	api := &API{URL: srv.URL, Key: "right", Client: srv.Client()}
	old := thesisConfig(t, V15, openvpn.TLS)
	require.NoError(t, ApplyAPI(t.Context(), api, old))
	renewed := thesisConfig(t, V15, openvpn.TLS)
	f.mu.Lock()
	f.failOn = "private key"
	f.mu.Unlock()
	err := ApplyAPI(t.Context(), api, renewed)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "private key", "VyOS quoted the first op on the key: the delete of the old one")
	assertNoSecret(t, "the error", err.Error(), publicTextOf(old)+publicTextOf(renewed), append(secretsOf(old), secretsOf(renewed)...))
}
