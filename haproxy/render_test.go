package haproxy

import (
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func thesisMasters() []Server {
	return []Server{
		{Name: "master01", Address: netip.MustParseAddrPort("192.168.10.101:6443")},
		{Name: "master02", Address: netip.MustParseAddrPort("192.168.10.102:6443")},
		{Name: "master03", Address: netip.MustParseAddrPort("192.168.10.103:6443")},
	}
}

func mustKubeAPI(t *testing.T, o KubeAPIOptions) Config {
	t.Helper()
	c, err := KubeAPIServer(o)
	require.NoError(t, err)
	return c
}

// goldenConfigs are the configs whose rendering is pinned in testdata and
// which real HAProxy must accept (TestGoldenFilesPassHAProxyCheck).
func goldenConfigs(t *testing.T) map[string]Config {
	return map[string]Config{
		"thesis": mustKubeAPI(t, KubeAPIOptions{Servers: thesisMasters()}),
		// The CA path is relative so that haproxy -c finds it from the
		// package directory; on a host it is the cluster CA.
		"with-ca": mustKubeAPI(t, KubeAPIOptions{Servers: thesisMasters(), CAFile: "testdata/ca.crt"}),
		"tuned": mustKubeAPI(t, KubeAPIOptions{
			Bind:         netip.MustParseAddrPort("192.168.10.253:6443"),
			Servers:      thesisMasters()[:1],
			Inter:        500 * time.Millisecond,
			Rise:         1,
			Fall:         2,
			StatsBind:    netip.MustParseAddrPort("127.0.0.1:9000"),
			NoRedispatch: true,
			Unprivileged: true,
			StatsSocket:  "-",
		}),
		"generic-http": {
			Defaults: Defaults{Mode: ModeHTTP, Timeouts: Timeouts{Connect: 3 * time.Second, Client: 30 * time.Second, Server: 30 * time.Second}},
			Frontends: []Frontend{{
				Name:           "web",
				Binds:          []netip.AddrPort{netip.MustParseAddrPort("[::1]:8080"), netip.MustParseAddrPort("127.0.0.1:8080")},
				DefaultBackend: "app",
			}},
			Backends: []Backend{{
				Name:    "app",
				Balance: "leastconn",
				Check:   &HealthCheck{Method: "HEAD", Path: "/health", ExpectStatus: 204, Inter: 5 * time.Second, Rise: 2, Fall: 2},
				Servers: []Server{
					{Name: "a", Address: netip.MustParseAddrPort("10.0.0.1:80")},
					{Name: "b", Address: netip.MustParseAddrPort("[fd00::2]:80")},
				},
			}, {
				Name:    "unused",
				Servers: []Server{{Name: "c", Address: netip.MustParseAddrPort("10.0.0.3:80")}},
			}},
		},
	}
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for name, c := range goldenConfigs(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(c)
			require.NoError(t, err)
			again, err := Render(c)
			require.NoError(t, err)
			assert.Equal(t, got, again, "rendering is deterministic")
			path := filepath.Join("testdata", name+".cfg")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			assert.Equal(t, string(want), string(got))
		})
	}
}

// TestGoldenFilesPassHAProxyCheck runs the real haproxy -c on every golden
// file, in zero-warning mode: a warning is a bug in the renderer too.
func TestGoldenFilesPassHAProxyCheck(t *testing.T) {
	t.Parallel()
	bin := requireHAProxy(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.cfg"))
	require.NoError(t, err)
	require.Len(t, files, len(goldenConfigs(t)), "every golden config has a file and no stale file is left")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(bin, "-c", "-dW", "-f", f).CombinedOutput()
			assert.NoError(t, err, "haproxy -c -dW -f %s:\n%s", f, out)
			assert.Contains(t, string(out), "Configuration file is valid")
		})
	}
}

func TestRenderRejectsBadConfig(t *testing.T) {
	t.Parallel()
	good := func() Config { return mustKubeAPI(t, KubeAPIOptions{Servers: thesisMasters()}) }
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"no mode", func(c *Config) { c.Defaults.Mode = "" }, []string{"defaults: mode: required"}},
		{"bad mode", func(c *Config) { c.Frontends[0].Mode = "udp" }, []string{`frontend[0] "kube-apiserver": mode "udp"`}},
		{"newline in path", func(c *Config) { c.Backends[0].Check.Path = "/readyz\nuser root" }, []string{`check: path`}},
		{"unknown backend", func(c *Config) { c.Frontends[0].DefaultBackend = "nope" }, []string{`defaultBackend "nope": no such backend`}},
		{"duplicate server", func(c *Config) { c.Backends[0].Servers[1].Name = "master01" }, []string{`server[1] "master01": name: duplicate server`}},
		{"zero port", func(c *Config) {
			c.Backends[0].Servers[2].Address = netip.AddrPortFrom(netip.MustParseAddr("192.168.10.103"), 0)
		}, []string{`server[2] "master03": address`}},
		{"fall zero and sub-ms inter", func(c *Config) { c.Backends[0].Check.Fall = 0; c.Backends[0].Check.Inter = 1500 * time.Microsecond }, []string{"fall 0", "whole milliseconds"}},
		{"redispatch without retries", func(c *Config) { c.Defaults.Retries = 0 }, []string{"redispatch needs retries"}},
		{"ca without tls", func(c *Config) { c.Backends[0].Check.TLS = false; c.Backends[0].Check.CAFile = "/ca.crt" }, []string{"caFile is set but tls is off"}},
		{"health of unknown backend", func(c *Config) { c.Stats.HealthyIf = []string{"etcd"} }, []string{`healthyIf "etcd": no such backend`}},
		{"space in user", func(c *Config) { c.Global.User = "hap roxy" }, []string{`global: user "hap roxy"`}},
		{"expect status 42", func(c *Config) { c.Backends[0].Check.ExpectStatus = 42 }, []string{"expectStatus 42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tt.change(&c)
			out, err := Render(c)
			require.Error(t, err)
			assert.Nil(t, out)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestKubeAPIServerNeedsServers(t *testing.T) {
	t.Parallel()
	_, err := KubeAPIServer(KubeAPIOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "servers")
}

func TestDurationFormat(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		200 * time.Millisecond:  "200ms",
		1500 * time.Millisecond: "1500ms",
		2 * time.Second:         "2s",
		90 * time.Second:        "90s",
		30 * time.Minute:        "30m",
		time.Hour:               "1h",
	} {
		assert.Equal(t, want, duration(d), "%v", d)
	}
}

func TestLineDiff(t *testing.T) {
	t.Parallel()
	old := "backend x\n    server master01 a\n    server master02 b\n"
	cur := "backend x\n    server master01 a\n    server master04 d\n"
	assert.Equal(t, "+server master04 d; -server master02 b", lineDiff([]byte(old), []byte(cur)))
	assert.Equal(t, "whitespace only", lineDiff([]byte("a\n  b"), []byte("a\nb")))
	assert.True(t, strings.HasSuffix(lineDiff([]byte(""), []byte("1\n2\n3\n4\n5\n6")), "(and 2 more lines)"))
}
