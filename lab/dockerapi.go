package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"

	dc "github.com/ory/dockertest/v3/docker"
)

// rawAPI sends Engine API requests that go-dockerclient cannot express
// over that client's own HTTP transport (its socket, TLS and DOCKER_HOST):
//   - POST /containers/create: go-dockerclient's HostConfig has no
//     CgroupnsMode, MaskedPaths or ReadonlyPaths, and drops Init when
//     false; a Kubernetes node needs all four (k8snode.RunFlags);
//   - GET /exec/{id}/json: its ExecInspect drops Pid, which cancelling an
//     exec needs (the API has no call that stops an exec);
//   - POST /images/create?fromSrc=-: its ImportImage has no `changes`
//     (docker import --change), which the lab image's ENTRYPOINT needs.
//
// The bodies are go-dockerclient's types with the missing fields added.
type rawAPI struct {
	http *http.Client
	base string // scheme://host, without a version: the engine's own API version
}

func newRawAPI(c *dc.Client) (rawAPI, error) {
	u, err := url.Parse(c.Endpoint())
	if err != nil {
		return rawAPI{}, err
	}
	var base string
	switch u.Scheme {
	case "unix":
		// The transport dials the socket; the host is only a placeholder.
		base = "http://docker"
	case "tcp", "http":
		base = "http://" + u.Host
		if c.TLSConfig != nil {
			base = "https://" + u.Host
		}
	case "https":
		base = "https://" + u.Host
	default:
		return rawAPI{}, fmt.Errorf("endpoint scheme %q is not supported (unix, tcp, http or https)", u.Scheme)
	}
	return rawAPI{http: c.HTTPClient, base: base}, nil
}

// do sends a request with body (JSON-encoded unless it is an io.Reader)
// and decodes a JSON answer into out, when not nil. An answer of 400 or
// above is an error with the engine's message.
func (a rawAPI) do(ctx context.Context, method, p string, query url.Values, body any, out any) (*http.Response, error) {
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case io.Reader:
		r, contentType = b, "application/x-tar"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r, contentType = bytes.NewReader(data), "application/json"
	}
	u := a.base + p
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		var msg struct{ Message string }
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &msg) != nil || msg.Message == "" {
			msg.Message = string(bytes.TrimSpace(data))
		}
		return nil, &dc.Error{Status: resp.StatusCode, Message: msg.Message}
	}
	if out == nil {
		return resp, nil
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return nil, fmt.Errorf("%s %s: decode answer: %w", method, p, err)
	}
	return resp, nil
}

// hostConfig is go-dockerclient's HostConfig with the fields it lacks.
type hostConfig struct {
	*dc.HostConfig
	Init          *bool     `json:"Init,omitempty"`
	CgroupnsMode  string    `json:"CgroupnsMode,omitempty"`
	MaskedPaths   *[]string `json:"MaskedPaths,omitempty"`
	ReadonlyPaths *[]string `json:"ReadonlyPaths,omitempty"`
}

type createBody struct {
	*dc.Config
	HostConfig       hostConfig           `json:"HostConfig"`
	NetworkingConfig *dc.NetworkingConfig `json:"NetworkingConfig,omitempty"`
}

// createBodyOf is the body of POST /containers/create for s.
func createBodyOf(s containerSpec) createBody {
	cfg := &dc.Config{Hostname: s.Hostname, Image: s.Image, Labels: s.Labels, Env: s.Env, Entrypoint: s.Entrypoint, Cmd: s.Cmd}
	if len(s.Volumes) > 0 {
		cfg.Volumes = map[string]struct{}{}
		for _, v := range s.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	}
	hc := &dc.HostConfig{NetworkMode: s.Network, Privileged: s.Privileged, CapAdd: s.CapAdd, CapDrop: s.CapDrop,
		SecurityOpt: s.SecurityOpt, DeviceCgroupRules: s.DeviceCgroupRules, Sysctls: s.Sysctls, Binds: s.Binds,
		Tmpfs: s.Tmpfs, RestartPolicy: dc.RestartPolicy{Name: s.RestartPolicy}, AutoRemove: s.AutoRemove}
	for _, d := range s.Devices {
		hc.Devices = append(hc.Devices, dc.Device{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"})
	}
	body := createBody{Config: cfg, HostConfig: hostConfig{HostConfig: hc, Init: s.Init, CgroupnsMode: s.CgroupnsMode}}
	if s.UnconfinedPaths {
		// What the CLI sends for --security-opt systempaths=unconfined.
		body.HostConfig.MaskedPaths, body.HostConfig.ReadonlyPaths = &[]string{}, &[]string{}
	}
	if s.Network != "" && s.IP.IsValid() {
		body.NetworkingConfig = &dc.NetworkingConfig{EndpointsConfig: map[string]*dc.EndpointConfig{
			s.Network: {IPAMConfig: &dc.EndpointIPAMConfig{IPv4Address: s.IP.String()}},
		}}
	}
	return body
}

func (a rawAPI) createContainer(ctx context.Context, s containerSpec) (string, error) {
	var created struct {
		ID       string `json:"Id"`
		Warnings []string
	}
	if _, err := a.do(ctx, http.MethodPost, "/containers/create", url.Values{"name": {s.Name}}, createBodyOf(s), &created); err != nil {
		return "", err
	}
	return created.ID, nil
}

// execState is what GET /exec/{id}/json says of an exec.
type execState struct {
	Running  bool
	ExitCode int
	Pid      int // in the engine host's PID namespace; 0 before it started
}

func (a rawAPI) inspectExec(ctx context.Context, id string) (execState, error) {
	var st execState
	_, err := a.do(ctx, http.MethodGet, "/exec/"+id+"/json", nil, nil, &st)
	return st, err
}

// importImage posts the tarball at file to POST /images/create and reads
// the progress stream, which reports a failure in a message, not a status.
func (a rawAPI) importImage(ctx context.Context, file, tag string, changes []string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	repo, ver := splitTag(tag)
	q := url.Values{"fromSrc": {"-"}, "repo": {repo}, "tag": {ver}, "changes": changes}
	resp, err := a.do(ctx, http.MethodPost, "/images/create", q, io.Reader(f), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var msg struct {
			Error       string
			ErrorDetail struct{ Message string }
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return ctxErr(ctx, fmt.Errorf("read the engine's progress: %w", err))
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

// splitTag splits "repo:tag" (the repository may hold a registry's port).
func splitTag(ref string) (repo, tag string) {
	base := path.Base(ref)
	for i := len(base) - 1; i >= 0; i-- {
		if base[i] == ':' {
			cut := len(ref) - len(base) + i
			return ref[:cut], ref[cut+1:]
		}
	}
	return ref, "latest"
}

// stats is one sample of GET /containers/{id}/stats?stream=false (the
// engine samples twice, so PreCPUStats is filled). Not go-dockerclient's
// Stats: it reports the request's error only when that arrives before its
// decoder sees the end of the stream, so a missing container can come
// back as no sample and no error.
func (a rawAPI) stats(ctx context.Context, id string) (dc.Stats, error) {
	var s dc.Stats
	_, err := a.do(ctx, http.MethodGet, "/containers/"+id+"/stats", url.Values{"stream": {"false"}}, nil, &s)
	return s, err
}
