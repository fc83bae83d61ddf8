package kubeadm

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kubeadmapi "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm"
	kubeadmconfig "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
)

// tunedCluster is the thesis cluster fitted to a small machine: fewer
// requests in flight, Go runtimes bounded, a patient etcd, no CoreDNS.
func tunedCluster() *Cluster {
	c := thesisCluster()
	c.Components = ControlPlaneComponents{
		APIServer: ComponentOptions{
			ExtraArgs: []Arg{{"max-requests-inflight", "100"}, {"max-mutating-requests-inflight", "50"}, {"profiling", "false"}},
			ExtraEnv:  []Arg{{"GOMAXPROCS", "1"}, {"GOMEMLIMIT", "400MiB"}},
		},
		ControllerManager: ComponentOptions{ExtraArgs: []Arg{{"profiling", "false"}}, ExtraEnv: []Arg{{"GOMAXPROCS", "1"}}},
		Scheduler:         ComponentOptions{ExtraArgs: []Arg{{"profiling", "false"}}},
		Etcd: ComponentOptions{
			ExtraArgs: []Arg{{"heartbeat-interval", "250"}, {"election-timeout", "2500"}, {"quota-backend-bytes", "268435456"}},
			ExtraEnv:  []Arg{{"GOMAXPROCS", "1"}},
		},
	}
	c.SkipPhases = []string{"addon/coredns", "show-join-command"}
	return c
}

func TestGoldenTunedInitConfig(t *testing.T) {
	t.Parallel()
	got, err := tunedCluster().InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	path := filepath.Join("testdata", "init-master01-tuned.yaml")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing; run go test ./kubeadm -run Golden -update")
	assert.Equal(t, string(want), string(got))
}

// TestKubeadmAcceptsTunedConfig reads the tuning back from kubeadm's own
// decoding, after its validation.
func TestKubeadmAcceptsTunedConfig(t *testing.T) {
	t.Parallel()
	init, err := tunedCluster().InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	require.NoError(t, kubeadmconfig.ValidateConfig(init, false, false))
	cfg, err := kubeadmconfig.BytesToInitConfiguration(init, true)
	require.NoError(t, err)
	assert.Equal(t, []string{"addon/coredns", "show-join-command"}, cfg.SkipPhases)
	assert.Equal(t, "100", argValue(cfg.APIServer.ExtraArgs, "max-requests-inflight"))
	assert.Equal(t, "50", argValue(cfg.APIServer.ExtraArgs, "max-mutating-requests-inflight"))
	assert.Equal(t, "false", argValue(cfg.ControllerManager.ExtraArgs, "profiling"))
	assert.Equal(t, "false", argValue(cfg.Scheduler.ExtraArgs, "profiling"))
	require.NotNil(t, cfg.Etcd.Local)
	assert.Equal(t, "/var/lib/etcd", cfg.Etcd.Local.DataDir)
	assert.Equal(t, "2500", argValue(cfg.Etcd.Local.ExtraArgs, "election-timeout"))
	assert.Equal(t, "268435456", argValue(cfg.Etcd.Local.ExtraArgs, "quota-backend-bytes"))
	env := map[string]string{}
	for _, e := range cfg.APIServer.ExtraEnvs {
		env[e.Name] = e.Value
	}
	assert.Equal(t, map[string]string{"GOMAXPROCS": "1", "GOMEMLIMIT": "400MiB"}, env)
	require.Len(t, cfg.Etcd.Local.ExtraEnvs, 1)
	assert.Equal(t, "GOMAXPROCS", cfg.Etcd.Local.ExtraEnvs[0].Name)
	// Skipping the CoreDNS phase is how kubeadm disables DNS; the join
	// configs are untouched by tuning (joins read the uploaded cluster config).
	join, err := tunedCluster().JoinConfig("master02", testSecrets)
	require.NoError(t, err)
	plain, err := thesisCluster().JoinConfig("master02", testSecrets)
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(join))
}

func argValue(args []kubeadmapi.Arg, name string) string {
	for _, a := range args {
		if a.Name == name {
			return a.Value
		}
	}
	return ""
}

func TestValidateRejectsBadTuning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *Cluster)
		want   string
	}{
		{"dashes", func(c *Cluster) { c.Components.APIServer.ExtraArgs = []Arg{{"--profiling", "false"}} },
			`components.apiServer.extraArgs[0]: write "--profiling" without the leading dashes`},
		{"empty flag", func(c *Cluster) { c.Components.Etcd.ExtraArgs = []Arg{{"", "1"}} },
			`components.etcd.extraArgs[0]: "" is not a flag name`},
		{"flag with =", func(c *Cluster) { c.Components.Scheduler.ExtraArgs = []Arg{{"v=2", ""}} },
			`components.scheduler.extraArgs[0]: "v=2" is not a flag name`},
		{"env name", func(c *Cluster) { c.Components.ControllerManager.ExtraEnv = []Arg{{"GO MAXPROCS", "1"}} },
			`components.controllerManager.extraEnv[0]: "GO MAXPROCS" is not an environment variable name`},
		{"unknown phase", func(c *Cluster) { c.SkipPhases = []string{"addons/coredns"} },
			`skipPhases: "addons/coredns" is not a kubeadm init phase`},
		{"needed phase", func(c *Cluster) { c.SkipPhases = []string{"upload-config/kubeadm"} },
			`"upload-config/kubeadm" cannot be skipped: joining control planes read the uploaded ClusterConfiguration`},
		{"needed parent", func(c *Cluster) { c.SkipPhases = []string{"bootstrap-token"} },
			`"bootstrap-token" cannot be skipped`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tunedCluster()
			tt.change(c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			_, err = c.InitConfig(testSecrets, testNow)
			assert.Error(t, err, "nothing is rendered from a bad cluster")
		})
	}
	assert.NoError(t, tunedCluster().Validate())
}

// TestInitPhasesMatchKubeadm compares InitPhases with the phase list of a
// real kubeadm binary (`kubeadm init --help`); it skips without one, like
// TestRealKubeadmValidates. It also runs `kubeadm config validate` on the
// tuned config.
func TestInitPhasesMatchKubeadm(t *testing.T) {
	t.Parallel()
	bin := os.Getenv("PLANETSTAGE_KUBEADM")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("kubeadm"); err != nil {
			t.Skip("no kubeadm binary: set PLANETSTAGE_KUBEADM or put kubeadm (v1.31+) in PATH")
		}
	}
	out, err := exec.Command(bin, "init", "--help").Output()
	require.NoError(t, err)
	var phases []string
	parent := ""
	inList := false
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.Contains(line, "executes the following phases"):
			inList = true
		case !inList || line == "```" || strings.TrimSpace(line) == "":
		case strings.HasPrefix(line, "Usage:"):
			inList = false
		case strings.HasPrefix(line, "  /"):
			phases = append(phases, parent+strings.Fields(line)[0])
		default:
			parent = strings.Fields(line)[0]
			phases = append(phases, parent)
		}
	}
	require.NotEmpty(t, phases, "no phase list in kubeadm init --help")
	assert.Equal(t, InitPhases, phases)

	init, err := tunedCluster().InitConfig(testSecrets, testNow)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "init.yaml")
	require.NoError(t, os.WriteFile(path, init, 0o600))
	val, err := exec.Command(bin, "config", "validate", "--config", path).CombinedOutput()
	require.NoError(t, err, "%s", val)
	assert.Equal(t, "ok", strings.TrimSpace(lastLine(string(val))))
}
