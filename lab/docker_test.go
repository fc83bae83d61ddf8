package lab

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/planetstage/planetstage/lab/k8snode"
	"github.com/planetstage/planetstage/remote"
)

// The engine's tests run against the real Docker engine, on containers and
// networks named dkt-* and labelled dktLabel, in 172.44.0.0/16. Their image
// is made here from this machine's own sh, coreutils and their libraries
// (nothing is pulled, and it takes a second, not an mmdebstrap build).

const dktLabel = LabelKey + "=dkt"

// testImageBinaries are what the tests run in their containers, by name in
// the image: idle is sleep under a name of its own, for the entrypoint, so
// that the tests' own sleeps are told from it.
var testImageBinaries = map[string]string{"sh": "sh", "cat": "cat", "sleep": "sleep", "idle": "sleep",
	"mkdir": "mkdir", "chmod": "chmod", "mv": "mv", "stat": "stat", "true": "true"}

// rootfsTar is a root file system with the binaries and the libraries
// ldd says they load, at the paths they are loaded from.
func rootfsTar(t testing.TB) []byte {
	t.Helper()
	files := map[string]string{} // path in the image -> path here
	for name, b := range testImageBinaries {
		p, err := exec.LookPath(b)
		require.NoError(t, err)
		files["/bin/"+name] = p
		out, err := exec.Command("ldd", p).Output()
		require.NoError(t, err, "ldd %s", p)
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				files[f] = f
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	// In order, so that the same binaries make the same image tag.
	for _, dst := range slices.Sorted(maps.Keys(files)) {
		data, err := os.ReadFile(files[dst]) // follows symbolic links
		require.NoError(t, err)
		for d := filepath.Dir(dst); d != "/"; d = filepath.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755}))
			}
		}
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: 0o755, Size: int64(len(data))}))
		_, err = tw.Write(data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

var (
	testImageOnce sync.Once
	testImageTag  string
	testImageErr  error
)

// testImage imports the tests' image once per content.
func testImage(t testing.TB, e *engine) string {
	t.Helper()
	testImageOnce.Do(func() {
		data := rootfsTar(t)
		sum := sha256.Sum256(data)
		testImageTag = "planetstage/dkt:" + hex.EncodeToString(sum[:6])
		ok, err := e.imageExists(testImageTag)
		if err != nil || ok {
			testImageErr = err
			return
		}
		file := filepath.Join(t.TempDir(), "rootfs.tar")
		if testImageErr = os.WriteFile(file, data, 0o600); testImageErr == nil {
			testImageErr = e.importImage(context.Background(), file, testImageTag, []string{`ENTRYPOINT ["/bin/idle"]`, `CMD ["infinity"]`})
		}
	})
	require.NoError(t, testImageErr)
	return testImageTag
}

// dktContainer starts a container for one test and removes it at the end.
func dktContainer(t *testing.T, e *engine, s containerSpec) string {
	t.Helper()
	s.Image = testImage(t, e)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[LabelKey] = "dkt"
	if s.Init == nil {
		// As the lab's machines: docker-init reaps orphans, which the
		// tests' process listings would otherwise see as zombies.
		s.Init = boolPtr(true)
	}
	_ = e.removeContainer(t.Context(), s.Name) // a crashed run's
	_, err := e.createContainer(t.Context(), s)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, e.removeContainer(context.Background(), s.Name)) })
	require.NoError(t, e.startContainer(t.Context(), s.Name))
	return s.Name
}

