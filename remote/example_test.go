package remote_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/planetstage/planetstage/remote"
)

// configure is how a layer acts on a host: only through remote.Runner.
func configure(ctx context.Context, r remote.Runner, dir string) (string, error) {
	conf := filepath.Join(dir, "etc", "demo.conf")
	if err := r.WriteFile(ctx, conf, []byte("listen 6443\n"), 0o644); err != nil {
		return "", err
	}
	return remote.Output(ctx, r, "cat "+remote.ShellQuote(conf)+" | wc -l")
}

func Example() {
	dir, err := os.MkdirTemp("", "remote-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// Local stands in for a host here; an *remote.SSH works the same way.
	out, err := configure(context.Background(), &remote.Local{Name: "lab"}, dir)
	fmt.Printf("%q %v\n", out, err)

	_, err = remote.Output(context.Background(), &remote.Local{Name: "lab"}, "echo broken >&2; exit 3")
	fmt.Println(err)
	// Output:
	// "1\n" <nil>
	// lab: "echo broken >&2; exit 3" exited with status 3: broken
}

// A host behind a router, reached through it, with keys from ssh-agent.
// Nothing is dialled until the first command.
func ExampleNewSSH() {
	router := remote.SSHConfig{
		Name:           "vyos01",
		Addr:           "10.4.0.90",
		User:           "vyos",
		Agent:          true,
		KnownHostsFile: "~/.ssh/known_hosts",
	}
	host, err := remote.NewSSH(remote.SSHConfig{
		Name:           "master01",
		Addr:           "192.168.10.101:22",
		User:           "root",
		IdentityFiles:  []string{"~/.ssh/id_ed25519"},
		KnownHostsFile: "~/.ssh/known_hosts",
		Jump:           &router,
		Retry:          remote.BootRetry,
		DialTimeout:    10 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer host.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	version, err := remote.Output(ctx, host, "kubeadm version -o short")
	fmt.Println(version, err)
}
