package kubeadm

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	bootstraptokenv1 "k8s.io/kubernetes/cmd/kubeadm/app/apis/bootstraptoken/v1"
	kubeadmscheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme"
	"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
)

// Secrets is what a rendered config embeds that must not be shown: the
// bootstrap token. The CA hash is public (it is a hash of a public key).
type Secrets struct {
	Token Token
	// CAHash is the caCertHashes entry (see CACertHash).
	CAHash string
}

// Redacted returns s with the token replaced by RedactedToken, for configs
// that people or logs see.
func (s Secrets) Redacted() Secrets {
	s.Token.Value = RedactedToken
	return s
}

// InitConfig renders the first control plane's kubeadm configuration:
// an InitConfiguration and a ClusterConfiguration (kubeadm.k8s.io/v1beta4,
// marshalled by kubeadm's own scheme), then ExtraDocuments.
func (c *Cluster) InitConfig(s Secrets, now time.Time) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	first := c.FirstControlPlane()
	if !tokenFormat.MatchString(s.Token.Value) {
		return nil, fmt.Errorf("node %q: init config: bootstrap token %s has the wrong format", first.Name, s.Token)
	}
	ttl := s.Token.Expires.Sub(now).Round(time.Second)
	if ttl <= 0 {
		return nil, fmt.Errorf("node %q: init config: bootstrap token %s has expired", first.Name, s.Token)
	}
	init := &v1beta4.InitConfiguration{
		BootstrapTokens: []bootstraptokenv1.BootstrapToken{{
			Token:  &bootstraptokenv1.BootstrapTokenString{ID: s.Token.Value[:6], Secret: s.Token.Value[7:]},
			TTL:    &metav1.Duration{Duration: ttl},
			Usages: []string{"signing", "authentication"},
			Groups: []string{"system:bootstrappers:kubeadm:default-node-token"},
		}},
		NodeRegistration: c.nodeRegistration(first),
		LocalAPIEndpoint: v1beta4.APIEndpoint{AdvertiseAddress: first.Address.String(), BindPort: int32(c.Endpoint.Port())},
		SkipPhases:       c.SkipPhases,
	}
	cluster := &v1beta4.ClusterConfiguration{
		ClusterName:          c.Name,
		KubernetesVersion:    c.KubernetesVersion,
		ControlPlaneEndpoint: c.Endpoint.String(),
		ImageRepository:      c.ImageRepository,
		Networking: v1beta4.Networking{
			PodSubnet:     c.PodSubnet.String(),
			ServiceSubnet: c.ServiceSubnet.String(),
		},
		APIServer: v1beta4.APIServer{
			ControlPlaneComponent: componentConfig(c.Components.APIServer),
			CertSANs:              c.certSANs(),
		},
		ControllerManager: componentConfig(c.Components.ControllerManager),
		Scheduler:         componentConfig(c.Components.Scheduler),
		Etcd:              etcdConfig(c.Components.Etcd),
	}
	docs := []runtime.Object{init, cluster}
	out, err := encode(docs...)
	if err != nil {
		return nil, fmt.Errorf("node %q: init config: %w", first.Name, err)
	}
	for _, d := range c.ExtraDocuments {
		out = append(out, "---\n"...)
		out = append(out, strings.TrimPrefix(strings.TrimSpace(d), "---\n")...)
		out = append(out, '\n')
	}
	return out, nil
}

// JoinConfig renders the JoinConfiguration of node, with a controlPlane
// section when the node is a control plane. Discovery always pins the CA by
// its hash; unsafeSkipCAVerification is never set.
func (c *Cluster) JoinConfig(node string, s Secrets) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n, controlPlane, ok := c.Node(node)
	if !ok {
		return nil, fmt.Errorf("node %q: not part of the cluster", node)
	}
	if n.Name == c.FirstControlPlane().Name {
		return nil, fmt.Errorf("node %q: the first control plane runs init, not join", node)
	}
	if !strings.HasPrefix(s.CAHash, "sha256:") || len(s.CAHash) != len("sha256:")+64 {
		return nil, fmt.Errorf("node %q: join config: CA hash %q is not sha256:<64 hex>", node, s.CAHash)
	}
	if !tokenFormat.MatchString(s.Token.Value) {
		return nil, fmt.Errorf("node %q: join config: bootstrap token %s has the wrong format", node, s.Token)
	}
	join := &v1beta4.JoinConfiguration{
		NodeRegistration: c.nodeRegistration(n),
		Discovery: v1beta4.Discovery{
			BootstrapToken: &v1beta4.BootstrapTokenDiscovery{
				Token:             s.Token.Value,
				APIServerEndpoint: c.Endpoint.String(),
				CACertHashes:      []string{s.CAHash},
			},
		},
	}
	if controlPlane {
		join.ControlPlane = &v1beta4.JoinControlPlane{
			LocalAPIEndpoint: v1beta4.APIEndpoint{AdvertiseAddress: n.Address.String(), BindPort: int32(c.Endpoint.Port())},
		}
	}
	out, err := encode(join)
	if err != nil {
		return nil, fmt.Errorf("node %q: join config: %w", node, err)
	}
	return out, nil
}

// nodeRegistration names the node, sets its runtime and pins the kubelet to
// the site address (a multi-homed node would otherwise pick the default
// route's interface, which the other sites may not reach).
func (c *Cluster) nodeRegistration(n Node) v1beta4.NodeRegistrationOptions {
	return v1beta4.NodeRegistrationOptions{
		Name:                  n.Name,
		CRISocket:             c.criSocket(),
		KubeletExtraArgs:      []v1beta4.Arg{{Name: "node-ip", Value: n.Address.String()}},
		IgnorePreflightErrors: c.IgnorePreflightErrors,
	}
}

// encode marshals objects with kubeadm's scheme into one multi-document YAML,
// exactly as kubeadm's own "kubeadm config print" does.
func encode(objs ...runtime.Object) ([]byte, error) {
	info, ok := runtime.SerializerInfoForMediaType(kubeadmscheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeYAML)
	if !ok {
		return nil, fmt.Errorf("kubeadm scheme has no YAML serializer")
	}
	enc := kubeadmscheme.Codecs.EncoderForVersion(info.Serializer, v1beta4.SchemeGroupVersion)
	var out bytes.Buffer
	for i, o := range objs {
		b, err := runtime.Encode(enc, o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		out.Write(b)
	}
	return out.Bytes(), nil
}