func TestEngineImportImage(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	file := filepath.Join(t.TempDir(), "rootfs.tar")
	require.NoError(t, os.WriteFile(file, rootfsTar(t), 0o600))
	tag := fmt.Sprintf("planetstage/dkt:import-%d", time.Now().UnixNano())
	require.NoError(t, e.importImage(t.Context(), file, tag, []string{`ENTRYPOINT ["/bin/sh","-c"]`, "LABEL io.planetstage.recipe=dkt"}))
	t.Cleanup(func() { assert.NoError(t, e.c.RemoveImage(tag)) })
	img, err := e.c.InspectImage(tag)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/sh", "-c"}, img.Config.Entrypoint, "ENTRYPOINT applied")
	assert.Equal(t, "dkt", img.Config.Labels["io.planetstage.recipe"], "LABEL applied")
	ok, err := e.imageExists(tag)
	require.NoError(t, err)
	assert.True(t, ok)

	err = e.importImage(t.Context(), file, tag+"x", []string{"NOSUCHINSTRUCTION x"})
	assert.ErrorContains(t, err, "not a valid change command", "a change the engine refuses")
	garbage := filepath.Join(t.TempDir(), "garbage.tar")
	require.NoError(t, os.WriteFile(garbage, []byte("not a tar archive"), 0o600))
	err = e.importImage(t.Context(), garbage, tag+"y", nil)
	assert.ErrorContains(t, err, "Error processing tar file", "an archive the engine cannot read")
	ok, err = e.imageExists("planetstage/dkt:absent")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestEngineExec(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctr := dktContainer(t, e, containerSpec{Name: "dkt-exec"})
	ctx := t.Context()

	// A megabyte through stdin and back: the streams are not cut short.
	in := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	var out, errOut bytes.Buffer
	status, err := e.exec(ctx, execSpec{Container: ctr, Cmd: []string{"cat"}, Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &errOut})
	require.NoError(t, err)
	assert.Equal(t, 0, status)
	assert.Equal(t, len(in), out.Len())
	assert.True(t, bytes.Equal(in, out.Bytes()))

	out.Reset()
	status, err = e.exec(ctx, execSpec{Container: ctr, Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, Stdout: &out, Stderr: &errOut})
	require.NoError(t, err)
	assert.Equal(t, 3, status)
	assert.Equal(t, "out\n", out.String())
	assert.Equal(t, "err\n", errOut.String(), "stderr apart from stdout")

	r := execRunner{e: e, container: ctr, name: "m1"}
	err = r.Run(ctx, remote.Cmd{Command: "exit 7"})
	var exit *remote.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, remote.ExitError{Host: "m1", Command: "exit 7", Status: 7}, *exit)
	require.NoError(t, r.WriteFile(ctx, "/etc/dkt/x.conf", []byte("a'b\n"), 0o640))
	got, err := r.ReadFile(ctx, "/etc/dkt/x.conf")
	require.NoError(t, err)
	assert.Equal(t, "a'b\n", string(got))
	mode, err := remote.Output(ctx, r, "stat -c %a /etc/dkt/x.conf")
	require.NoError(t, err)
	assert.Equal(t, "640", strings.TrimSpace(mode))
	_, err = r.ReadFile(ctx, "/etc/dkt/missing")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = e.exec(ctx, execSpec{Container: "dkt-absent", Cmd: []string{"true"}})
	assert.ErrorContains(t, err, "dkt-absent")
}

// procs lists the processes in ctr but its init and entrypoint (idle), as
// "pid comm" lines, read with the shell's builtins so that the listing
// adds no process but itself.
func procs(t *testing.T, e *engine, ctr string) string {
	t.Helper()
	var out bytes.Buffer
	_, err := e.exec(t.Context(), execSpec{Container: ctr, Stdout: &out,
		Cmd: []string{"sh", "-c", `for p in /proc/[0-9]*; do p=${p#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] && continue; read c < /proc/$p/comm && [ "$c" != idle ] && echo "$p $c"; done`}})
	require.NoError(t, err)
	return strings.TrimSpace(out.String())
}

