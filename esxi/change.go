package esxi

// Action says what an ensure-function did, or what Apply would do.
type Action string

// The actions a Change can carry.
const (
	// Create: the object is missing and is (or would be) created.
	Create Action = "create"
	// Update: the object exists but differs from the wanted state (drift).
	Update Action = "update"
	// NoOp: the object is already as wanted; nothing is changed.
	NoOp Action = "no-op"
	// Delete: the object exists and is (or would be) removed.
	Delete Action = "delete"
)

// Change is the result of an Inspect (what would change) or of an Ensure
// (what was changed). Reason is for humans: it names what differs, never a
// secret value.
type Change struct {
	Action Action
	Reason string
}

// Changed reports whether the change touches the host.
func (c Change) Changed() bool { return c.Action != NoOp && c.Action != "" }

func noop(reason string) Change { return Change{Action: NoOp, Reason: reason} }
