package kubeconfig_test

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/planetstage/planetstage/kubeconfig"
)

// The admin.conf of a cluster called "thesis" goes into a kubeconfig file
// as the context "thesis", pointed at an address this machine reaches.
func Example() {
	adminConf, err := os.ReadFile("testdata/admin.conf") // kubeadm.Bootstrapper.ReadAdminKubeconfig
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := kubeconfig.Named(adminConf, "thesis", "https://127.0.0.1:16443")
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, err := os.MkdirTemp("", "kubeconfig-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config") // kubeconfig.DefaultPath() for a user
	if err := kubeconfig.Merge(path, cfg); err != nil {
		fmt.Println(err)
		return
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := got.Clusters[got.CurrentContext]
	fmt.Println(got.CurrentContext, c.Server, c.TLSServerName)
	// Output:
	// thesis https://127.0.0.1:16443 192.168.10.253
}
