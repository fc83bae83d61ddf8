package kubeadm

// Sequence tests: the flow runs against kubeadmtest.FakeHosts, a FAKE set of
// machines that records every command and file write and answers from a
// script. They check what is asked of the machines and in which order; they
// are not cluster tests (no kubeadm or kubelet runs).

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planetstage/planetstage/kubeadm/kubeadmtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// healthyScript answers like a cluster where every command succeeds and
// every node is Ready with a pod CIDR.
func healthyScript(c *Cluster) func(host, command string) kubeadmtest.Reply {
	return func(host, command string) kubeadmtest.Reply {
		switch {
		case strings.Contains(command, "conditions"):
			var b strings.Builder
			for _, n := range c.Nodes() {
				fmt.Fprintf(&b, "%s\tTrue\n", n.Name)
			}
			return kubeadmtest.Reply{Stdout: b.String()}
		case strings.Contains(command, "podCIDR"):
			var b strings.Builder
			for i, n := range c.Nodes() {
				fmt.Fprintf(&b, "%s\t10.244.%d.0/24\n", n.Name, i)
			}
			return kubeadmtest.Reply{Stdout: b.String()}
		}
		return kubeadmtest.Reply{}
	}
}

// sharedPKI is generated once: RSA key generation dominates these tests.
var sharedPKI = sync.OnceValues(func() (*memStore, error) {
	s := newMemStore()
	_, _, err := LoadOrCreatePKI(s, testNow)
	return s, err
})

