package vyos_test

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/planetstage/planetstage/vyos"
)

// TestBootstrapCommands: for every dialect, the bootstrap is commands the
// version's tree takes, in user-data that YAML reads back to the same
// commands (and that Debian's cloud-init accepts where it is installed);
// what VyOS would refuse is refused here, naming it.
func TestBootstrapCommands(t *testing.T) {
	t.Parallel()
	b := vyos.Bootstrap{HostName: "vyos01", WAN: netip.MustParsePrefix("10.4.0.90/16"), LAN: netip.MustParsePrefix("192.168.10.1/24"),
		User: "vyos", KeyType: "ssh-ed25519", Key: "AAAAC3NzaC1lZDI1NTE5AAAAIMo5WSbzKExEfFp/wGAtdPuzI0Fp0TDryLP1MZ61XgHd"}
	for _, d := range vyos.Dialects {
		cmds, err := vyos.BootstrapCommands(d, b)
		require.NoError(t, err, d)
		var lines []string
		for _, c := range cmds {
			lines = append(lines, c.String())
		}
		assert.Equal(t, []string{
			"set system host-name vyos01",
			"set interfaces ethernet eth0 address 10.4.0.90/16",
			"set interfaces ethernet eth1 address 192.168.10.1/24",
			"set service ssh port 22",
			"set system login user vyos authentication public-keys planetstage type ssh-ed25519",
			"set system login user vyos authentication public-keys planetstage key 'AAAAC3NzaC1lZDI1NTE5AAAAIMo5WSbzKExEfFp/wGAtdPuzI0Fp0TDryLP1MZ61XgHd'",
		}, lines, d)

		ud := vyos.BootstrapUserData(cmds)
		var back struct {
			Commands []string `json:"vyos_config_commands"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(ud), &back))
		assert.Equal(t, lines, back.Commands)
		if _, err := exec.LookPath("cloud-init"); err == nil {
			f := filepath.Join(t.TempDir(), "user-data")
			require.NoError(t, os.WriteFile(f, []byte(ud), 0o600))
			out, err := exec.Command("cloud-init", "schema", "--config-file", f).CombinedOutput()
			assert.NoError(t, err, "%s", out)
		}
	}

	root := b
	root.User = "root"
	_, err := vyos.BootstrapCommands(vyos.V14, root)
	assert.ErrorContains(t, err, "root")
	bad := b
	bad.KeyType = "ssh-foo"
	_, err = vyos.BootstrapCommands(vyos.V13, bad)
	assert.ErrorContains(t, err, "ssh-foo")
	wan := b
	wan.WAN = netip.MustParsePrefix("10.4.0.0/16") // a network, not an interface's address
	_, err = vyos.BootstrapCommands(vyos.V12, wan)
	assert.ErrorContains(t, err, "10.4.0.0/16")
}
