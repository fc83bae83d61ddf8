package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// The lab drives Docker through the Engine API, with dockertest's Pool and
// the go-dockerclient it wraps (dockertest's own copy of it,
// github.com/ory/dockertest/v3/docker), not through the docker CLI. The
// engine is found as dockertest finds it: DOCKER_HOST (and DOCKER_CERT_PATH
// for TLS), else the local socket; the CLI's contexts are not read.
//
// go-dockerclient lacks a few fields the Engine API has, and for those
// requests the engine sends the API's own JSON over the client's HTTP
// transport (dockerapi.go): creating a container (HostConfig's CgroupnsMode,
// MaskedPaths and ReadonlyPaths, and Init=false, which go-dockerclient
// omits), an exec's process id (ExecInspect's Pid, for cancelling it) and
// importing an image with Dockerfile changes (`changes` of POST
// /images/create). Nothing in package lab runs the docker CLI.

// engine is the lab's Docker engine: typed operations on containers,
// networks, execs and images.
type engine struct {
	pool *dockertest.Pool
	c    *dc.Client
	api  rawAPI
}

// newEngine connects to the Docker engine; it does not ask it anything yet
// (ping does).
func newEngine() (*engine, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("lab: no Docker engine endpoint (check DOCKER_HOST): %w", err)
	}
	api, err := newRawAPI(pool.Client)
	if err != nil {
		return nil, fmt.Errorf("lab: Docker engine endpoint %s: %w", pool.Client.Endpoint(), err)
	}
	return &engine{pool: pool, c: pool.Client, api: api}, nil
}

// ping checks that a Docker engine answers, and returns its version.
func (e *engine) ping(ctx context.Context) (string, error) {
	if err := e.c.PingWithContext(ctx); err != nil {
		return "", fmt.Errorf("lab: no Docker engine answers at %s (is dockerd running, and may this user use it?): %w", e.c.Endpoint(), err)
	}
	v, err := e.c.Version()
	if err != nil {
		return "", fmt.Errorf("lab: Docker engine version: %w", err)
	}
	return v.Get("Version"), nil
}

// containerSpec is what the lab creates a container with: the options of
// `docker create` that it uses, typed. Empty fields leave the engine's
// defaults.
type containerSpec struct {
	Name     string
	Hostname string
	Image    string
	Labels   map[string]string
	Env      []string
	// Entrypoint and Cmd replace the image's when not nil.
	Entrypoint []string
	Cmd        []string

	// Network is the network the container starts on ("host" and
	// "container:<name>" join another's namespace), IP its fixed address
	// there. More networks are joined with connectNetwork before start.
	Network string
	IP      netip.Addr

	Privileged        bool
	CapAdd            []string
	CapDrop           []string
	SecurityOpt       []string // seccomp=…, apparmor=… (not systempaths: UnconfinedPaths)
	Devices           []string // host device paths, mapped at the same path with rwm
	DeviceCgroupRules []string
	Sysctls           map[string]string
	// Init is docker-init as PID 1: true runs it, false refuses it
	// whatever the daemon's default, nil leaves the daemon's default.
	Init *bool
	// CgroupnsMode is "private" or "host"; empty is the daemon's default.
	CgroupnsMode string
	// UnconfinedPaths unmasks /proc and /sys paths the engine masks or
	// makes read-only by default (--security-opt systempaths=unconfined).
	UnconfinedPaths bool

	Binds   []string          // host:container[:ro]
	Volumes []string          // anonymous volumes at these paths
	Tmpfs   map[string]string // path -> mount options

	// RestartPolicy is "no", "always", "unless-stopped" or "on-failure";
	// empty is "no".
	RestartPolicy string
	// AutoRemove removes the container when it exits.
	AutoRemove bool
}

func boolPtr(b bool) *bool { return &b }

// createContainer creates a container from s and returns its id.
func (e *engine) createContainer(ctx context.Context, s containerSpec) (string, error) {
	if s.Image == "" {
		return "", fmt.Errorf("docker create %s: the container spec names no image", s.Name)
	}
	id, err := e.api.createContainer(ctx, s)
	if err != nil {
		return "", fmt.Errorf("docker create %s: %w", s.Name, err)
	}
	return id, nil
}

// startContainer starts a container; one that runs already is left running.
func (e *engine) startContainer(ctx context.Context, name string) error {
	err := e.c.StartContainerWithContext(name, nil, ctx)
	var running *dc.ContainerAlreadyRunning
	if err != nil && !errors.As(err, &running) {
		return fmt.Errorf("docker start %s: %w", name, ctxErr(ctx, err))
	}
	return nil
}

