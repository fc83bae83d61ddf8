package vyos

import (
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// OpenVPNConf returns the openvpn.conf that VyOS would render for interface
// iface of c, with the key and certificate files it would write, placed
// under dir. It is a Go port of the site-to-site part of VyOS's mapping
// (vyatta-openvpn's Config.pm for 1.2; server.conf.tmpl/.j2 for 1.3+), as the
// reference documents it, for the commands planetstage emits.
//
// It exists so that tests can run what VyOS would run with a real OpenVPN
// when no VyOS image is available; it is not VyOS.
func OpenVPNConf(c *Config, iface, dir string) (string, []File, error) {
	leaves := map[string][]string{}
	pki := map[string]string{}
	for _, cmd := range c.Commands {
		p := cmd.Path
		switch {
		case len(p) >= 5 && p[0] == "interfaces" && p[1] == "openvpn" && p[2] == iface:
			k := strings.Join(p[3:len(p)-1], " ")
			leaves[k] = append(leaves[k], p[len(p)-1])
		case len(p) == 4 && p[0] == "interfaces" && p[1] == "openvpn" && p[2] == iface:
			leaves[p[3]] = append(leaves[p[3]], "")
		case len(p) >= 4 && p[0] == "pki":
			pki[strings.Join(p[:len(p)-1], " ")] = p[len(p)-1]
		}
	}
	if leaves["mode"] == nil {
		return "", nil, fmt.Errorf("vyos: router %q has no interface %s", c.Router, iface)
	}
	get := func(k string) string {
		if v := leaves[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	var files []File
	authFile := func(p string) (string, error) {
		for _, f := range c.Files {
			if f.Path == p {
				local := path.Join(dir, path.Base(p))
				files = append(files, File{Path: local, Data: f.Data, Secret: f.Secret})
				return local, nil
			}
		}
		return "", fmt.Errorf("vyos: router %q: %s refers to %s, which the config does not provide", c.Router, iface, p)
	}
	interval, _ := strconv.Atoi(get("keep-alive interval"))
	failures, _ := strconv.Atoi(get("keep-alive failure-count"))
	restart := failures // 1.3+: seconds
	if c.Dialect == V12 {
		restart = interval * failures
	}
	line("verb 3")
	line("dev-type tun")
	line("dev %s", iface)
	if c.Dialect != V12 {
		line("persist-key")
	}
	if c.Dialect.atLeast(V14) {
		line("disable-dco") // "offload dco" is not set
	}
	line("proto %s", get("protocol"))
	line("local %s", get("local-host"))
	line("lport %s", get("local-port"))
	for _, r := range leaves["remote-host"] {
		line("remote %s", r)
	}
	line("rport %s", get("remote-port"))
	if leaves["persistent-tunnel"] != nil {
		line("persist-tun")
	}
	line("ping %d", interval)
	line("ping-restart %d", restart)
	line("ifconfig %s %s", get("local-address"), get("remote-address"))
	switch role := get("tls role"); {
	case role != "" && c.Dialect.atLeast(V14):
		name := get("tls certificate")
		certF := File{Path: path.Join(dir, iface+"_cert.pem"), Data: pemWrap("CERTIFICATE", pki["pki certificate "+name+" certificate"])}
		keyF := File{Path: path.Join(dir, iface+"_cert.key"), Data: pemWrap("PRIVATE KEY", pki["pki certificate "+name+" private key"]), Secret: true}
		files = append(files, certF, keyF)
		line("cert %s", certF.Path)
		line("key %s", keyF.Path)
		line("dh none")
		line("tls-%s", map[string]string{"active": "client", "passive": "server"}[role])
		line("<peer-fingerprint>")
		for _, fp := range leaves["tls peer-fingerprint"] {
			line("%s", fp)
		}
		line("</peer-fingerprint>")
	case role != "":
		for _, kv := range [][2]string{{"ca", "tls ca-cert-file"}, {"cert", "tls cert-file"}, {"key", "tls key-file"}, {"dh", "tls dh-file"}} {
			if p := get(kv[1]); p != "" {
				local, err := authFile(p)
				if err != nil {
					return "", nil, err
				}
				line("%s %s", kv[0], local)
			}
		}
		line("tls-%s", map[string]string{"active": "client", "passive": "server"}[role])
	}
	cipher := get("encryption")
	if c.Dialect != V12 {
		cipher = get("encryption cipher")
	}
	if cipher != "" {
		line("cipher %s", translateCipher(cipher))
	}
	if h := get("hash"); h != "" {
		line("auth %s", h)
	}
	switch {
	case get("shared-secret-key-file") != "":
		local, err := authFile(get("shared-secret-key-file"))
		if err != nil {
			return "", nil, err
		}
		line("secret %s", local)
	case get("shared-secret-key") != "":
		h := pki["pki openvpn shared-secret "+get("shared-secret-key")+" key"]
		if _, err := hex.DecodeString(h); err != nil || len(h) != 512 {
			return "", nil, fmt.Errorf("vyos: router %q: %s: shared secret is not 512 hex characters", c.Router, iface)
		}
		var k strings.Builder
		k.WriteString("-----BEGIN OpenVPN Static key V1-----\n")
		for i := 0; i < len(h); i += 32 {
			k.WriteString(h[i:i+32] + "\n")
		}
		k.WriteString("-----END OpenVPN Static key V1-----\n")
		f := File{Path: path.Join(dir, iface+"_shared.key"), Data: []byte(k.String()), Secret: true}
		files = append(files, f)
		line("secret %s", f.Path)
	}
	switch c.Dialect {
	case V14:
		line("providers legacy default")
	case V15:
		line("providers default")
	}
	return b.String(), files, nil
}

func translateCipher(c string) string {
	m := map[string]string{"aes128": "AES-128-CBC", "aes192": "AES-192-CBC", "aes256": "AES-256-CBC",
		"aes128gcm": "AES-128-GCM", "aes192gcm": "AES-192-GCM", "aes256gcm": "AES-256-GCM", "3des": "DES-EDE3-CBC", "none": "none"}
	if v, ok := m[c]; ok {
		return v
	}
	return strings.ToUpper(c)
}

func pemWrap(typ, b64 string) []byte {
	var b strings.Builder
	b.WriteString("-----BEGIN " + typ + "-----\n")
	for i := 0; i < len(b64); i += 64 {
		b.WriteString(b64[i:min(i+64, len(b64))] + "\n")
	}
	b.WriteString("-----END " + typ + "-----\n")
	return []byte(b.String())
}
