package esxi

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/soap"
)

// Config says how to reach one ESXi host. The zero value of every optional
// field is the safe default: TLS verified, 5 minute keepalive.
type Config struct {
	// URL of the host's SOAP endpoint, "https://HOST/sdk". A bare host name
	// or address is accepted and completed the way govc does. User info in
	// the URL ("https://root:secret@host/sdk") is used when Username is empty.
	URL string
	// Username and Password override the URL's user info (GOVC_USERNAME,
	// GOVC_PASSWORD).
	Username string
	Password string
	// Insecure skips TLS verification (GOVC_INSECURE=1). Prefer Thumbprint.
	Insecure bool
	// Thumbprint pins the host certificate by its SHA-256 fingerprint
	// (64 hex digits, colons optional; `govc about.cert -k -thumbprint`).
	// The certificate is accepted when it is trusted by the system roots or
	// when it matches the pin. A pin wins over Insecure.
	Thumbprint string
	// CAFile is a PEM bundle of certificate authorities to check the host's
	// certificate against, instead of the system roots.
	CAFile string
	// Datastore for new VMs; empty means the host's only datastore
	// (GOVC_DATASTORE).
	Datastore string
	// KeepAlive is the idle time after which the session is refreshed; 0
	// means 5 minutes, negative disables the keepalive.
	KeepAlive time.Duration
	// Logger receives debug records; nil discards them.
	Logger *slog.Logger
}

// ConfigFromEnv builds a Config from rawURL and the govc environment
// variables users already have set: GOVC_URL (when rawURL is empty),
// GOVC_USERNAME, GOVC_PASSWORD, GOVC_INSECURE and GOVC_DATASTORE. getenv is
// usually os.Getenv; tests pass a map lookup.
func ConfigFromEnv(rawURL string, getenv func(string) string) (Config, error) {
	cfg := Config{URL: rawURL}
	if cfg.URL == "" {
		cfg.URL = getenv("GOVC_URL")
	}
	cfg.Username = getenv("GOVC_USERNAME")
	cfg.Password = getenv("GOVC_PASSWORD")
	cfg.Datastore = getenv("GOVC_DATASTORE")
	if v := getenv("GOVC_INSECURE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("GOVC_INSECURE=%q: want 1, 0, true or false", v)
		}
		cfg.Insecure = b
	}
	return cfg, nil
}

// endpoint is a checked Config: the URL without credentials, the
// credentials, and the normalised pin.
type endpoint struct {
	url        *url.URL // no user info
	user       *url.Userinfo
	host       string // for messages
	thumbprint string // upper case, colon separated, or ""
}

func (cfg Config) endpoint() (endpoint, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return endpoint{}, fmt.Errorf("esxi: no URL: set the hypervisor url (https://HOST/sdk) or GOVC_URL")
	}
	u, err := soap.ParseURL(cfg.URL)
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		return endpoint{}, fmt.Errorf("esxi: URL is not a valid URL (want https://HOST/sdk)")
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("esxi: URL %q has no host", u.Redacted())
	}
	user := u.User
	u.User = nil
	if cfg.Username != "" {
		user = url.UserPassword(cfg.Username, cfg.Password)
	}
	if user == nil || user.Username() == "" {
		return endpoint{}, fmt.Errorf("esxi %s: no user name: set GOVC_USERNAME or put it in the URL", u.Host)
	}
	tp, err := normaliseThumbprint(cfg.Thumbprint)
	if err != nil {
		return endpoint{}, fmt.Errorf("esxi %s: thumbprint: %w", u.Host, err)
	}
	return endpoint{url: u, user: user, host: u.Host, thumbprint: tp}, nil
}

// normaliseThumbprint accepts a SHA-256 fingerprint with or without colons,
// in either case, and returns govmomi's form (AB:CD:...).
func normaliseThumbprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	raw := strings.ReplaceAll(s, ":", "")
	b, err := hex.DecodeString(raw)
	if err != nil || len(b) != 32 {
		return "", fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits, colons optional)", s)
	}
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":"), nil
}