// stopContainer stops a container, killing it after timeout seconds; one
// that is stopped is left so.
func (e *engine) stopContainer(ctx context.Context, name string, timeout uint) error {
	err := e.c.StopContainerWithContext(name, timeout, ctx)
	var stopped *dc.ContainerNotRunning
	if err != nil && !errors.As(err, &stopped) {
		return fmt.Errorf("docker stop %s: %w", name, ctxErr(ctx, err))
	}
	return nil
}

// killContainer kills a running container with SIGKILL.
func (e *engine) killContainer(ctx context.Context, name string) error {
	if err := e.c.KillContainer(dc.KillContainerOptions{ID: name, Signal: dc.SIGKILL, Context: ctx}); err != nil {
		return fmt.Errorf("docker kill %s: %w", name, ctxErr(ctx, err))
	}
	return nil
}

// removeContainer removes a container, running or not, with its anonymous
// volumes; one that is gone already is no error.
func (e *engine) removeContainer(ctx context.Context, name string) error {
	err := e.c.RemoveContainer(dc.RemoveContainerOptions{ID: name, Force: true, RemoveVolumes: true, Context: ctx})
	var gone *dc.NoSuchContainer
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("docker rm %s: %w", name, ctxErr(ctx, err))
	}
	return nil
}

// inspectContainer returns a container's state and configuration; a missing
// container is a *dc.NoSuchContainer.
func (e *engine) inspectContainer(ctx context.Context, name string) (*dc.Container, error) {
	c, err := e.c.InspectContainerWithContext(name, ctx)
	if err != nil {
		return nil, fmt.Errorf("docker inspect %s: %w", name, ctxErr(ctx, err))
	}
	return c, nil
}

// containerExists reports whether a container of that name exists, running
// or not.
func (e *engine) containerExists(ctx context.Context, name string) (bool, error) {
	_, err := e.inspectContainer(ctx, name)
	var gone *dc.NoSuchContainer
	if errors.As(err, &gone) {
		return false, nil
	}
	return err == nil, err
}

