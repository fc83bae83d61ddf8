package vyos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
)

// API is a client of VyOS's HTTPS API (VyOS 1.3 and newer; 1.2.3+ has an
// early form without /show, which this client does not support). The API key
// is a secret: it is sent in the request body, never logged or put in
// errors.
//
// VyOS 1.5 needs "set service https api rest" besides the key; 1.3 and 1.4
// only "set service https api keys id ID key KEY". VyOS serialises commits
// badly under concurrent API calls, so an API serialises its own calls.
type API struct {
	// URL is the router's base URL, "https://10.4.0.90".
	URL string
	Key string
	// Client defaults to http.DefaultClient. A router's API certificate is
	// often self-signed: give a client whose TLS config trusts it (pin it)
	// rather than turning verification off.
	Client *http.Client

	mu sync.Mutex
}

type apiReply struct {
	Success bool            `json:"success"`
	Data    json.RawMessage `json:"data"`
	Error   *string         `json:"error"`
}

// call posts data (JSON) with the key as form fields, as VyOS's API takes
// them, and returns the reply's data.
func (a *API) call(ctx context.Context, endpoint string, data any) (json.RawMessage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	js, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("data", string(js))
	_ = w.WriteField("key", a.Key)
	if err := w.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(a.URL, "/")+endpoint, &body)
	if err != nil {
		return nil, fmt.Errorf("vyos api %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	client := a.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vyos api %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("vyos api %s: %w", endpoint, err)
	}
	var r apiReply
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("vyos api %s: HTTP %d, not a VyOS API reply", endpoint, resp.StatusCode)
	}
	if !r.Success || resp.StatusCode != http.StatusOK {
		msg := "no error message"
		if r.Error != nil {
			msg = *r.Error
		}
		return nil, fmt.Errorf("vyos api %s: HTTP %d: %s", endpoint, resp.StatusCode, msg)
	}
	return r.Data, nil
}

// Running reads the active configuration as set commands (POST /show).
func (a *API) Running(ctx context.Context) ([]Command, error) {
	data, err := a.call(ctx, "/show", map[string]any{"op": "show", "path": []string{"configuration", "commands"}})
	if err != nil {
		return nil, err
	}
	var out string
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("vyos api /show: data is not text")
	}
	return ParseCommands(out), nil
}

type apiOp struct {
	Op   string   `json:"op"`
	Path []string `json:"path"`
}

// Configure sends cmds as one list, which VyOS commits as one session.
func (a *API) Configure(ctx context.Context, cmds []Command) error {
	ops := make([]apiOp, 0, len(cmds))
	for _, c := range cmds {
		op := "set"
		if c.Delete {
			op = "delete"
		}
		ops = append(ops, apiOp{Op: op, Path: c.Path})
	}
	_, err := a.call(ctx, "/configure", ops)
	return err
}

// Save writes the running configuration to the boot configuration.
func (a *API) Save(ctx context.Context) error {
	_, err := a.call(ctx, "/config-file", map[string]string{"op": "save"})
	return err
}

// InspectAPI is Inspect over the HTTPS API. Configs with files (1.2/1.3)
// cannot be applied over the API, which writes no files.
func InspectAPI(ctx context.Context, a *API, c *Config) (Drift, error) {
	if len(c.Files) > 0 {
		return Drift{}, fmt.Errorf("router %q: VyOS %s keeps keys in files, which the HTTPS API cannot write; apply over SSH", c.Router, c.Dialect)
	}
	running, err := a.Running(ctx)
	if err != nil {
		return Drift{}, fmt.Errorf("router %q: %w", c.Router, err)
	}
	d := Drift{Commands: Diff(c, running)}
	for _, cmd := range running {
		d.Installed = d.Installed || hasPrefix(cmd.Path, []string{"interfaces", "openvpn"})
	}
	return d, nil
}

// ApplyAPI is Apply over the HTTPS API: the differing commands in one
// /configure call, then save. Commit-confirm over the API exists only in
// recent rolling releases and is not offered.
func ApplyAPI(ctx context.Context, a *API, c *Config) error {
	d, err := InspectAPI(ctx, a, c)
	if err != nil {
		return err
	}
	if len(d.Commands) == 0 {
		return nil
	}
	if err := a.Configure(ctx, d.Commands); err != nil {
		return errors.New(redact(fmt.Sprintf("router %q: %v", c.Router, err), c, d.Commands))
	}
	if err := a.Save(ctx); err != nil {
		return fmt.Errorf("router %q: %w", c.Router, err)
	}
	return nil
}
