package secret

// Redacted is what output shows in place of a secret: rendered configs,
// plans, errors and logs.
const Redacted = "<redacted>"

// Store keeps generated key material between runs. Names are relative,
// slash-separated paths ("openvpn/vyos01.key"). Read of a name never
// written returns an error matching fs.ErrNotExist. Write with secret true
// stores data readable by its owner only (mode 0600 in a Dir).
//
// Dir implements it, and so does planetstage's topology.State; a test may
// pass an in-memory map.
type Store interface {
	Read(name string) ([]byte, error)
	Write(name string, data []byte, secret bool) error
}