// listContainers lists every container, running or not, that carries all
// labels ("key=value", or "key" for any value).
func (e *engine) listContainers(ctx context.Context, labels ...string) ([]dc.APIContainers, error) {
	cs, err := e.c.ListContainers(dc.ListContainersOptions{All: true, Filters: map[string][]string{"label": labels}, Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("docker ps: %w", ctxErr(ctx, err))
	}
	return cs, nil
}

// upload unpacks the tar archive r at dir in a container (`docker cp -`),
// refusing to replace a directory with a file or the reverse.
func (e *engine) upload(ctx context.Context, name, dir string, r io.Reader) error {
	err := e.c.UploadToContainer(name, dc.UploadToContainerOptions{InputStream: r, Path: dir, NoOverwriteDirNonDir: true, Context: ctx})
	if err != nil {
		return fmt.Errorf("docker cp - %s:%s: %w", name, dir, ctxErr(ctx, err))
	}
	return nil
}

// run is `docker run --rm`: it creates and starts a container from s (with
// a name of Docker's choosing when s has none), waits for it to exit and
// removes it, and returns its standard output. An exit status other than
// zero is an error with the tail of its standard error.
func (e *engine) run(ctx context.Context, s containerSpec) (string, error) {
	id, err := e.createContainer(ctx, s)
	if err != nil {
		return "", err
	}
	what := "docker run " + s.Image
	defer func() {
		// Removed even when ctx is what ended the run.
		_ = e.removeContainer(context.WithoutCancel(ctx), id)
	}()
	if err := e.startContainer(ctx, id); err != nil {
		return "", err
	}
	status, err := e.c.WaitContainerWithContext(id, ctx)
	if err != nil {
		return "", fmt.Errorf("%s: wait: %w", what, ctxErr(ctx, err))
	}
	var stdout, stderr bytes.Buffer
	if err := e.c.Logs(dc.LogsOptions{Container: id, Stdout: true, Stderr: true, OutputStream: &stdout, ErrorStream: &stderr, Context: ctx}); err != nil {
		return "", fmt.Errorf("%s: logs: %w", what, ctxErr(ctx, err))
	}
	if status != 0 {
		return stdout.String(), fmt.Errorf("%s: exit status %d: %s", what, status, strings.TrimSpace(tail(stderr.String(), 1024)))
	}
	return stdout.String(), nil
}

// networkSpec is what the lab creates a network with.
type networkSpec struct {
	Name     string
	Subnet   netip.Prefix
	Gateway  netip.Addr
	Internal bool
	Labels   map[string]string
}

// createNetwork creates a bridge network and returns its id.
func (e *engine) createNetwork(ctx context.Context, s networkSpec) (string, error) {
	ipam := &dc.IPAMOptions{Driver: "default"}
	if s.Subnet.IsValid() {
		cfg := dc.IPAMConfig{Subnet: s.Subnet.String()}
		if s.Gateway.IsValid() {
			cfg.Gateway = s.Gateway.String()
		}
		ipam.Config = []dc.IPAMConfig{cfg}
	}
	n, err := e.c.CreateNetwork(dc.CreateNetworkOptions{Name: s.Name, Driver: "bridge", IPAM: ipam, Labels: s.Labels,
		Internal: s.Internal, CheckDuplicate: true, Options: map[string]any{}, Context: ctx})
	if err != nil {
		return "", fmt.Errorf("docker network create %s: %w", s.Name, ctxErr(ctx, err))
	}
	return n.ID, nil
}

// connectNetwork joins a container to a network at a fixed address.
func (e *engine) connectNetwork(ctx context.Context, network, container string, ip netip.Addr) error {
	opts := dc.NetworkConnectionOptions{Container: container, Context: ctx}
	if ip.IsValid() {
		opts.EndpointConfig = &dc.EndpointConfig{IPAMConfig: &dc.EndpointIPAMConfig{IPv4Address: ip.String()}}
	}
	if err := e.c.ConnectNetwork(network, opts); err != nil {
		return fmt.Errorf("docker network connect %s %s: %w", network, container, ctxErr(ctx, err))
	}
	return nil
}

// listNetworks lists the networks that carry label ("key=value").
func (e *engine) listNetworks(label string) ([]dc.Network, error) {
	nets, err := e.c.FilteredListNetworks(dc.NetworkFilterOpts{"label": {label: true}})
	if err != nil {
		return nil, fmt.Errorf("docker network ls: %w", err)
	}
	return nets, nil
}

// removeNetwork removes a network; one that is gone already is no error.
func (e *engine) removeNetwork(id string) error {
	err := e.c.RemoveNetwork(id)
	var gone *dc.NoSuchNetwork
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("docker network rm %s: %w", id, err)
	}
	return nil
}

// imageExists reports whether the engine has image ref.
func (e *engine) imageExists(ref string) (bool, error) {
	_, err := e.c.InspectImage(ref)
	if errors.Is(err, dc.ErrNoSuchImage) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("docker image inspect %s: %w", ref, err)
	}
	return true, nil
}

// imageLabel returns label key of image ref ("" when it has none).
func (e *engine) imageLabel(ref, key string) (string, error) {
	img, err := e.c.InspectImage(ref)
	if err != nil {
		return "", fmt.Errorf("docker image inspect %s: %w", ref, err)
	}
	if img.Config == nil {
		return "", nil
	}
	return img.Config.Labels[key], nil
}

// commitContainer is `docker commit --change …`: image tag from the
// container's file system, with Dockerfile instructions changes applied.
func (e *engine) commitContainer(ctx context.Context, name, tag string, changes []string) error {
	repo, t := splitTag(tag)
	if _, err := e.c.CommitContainer(dc.CommitContainerOptions{Container: name, Repository: repo, Tag: t, Changes: changes, Context: ctx}); err != nil {
		return fmt.Errorf("docker commit %s %s: %w", name, tag, ctxErr(ctx, err))
	}
	return nil
}

// importImage is `docker import --change …`: it makes image tag from the
// root file system tarball at path, with Dockerfile instructions changes
// (ENTRYPOINT, LABEL, …) applied.
func (e *engine) importImage(ctx context.Context, path, tag string, changes []string) error {
	if err := e.api.importImage(ctx, path, tag, changes); err != nil {
		return fmt.Errorf("docker import %s: %w", tag, err)
	}
	return nil
}

// ctxErr prefers ctx's error, which says why a call was cut short, to the
// client's, which names a closed connection.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// stats samples a container's CPU and memory once (`docker stats
// --no-stream`).
func (e *engine) stats(ctx context.Context, name string) (dc.Stats, error) {
	s, err := e.api.stats(ctx, name)
	if err != nil {
		return dc.Stats{}, fmt.Errorf("docker stats %s: %w", name, err)
	}
	return s, nil
}
