package wireguard

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/crypto/curve25519"

	"github.com/planetstage/planetstage/secret"
)

// Key is a Curve25519 key as WireGuard uses it: a private key, a public
// key or a pre-shared key, 32 bytes.
type Key [32]byte

// NewPrivateKey returns a new private key, clamped as "wg genkey" clamps
// it (RFC 7748), so that "wg" and VyOS show the same bytes back.
func NewPrivateKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, err
	}
	k[0] &= 248
	k[31] = (k[31] & 127) | 64
	return k, nil
}

// NewPresharedKey returns 32 random bytes, as "wg genpsk" does.
func NewPresharedKey() (Key, error) {
	var k Key
	_, err := rand.Read(k[:])
	return k, err
}

// Public returns the public key of private key k.
func (k Key) Public() Key {
	pub, err := curve25519.X25519(k[:], curve25519.Basepoint)
	if err != nil {
		// Only a low-order result fails, which the base point cannot give.
		panic("wireguard: curve25519: " + err.Error())
	}
	var p Key
	copy(p[:], pub)
	return p
}

// String is the key in base64, the form wg(8) and VyOS take. It prints
// private keys too: callers keep those out of logs (secret.Redacted).
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// IsZero reports whether k is unset.
func (k Key) IsZero() bool { return k == Key{} }

// ParseKey reads a base64 key. Its error never quotes the input, which
// may be a private key.
func ParseKey(s string) (Key, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return Key{}, errors.New("not base64")
	}
	if len(b) != len(Key{}) {
		return Key{}, fmt.Errorf("%d bytes, want 32", len(b))
	}
	var k Key
	copy(k[:], b)
	return k, nil
}

// Keys is the key material of a Model: a private key per router and,
// with Options.PresharedKey, a pre-shared key per tunnel.
type Keys struct {
	Private   map[string]Key // by router name
	Preshared map[string]Key // by tunnel name (tunnel.Tunnel.Name)
}

// Public returns router's public key.
func (k *Keys) Public(router string) (Key, bool) {
	p, ok := k.Private[router]
	if !ok {
		return Key{}, false
	}
	return p.Public(), true
}

// Store names, relative to the Store. The public key is kept beside the
// private one for people and tools that pin it; it is derived again on
// every load.
func privateName(router string) string { return "wireguard/" + router + ".key" }
func publicName(router string) string  { return "wireguard/" + router + ".pub" }
func presharedName(tunnel string) string {
	return "wireguard/" + tunnel + ".psk"
}

// LoadKeys returns the key material m needs, reading it from store and
// creating (and storing, secret) what is missing. A stored key that does
// not parse is an error naming the store entry, not silently replaced:
// replacing a key would break the peers that pinned it.
func LoadKeys(store secret.Store, m *Model) (*Keys, error) {
	k := &Keys{Private: map[string]Key{}, Preshared: map[string]Key{}}
	for _, s := range m.Spec.Sites {
		priv, err := loadKey(store, privateName(s.Router), NewPrivateKey)
		if err != nil {
			return nil, fmt.Errorf("wireguard: router %q: %w", s.Router, err)
		}
		pub := []byte(priv.Public().String() + "\n")
		if have, err := store.Read(publicName(s.Router)); err != nil || string(have) != string(pub) {
			if err := store.Write(publicName(s.Router), pub, false); err != nil {
				return nil, fmt.Errorf("wireguard: router %q: %w", s.Router, err)
			}
		}
		k.Private[s.Router] = priv
	}
	if !m.PresharedKey {
		return k, nil
	}
	for _, t := range m.Tunnels {
		psk, err := loadKey(store, presharedName(t.Name()), NewPresharedKey)
		if err != nil {
			return nil, fmt.Errorf("wireguard: tunnel %s: %w", t.Name(), err)
		}
		k.Preshared[t.Name()] = psk
	}
	return k, nil
}

func loadKey(store secret.Store, name string, create func() (Key, error)) (Key, error) {
	data, err := store.Read(name)
	switch {
	case err == nil:
		k, err := ParseKey(string(data))
		if err != nil {
			return Key{}, fmt.Errorf("stored %s does not parse as a WireGuard key (%v); restore it, or delete it to create a new one, which every peer then needs", name, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return Key{}, fmt.Errorf("read %s: %w", name, err)
	}
	k, err := create()
	if err != nil {
		return Key{}, fmt.Errorf("create %s: %w", name, err)
	}
	if err := store.Write(name, []byte(k.String()+"\n"), true); err != nil {
		return Key{}, err
	}
	return k, nil
}
