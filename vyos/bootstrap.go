package vyos

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// Bootstrap is what a new VyOS router VM is given at its first boot, so
// that planetstage can reach it over SSH and configure the rest: its name,
// the addresses of its two interfaces and the key its login user
// authorizes. VyOS images take it as configuration commands in cloud-init
// user-data (BootstrapUserData).
type Bootstrap struct {
	HostName string
	// WAN and LAN are eth0's and eth1's addresses with their prefix
	// lengths: the underlay and the site.
	WAN, LAN netip.Prefix
	// User is the login user that authorizes the key; VyOS reserves root.
	User string
	// KeyType and Key are the authorized public key: "ssh-ed25519" and its
	// base64 body, as an authorized_keys line has them.
	KeyType, Key string
}

// BootstrapCommands are b as configuration commands of dialect d, each
// checked against d's command tree (Validate).
func BootstrapCommands(d Dialect, b Bootstrap) ([]Command, error) {
	key := []string{"system", "login", "user", b.User, "authentication", "public-keys", "planetstage"}
	cmds := []Command{
		set("system", "host-name", b.HostName),
		set("interfaces", "ethernet", "eth0", "address", b.WAN.String()),
		set("interfaces", "ethernet", "eth1", "address", b.LAN.String()),
		set("service", "ssh", "port", "22"),
		set(append(key, "type", b.KeyType)...),
		setQuoted(append(key, "key", b.Key)...),
	}
	if err := Validate(d, cmds); err != nil {
		return nil, fmt.Errorf("vyos %s bootstrap: %w", d, err)
	}
	return cmds, nil
}

// BootstrapUserData is the cloud-config that gives a VyOS image cmds at its
// first boot: VyOS's cloud-init runs the commands listed under
// vyos_config_commands, then commits and saves them. Whether an image
// reads user-data from VMware's guestinfo depends on how it was built.
func BootstrapUserData(cmds []Command) string {
	var b strings.Builder
	b.WriteString("#cloud-config\nvyos_config_commands:\n")
	for _, c := range cmds {
		q, _ := json.Marshal(c.String()) // a JSON string is a YAML double-quoted scalar
		b.WriteString("  - " + string(q) + "\n")
	}
	return b.String()
}