// TestEngineExecCancel shows a cancelled exec's process killed, with the
// processes it started: the engine alone would let them run on.
func TestEngineExecCancel(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctr := dktContainer(t, e, containerSpec{Name: "dkt-cancel"})
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := execRunner{e: e, container: ctr, name: "m1"}
	// The shell waits for a child, so there are two processes to kill.
	err := r.Run(ctx, remote.Cmd{Command: "sleep 1001; true"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "returns once cancelled, not when the command ends")
	var left string
	assert.Eventually(t, func() bool { left = procs(t, e, ctr); return left == "" }, 5*time.Second, 100*time.Millisecond,
		"the exec's shell and its sleep are gone")
	assert.Empty(t, left)

	// Negative control: a process an exec that ended left behind runs on,
	// and the listing above would see it.
	require.NoError(t, r.Run(t.Context(), remote.Cmd{Command: "sleep 1002 >/dev/null 2>&1 &"}))
	assert.Contains(t, procs(t, e, ctr), " sleep")
}

// TestEngineKillInContainer kills a process from inside its container by
// the id it has there, the way killExec does when this process may not
// signal the engine's processes.
func TestEngineKillInContainer(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctr := dktContainer(t, e, containerSpec{Name: "dkt-killin"})
	r := execRunner{e: e, container: ctr, name: "m1"}
	require.NoError(t, r.Run(t.Context(), remote.Cmd{Command: "sleep 1003 >/dev/null 2>&1 &"}))
	inner, comm, _ := strings.Cut(procs(t, e, ctr), " ")
	require.Equal(t, "sleep", comm)
	c, err := e.inspectContainer(t.Context(), ctr)
	require.NoError(t, err)
	// The host's id of the sleeper: the one among the container's processes
	// whose innermost id is inner.
	var host []int
	for _, pid := range processTree(c.State.Pid) {
		if ns, ok := innerPID(pid); ok && strconv.Itoa(ns) == inner {
			host = append(host, pid)
		}
	}
	require.Len(t, host, 1, "found by NSpid among the container's processes")
	require.NoError(t, e.killInContainer(t.Context(), ctr, host))
	require.Eventually(t, func() bool { return procs(t, e, ctr) == "" }, 5*time.Second, 100*time.Millisecond)
}

// TestEngineContainerSpec creates a container with what the lab asks of
// routers and nodes, and looks from inside and through the engine.
func TestEngineContainerSpec(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctx := t.Context()
	nets := []string{"dkt-spec-a", "dkt-spec-b"}
	old, err := e.listNetworks(LabelKey + "=dkt-spec")
	require.NoError(t, err)
	_ = e.removeContainer(ctx, "dkt-spec") // a crashed run's
	require.NoError(t, removeNetworks(ctx, e, old))
	for i, n := range nets {
		_, err := e.createNetwork(ctx, networkSpec{Name: n, Internal: true, Labels: map[string]string{LabelKey: "dkt-spec"},
			Subnet: netip.MustParsePrefix(fmt.Sprintf("172.44.%d.0/24", i+1)), Gateway: netip.MustParseAddr(fmt.Sprintf("172.44.%d.254", i+1))})
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		got, err := e.listNetworks(LabelKey + "=dkt-spec")
		if assert.NoError(t, err) {
			assert.NoError(t, removeNetworks(context.Background(), e, got))
		}
	})
	spec := containerSpec{Name: "dkt-spec", Hostname: "r9", Labels: map[string]string{"io.planetstage.role": "router"},
		Network: nets[0], IP: netip.MustParseAddr("172.44.1.9"), CapAdd: []string{"NET_ADMIN"}, Devices: []string{"/dev/net/tun"},
		Sysctls: map[string]string{"net.ipv4.ip_forward": "1"}, Init: boolPtr(true), Volumes: []string{"/var/dkt"},
		Tmpfs: map[string]string{"/run/dkt": "rw,mode=700"}, UnconfinedPaths: true, CgroupnsMode: "private", RestartPolicy: "no"}
	ctr := dktContainer(t, e, spec)
	require.NoError(t, e.connectNetwork(ctx, nets[1], ctr, netip.MustParseAddr("172.44.2.9")))

	c, err := e.inspectContainer(ctx, ctr)
	require.NoError(t, err)
	assert.Equal(t, "r9", c.Config.Hostname)
	assert.Equal(t, "router", c.Config.Labels["io.planetstage.role"])
	assert.Equal(t, "dkt", c.Config.Labels[LabelKey])
	assert.Equal(t, []string{"NET_ADMIN"}, c.HostConfig.CapAdd)
	assert.True(t, c.HostConfig.Init)
	assert.Equal(t, "172.44.1.9", c.NetworkSettings.Networks[nets[0]].IPAddress)
	assert.Equal(t, "172.44.2.9", c.NetworkSettings.Networks[nets[1]].IPAddress)
	var volume string
	for _, m := range c.Mounts {
		if m.Destination == "/var/dkt" {
			volume = m.Name
		}
	}
	require.NotEmpty(t, volume, "an anonymous volume at /var/dkt")
	raw, err := e.api.do(ctx, "GET", "/containers/"+ctr+"/json", nil, nil, nil)
	require.NoError(t, err)
	var fields struct {
		HostConfig struct {
			CgroupnsMode string
			MaskedPaths  []string
		}
	}
	require.NoError(t, json.NewDecoder(raw.Body).Decode(&fields))
	raw.Body.Close()
	assert.Equal(t, "private", fields.HostConfig.CgroupnsMode, "the field go-dockerclient lacks reached the engine")
	assert.Empty(t, fields.HostConfig.MaskedPaths)

	r := execRunner{e: e, container: ctr, name: "r9"}
	look, err := remote.Output(ctx, r, "cat /proc/sys/net/ipv4/ip_forward; [ -c /dev/net/tun ] && echo tun; read c < /proc/1/comm; echo $c")
	require.NoError(t, err)
	assert.Contains(t, look, "1\ntun\n")
	assert.Contains(t, look, "docker-init", "docker-init is PID 1")

	require.NoError(t, e.removeContainer(ctx, ctr))
	_, err = e.c.InspectVolume(volume)
	assert.ErrorIs(t, err, dc.ErrNoSuchVolume, "the anonymous volume went with the container")
	ok, err := e.containerExists(ctx, ctr)
	require.NoError(t, err)
	assert.False(t, ok)
}

