// Package deps pins the module's dependency set while the packages that use
// it are written; it is removed once every dependency has a real importer.
package deps

import (
	_ "github.com/ory/dockertest/v3"
	_ "github.com/stretchr/testify/require"
	_ "github.com/vmware/govmomi/cli"
	_ "github.com/vmware/govmomi/simulator"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/v1beta4"
	_ "k8s.io/kubernetes/cmd/kubeadm/app/util/config"
	_ "sigs.k8s.io/yaml"
)
