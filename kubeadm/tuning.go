package kubeadm

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
)

// Arg is one command-line flag or environment variable of a control-plane
// component.
type Arg struct {
	// Name is the flag without its leading dashes ("max-requests-inflight"),
	// or the variable's name ("GOMAXPROCS").
	Name  string
	Value string
}

// ComponentOptions tunes one control-plane component's static pod.
type ComponentOptions struct {
	// ExtraArgs override or add flags; kubeadm allows a name more than once.
	ExtraArgs []Arg
	// ExtraEnv adds environment variables, e.g. GOMAXPROCS or GOMEMLIMIT
	// to bound a Go component on a small machine.
	ExtraEnv []Arg
}

func (o ComponentOptions) empty() bool { return len(o.ExtraArgs) == 0 && len(o.ExtraEnv) == 0 }

// ControlPlaneComponents tunes the static pods kubeadm writes on every control
// plane. They go into the ClusterConfiguration, which kubeadm init uploads
// and every joining control plane reads back, so all masters run with the
// same settings.
type ControlPlaneComponents struct {
	APIServer, ControllerManager, Scheduler ComponentOptions
	// Etcd is the local (stacked) etcd member of each control plane.
	Etcd ComponentOptions
}

// InitPhases are the phases of kubeadm init (v1.31 to v1.37) that
// Cluster.SkipPhases may name: a parent skips its children too.
var InitPhases = []string{
	"preflight",
	"certs", "certs/ca", "certs/apiserver", "certs/apiserver-kubelet-client", "certs/front-proxy-ca",
	"certs/front-proxy-client", "certs/etcd-ca", "certs/etcd-server", "certs/etcd-peer",
	"certs/etcd-healthcheck-client", "certs/apiserver-etcd-client", "certs/sa",
	"kubeconfig", "kubeconfig/admin", "kubeconfig/super-admin", "kubeconfig/kubelet",
	"kubeconfig/controller-manager", "kubeconfig/scheduler",
	"etcd", "etcd/local",
	"control-plane", "control-plane/apiserver", "control-plane/controller-manager", "control-plane/scheduler",
	"kubelet-start",
	"wait-control-plane",
	"upload-config", "upload-config/kubeadm", "upload-config/kubelet",
	"upload-certs",
	"mark-control-plane",
	"bootstrap-token",
	"kubelet-finalize", "kubelet-finalize/enable-client-cert-rotation",
	"addon", "addon/coredns", "addon/kube-proxy",
	"show-join-command",
}

// flowNeeds are the init phases (with their children) the rest of the flow
// depends on: the control plane itself, the uploaded ClusterConfiguration
// that control planes join with, and the bootstrap token workers join with.
var flowNeeds = map[string]string{
	"certs":           "the control plane needs its certificates",
	"kubeconfig":      "the control plane and kubectl need their kubeconfigs",
	"etcd":            "the control plane needs etcd",
	"control-plane":   "there would be no control plane",
	"kubelet-start":   "the kubelet runs the control plane",
	"upload-config":   "joining control planes read the uploaded ClusterConfiguration",
	"bootstrap-token": "joining nodes authenticate with the bootstrap token",
}

var (
	flagName = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9_.]*$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// validateTuning checks ControlPlane and SkipPhases, one error per problem.
func (c *Cluster) validateTuning() []error {
	var errs []error
	for _, comp := range []struct {
		name string
		opts ComponentOptions
	}{
		{"apiServer", c.Components.APIServer},
		{"controllerManager", c.Components.ControllerManager},
		{"scheduler", c.Components.Scheduler},
		{"etcd", c.Components.Etcd},
	} {
		for i, a := range comp.opts.ExtraArgs {
			switch {
			case strings.HasPrefix(a.Name, "-"):
				errs = append(errs, fmt.Errorf("cluster: components.%s.extraArgs[%d]: write %q without the leading dashes", comp.name, i, a.Name))
			case !flagName.MatchString(a.Name):
				errs = append(errs, fmt.Errorf("cluster: components.%s.extraArgs[%d]: %q is not a flag name", comp.name, i, a.Name))
			}
		}
		for i, e := range comp.opts.ExtraEnv {
			if !envName.MatchString(e.Name) {
				errs = append(errs, fmt.Errorf("cluster: components.%s.extraEnv[%d]: %q is not an environment variable name", comp.name, i, e.Name))
			}
		}
	}
	for _, p := range c.SkipPhases {
		if !slices.Contains(InitPhases, p) {
			errs = append(errs, fmt.Errorf("cluster: skipPhases: %q is not a kubeadm init phase (see kubeadm.InitPhases)", p))
			continue
		}
		parent, _, _ := strings.Cut(p, "/")
		if why, ok := flowNeeds[parent]; ok {
			errs = append(errs, fmt.Errorf("cluster: skipPhases: %q cannot be skipped: %s", p, why))
		}
	}
	return errs
}

// componentConfig turns options into kubeadm's v1beta4 form.
func componentConfig(o ComponentOptions) v1beta4.ControlPlaneComponent {
	return v1beta4.ControlPlaneComponent{ExtraArgs: args(o.ExtraArgs), ExtraEnvs: envs(o.ExtraEnv)}
}

// etcdConfig sets a local etcd section only when etcd is tuned, so an
// untuned cluster renders exactly as before.
func etcdConfig(o ComponentOptions) v1beta4.Etcd {
	if o.empty() {
		return v1beta4.Etcd{}
	}
	// DataDir has no omitempty: name kubeadm's default rather than render "".
	return v1beta4.Etcd{Local: &v1beta4.LocalEtcd{DataDir: v1beta4.DefaultEtcdDataDir, ExtraArgs: args(o.ExtraArgs), ExtraEnvs: envs(o.ExtraEnv)}}
}

func args(in []Arg) []v1beta4.Arg {
	var out []v1beta4.Arg
	for _, a := range in {
		out = append(out, v1beta4.Arg{Name: a.Name, Value: a.Value})
	}
	return out
}

func envs(in []Arg) []v1beta4.EnvVar {
	var out []v1beta4.EnvVar
	for _, a := range in {
		var e v1beta4.EnvVar // its fields come from an embedded core/v1 EnvVar
		e.Name, e.Value = a.Name, a.Value
		out = append(out, e)
	}
	return out
}