// TestEngineRunAndSweep runs short-lived helpers (`docker run --rm`) and
// sweeps what a lab's label holds.
func TestEngineRunAndSweep(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctx := t.Context()
	image := testImage(t, e)
	labels := map[string]string{LabelKey: "dkt-sweep"}
	out, err := e.run(ctx, containerSpec{Image: image, Labels: labels, Entrypoint: []string{"sh", "-c"}, Cmd: []string{"echo hello"}})
	require.NoError(t, err)
	assert.Equal(t, "hello\n", out)
	_, err = e.run(ctx, containerSpec{Image: image, Labels: labels, Entrypoint: []string{"sh", "-c"}, Cmd: []string{"echo broken >&2; exit 4"}})
	assert.ErrorContains(t, err, "exit status 4: broken")
	cs, err := e.listContainers(ctx, LabelKey+"=dkt-sweep")
	require.NoError(t, err)
	assert.Empty(t, cs, "helpers are removed once they exit")

	_, err = e.createNetwork(ctx, networkSpec{Name: "dkt-sweep-net", Internal: true, Labels: labels, Subnet: netip.MustParsePrefix("172.44.9.0/24")})
	require.NoError(t, err)
	_, err = e.createContainer(ctx, containerSpec{Name: "dkt-sweep-1", Image: image, Labels: labels, Network: "dkt-sweep-net", IP: netip.MustParseAddr("172.44.9.5")})
	require.NoError(t, err)
	require.NoError(t, e.startContainer(ctx, "dkt-sweep-1"))
	require.NoError(t, e.startContainer(ctx, "dkt-sweep-1"), "starting a running container is no error")
	require.NoError(t, e.stopContainer(ctx, "dkt-sweep-1", 1))
	require.NoError(t, e.stopContainer(ctx, "dkt-sweep-1", 1), "stopping a stopped container is no error")

	require.NoError(t, sweep(ctx, e, "dkt-sweep", ""))
	cs, err = e.listContainers(ctx, LabelKey+"=dkt-sweep")
	require.NoError(t, err)
	assert.Empty(t, cs)
	nets, err := e.listNetworks(LabelKey + "=dkt-sweep")
	require.NoError(t, err)
	assert.Empty(t, nets)
}

func TestEngineStats(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	ctr := dktContainer(t, e, containerSpec{Name: "dkt-stats"})
	s, err := e.stats(t.Context(), ctr)
	require.NoError(t, err)
	u := usageOf(s)
	assert.Greater(t, u.MemoryMiB, 0.0, "a running container uses some memory")
	_, err = e.stats(t.Context(), "dkt-absent")
	assert.ErrorContains(t, err, "dkt-absent")
}

// BenchmarkExec compares one `true` run in a container through the Engine
// API (the lab's exec) with the same through the docker CLI (what the lab
// ran before).
func BenchmarkExec(b *testing.B) {
	e := needDocker(b)
	image := testImage(b, e)
	const name = "dkt-bench"
	_ = e.removeContainer(context.Background(), name)
	_, err := e.createContainer(context.Background(), containerSpec{Name: name, Image: image, Labels: map[string]string{LabelKey: "dkt"}, Init: boolPtr(true)})
	require.NoError(b, err)
	b.Cleanup(func() { _ = e.removeContainer(context.Background(), name) })
	require.NoError(b, e.startContainer(context.Background(), name))
	b.Run("api", func(b *testing.B) {
		for b.Loop() {
			status, err := e.exec(b.Context(), execSpec{Container: name, Cmd: []string{"true"}})
			if err != nil || status != 0 {
				b.Fatal(status, err)
			}
		}
	})
	b.Run("cli", func(b *testing.B) {
		docker, err := exec.LookPath("docker")
		if err != nil {
			b.Skip("no docker CLI")
		}
		for b.Loop() {
			if out, err := exec.CommandContext(b.Context(), docker, "exec", name, "true").CombinedOutput(); err != nil {
				b.Fatal(err, string(out))
			}
		}
	})
}

// TestEngineKubernetesNodeFlags starts a container with what a Kubernetes
// node asks for (k8snode.RunFlags), so that the engine is shown to accept
// it as the lab sends it; the node image itself is exercised by the heavy
// tests.
func TestEngineKubernetesNodeFlags(t *testing.T) {
	t.Parallel()
	e := needDocker(t)
	spec := containerSpec{Name: "dkt-k8sflags"}
	require.NoError(t, applyRunFlags(&spec, k8snode.RunFlags()))
	ctr := dktContainer(t, e, spec)
	r := execRunner{e: e, container: ctr, name: "node"}
	look, err := remote.Output(t.Context(), r, "read c < /proc/1/comm; echo $c; [ -c /dev/kmsg ] && echo kmsg; echo 1 > /proc/sys/net/ipv4/ip_forward && echo sysctl-writable")
	require.NoError(t, err)
	assert.Equal(t, "idle\nkmsg\nsysctl-writable\n", look, "no docker-init (--init=false), /dev/kmsg, /proc/sys unmasked and writable")
	c, err := e.inspectContainer(t.Context(), ctr)
	require.NoError(t, err)
	var dests []string
	for _, m := range c.Mounts {
		dests = append(dests, m.Destination)
	}
	assert.Contains(t, dests, "/var", "the anonymous /var volume")
}