// seededStore is a fresh store holding the shared PKI.
func seededStore(t *testing.T) *memStore {
	t.Helper()
	src, err := sharedPKI()
	require.NoError(t, err)
	s := newMemStore()
	src.mu.Lock()
	defer src.mu.Unlock()
	for k, v := range src.data {
		s.data[k], s.secret[k] = v, src.secret[k]
	}
	return s
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestBootstrapper(t *testing.T, script func(host, command string) kubeadmtest.Reply) (*Bootstrapper, *kubeadmtest.FakeHosts, *testClock) {
	t.Helper()
	c := thesisCluster()
	if script == nil {
		script = healthyScript(c)
	}
	hosts := kubeadmtest.NewFakeHosts(script)
	clock := &testClock{t: testNow}
	return &Bootstrapper{Cluster: c, Store: seededStore(t), Dial: hosts.Dial, Now: clock.Now,
		ReadyTimeout: 300 * time.Millisecond, PollInterval: time.Millisecond}, hosts, clock
}

// indexOf is the position of the first entry matching host and a prefix of
// what, or -1.
func indexOf(log []kubeadmtest.Entry, host, op, what string) int {
	return slices.IndexFunc(log, func(e kubeadmtest.Entry) bool {
		return e.Host == host && e.Op == op && strings.HasPrefix(e.What, what)
	})
}

func TestSequenceInitAndJoins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, hosts, _ := newTestBootstrapper(t, nil)
	require.NoError(t, b.Init(ctx))
	for _, cp := range []string{"master02", "master03"} {
		require.NoError(t, b.Join(ctx, cp))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(b.Cluster.Workers))
	for i, w := range b.Cluster.Workers {
		wg.Go(func() { errs[i] = b.Join(ctx, w.Name) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	log := hosts.Log()

	// On master01: preflight, PKI (keys 0600), config (0600), init, marker.
	pre := indexOf(log, "master01", "run", "CRI=")
	caKey := indexOf(log, "master01", "write", PKIDir+"/ca.key 0600")
	cfg := indexOf(log, "master01", "write", ConfigDir+"/init.yaml 0600")
	init := indexOf(log, "master01", "run", "kubeadm init --config")
	marker := indexOf(log, "master01", "write", MarkerFile)
	require.True(t, pre >= 0 && caKey >= 0 && cfg >= 0 && init >= 0 && marker >= 0, "init steps missing: %v", hosts.Commands())
	assert.True(t, pre < caKey && caKey < cfg && cfg < init && init < marker, "init order")
	assert.GreaterOrEqual(t, indexOf(log, "master01", "write", PKIDir+"/sa.pub 0644"), 0)
	assert.GreaterOrEqual(t, indexOf(log, "master01", "write", PKIDir+"/etcd/ca.key 0600"), 0)

	hash, err := mustPKI(t, b).CACertHash()
	require.NoError(t, err)
	stored, err := b.Store.Read(storeToken)
	require.NoError(t, err)
	tok, err := parseToken(stored)
	require.NoError(t, err)

	for _, n := range b.Cluster.Nodes()[1:] {
		join := indexOf(log, n.Name, "run", "kubeadm join --config "+ConfigDir+"/join.yaml")
		require.GreaterOrEqual(t, join, 0, n.Name)
		assert.Greater(t, join, init, "%s joins after init", n.Name)
		_, cp, _ := b.Cluster.Node(n.Name)
		// Control planes get the shared PKI before their join; workers none.
		pki := indexOf(log, n.Name, "write", PKIDir+"/ca.key")
		if cp {
			assert.True(t, pki >= 0 && pki < join, "%s: PKI before join", n.Name)
		} else {
			assert.Equal(t, -1, pki, "%s: a worker gets no CA key", n.Name)
		}
		cfg, ok := hosts.File(n.Name, ConfigDir+"/join.yaml")
		require.True(t, ok)
		assert.Contains(t, string(cfg), hash, n.Name)
		assert.Contains(t, string(cfg), tok.Value, n.Name)
		assert.NotContains(t, string(cfg), "unsafeSkipCAVerification")
	}
	assert.Less(t, indexOf(log, "master02", "run", "kubeadm join"), indexOf(log, "master03", "run", "kubeadm join"))
	for _, e := range log {
		assert.NotContains(t, e.Stdin, "bootstrap.kubernetes.io/token", "a fresh token needs no refresh")
	}

	members, err := b.Members()
	require.NoError(t, err)
	assert.Len(t, members, 7)

	// A second run finds the markers and runs nothing.
	before := len(hosts.Commands())
	require.NoError(t, b.Init(ctx))
	require.NoError(t, b.Join(ctx, "node01"))
	assert.Equal(t, before, len(hosts.Commands()), "re-run must be a no-op")
}

func mustPKI(t *testing.T, b *Bootstrapper) *PKI {
	t.Helper()
	p, err := LoadPKI(b.Store)
	require.NoError(t, err)
	return p
}

func TestSequenceFailedJoinResetsAndRetriesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures int
		node     string
		wantErr  bool
	}{
		{"worker recovers", 1, "node03", false},
		{"control plane recovers", 1, "master02", false},
		{"worker fails twice", 2, "node03", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			joins := 0
			var b *Bootstrapper
			b, hosts, _ := newTestBootstrapper(t, func(host, command string) kubeadmtest.Reply {
				mu.Lock()
				defer mu.Unlock()
				if host == tt.node && strings.HasPrefix(command, "kubeadm join") {
					if joins++; joins <= tt.failures {
						// kubeadm may print the token; it must not reach the error.
						raw, _ := b.Store.Read(storeToken)
						tok, _ := parseToken(raw)
						return kubeadmtest.Reply{Status: 1, Stderr: "error execution phase preflight: token " + tok.Value + " unreachable"}
					}
				}
				return kubeadmtest.Reply{}
			})
			ctx := context.Background()
			require.NoError(t, b.Init(ctx))
			err := b.Join(ctx, tt.node)
			cmds := slices.DeleteFunc(hosts.Commands(), func(c string) bool { return !strings.HasPrefix(c, tt.node+" kubeadm") })
			want := []string{tt.node + " kubeadm join --config " + ConfigDir + "/join.yaml", tt.node + " kubeadm reset -f", tt.node + " kubeadm join --config " + ConfigDir + "/join.yaml"}
			assert.Equal(t, want, cmds, "join, reset, join: and no third attempt")
			_, marked := hosts.File(tt.node, MarkerFile)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "after reset and retry")
				assert.Contains(t, err.Error(), tt.node)
				raw, _ := b.Store.Read(storeToken)
				tok, _ := parseToken(raw)
				assert.NotContains(t, err.Error(), tok.Value[7:], "token leaked into the error")
				assert.False(t, marked)
				return
			}
			require.NoError(t, err)
			assert.True(t, marked)
			if strings.HasPrefix(tt.node, "master") {
				log := hosts.Log()
				reset := indexOf(log, tt.node, "run", "kubeadm reset")
				assert.Greater(t, slices.IndexFunc(log[reset:], func(e kubeadmtest.Entry) bool {
					return e.Op == "write" && strings.HasPrefix(e.What, PKIDir+"/ca.key")
				}), 0, "PKI placed again after reset wiped it")
			}
		})
	}
}

func TestSequenceLateJoinRefreshesToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, hosts, clock := newTestBootstrapper(t, nil)
	require.NoError(t, b.Init(ctx))
	raw, err := b.Store.Read(storeToken)
	require.NoError(t, err)
	initTok, err := parseToken(raw)
	require.NoError(t, err)

	clock.Add(DefaultTokenTTL) // the init token has expired
	require.NoError(t, b.Join(ctx, "node04"))

	var create kubeadmtest.Entry
	for _, e := range hosts.Log() {
		if e.Op == "run" && strings.Contains(e.Stdin, "bootstrap.kubernetes.io/token") {
			create = e
		}
	}
	require.Equal(t, "master01", create.Host, "token created on the first control plane")
	assert.Equal(t, "kubectl --kubeconfig "+AdminKubeconfig+" apply -f - >/dev/null", create.What,
		"nothing of the token on a command line, not even through a shell variable")
	var sec corev1.Secret
	require.NoError(t, json.Unmarshal([]byte(create.Stdin), &sec), "a Secret kubectl can apply")
	newTok := sec.StringData["token-id"] + "." + sec.StringData["token-secret"]
	assert.Regexp(t, `^[a-z0-9]{6}\.[a-z0-9]{16}$`, newTok)
	assert.Equal(t, "bootstrap-token-"+sec.StringData["token-id"], sec.Name)
	assert.Equal(t, "kube-system", sec.Namespace)
	assert.Equal(t, "system:bootstrappers:kubeadm:default-node-token", sec.StringData["auth-extra-groups"])
	exp, err := time.Parse(time.RFC3339, sec.StringData["expiration"])
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(DefaultTokenTTL).UTC().Truncate(time.Second), exp)
	assert.NotEqual(t, initTok.Value, newTok)
	cfg, _ := hosts.File("node04", ConfigDir+"/join.yaml")
	assert.Contains(t, string(cfg), newTok)
	assert.Less(t, slices.IndexFunc(hosts.Commands(), func(c string) bool { return strings.Contains(c, "apply -f -") }),
		slices.Index(hosts.Commands(), "node04 kubeadm join --config "+ConfigDir+"/join.yaml"))
}

func TestSequenceWaitReadyNamesNodes(t *testing.T) {
	t.Parallel()
	b, _, _ := newTestBootstrapper(t, func(host, command string) kubeadmtest.Reply {
		return kubeadmtest.Reply{Stdout: "master01\tTrue\nmaster02\tTrue\nmaster03\tTrue\nnode01\tTrue\nnode02\tTrue\nnode03\tFalse\n"}
	})
	err := b.WaitReady(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "node03 (Ready=False)")
	assert.Contains(t, err.Error(), "node04 (not registered)")
	assert.NotContains(t, err.Error(), "node01")

	ok, _, _ := newTestBootstrapper(t, nil)
	assert.NoError(t, ok.WaitReady(context.Background()))
}

func TestSequencePreflightReportsEveryProblem(t *testing.T) {
	t.Parallel()
	script := func(host, command string) kubeadmtest.Reply {
		if strings.HasPrefix(command, "CRI=") {
			return kubeadmtest.Reply{Stdout: "Swap\tswap is on\nCRI\tcontainer runtime socket /run/containerd/containerd.sock is missing\nPort-6443\tport 6443 is in use\n"}
		}
		return kubeadmtest.Reply{}
	}
	b, hosts, _ := newTestBootstrapper(t, script)
	err := b.Init(context.Background())
	require.Error(t, err)
	for _, want := range []string{"master01", "3 problem(s)", "Swap", "CRI", "Port-6443"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Equal(t, -1, indexOf(hosts.Log(), "master01", "run", "kubeadm init"), "init must not run after failed preflight")

	b2, _, _ := newTestBootstrapper(t, script)
	b2.Cluster.IgnorePreflightErrors = []string{"swap", "Port-6443"}
	err = b2.Init(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 problem(s)")
	assert.NotContains(t, err.Error(), "Swap")
}
