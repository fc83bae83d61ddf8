package esxi

import (
	"errors"
	"fmt"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/vim25/types"
)

// Error is returned by every operation that talks to a host. It names the
// host, the object and the operation, so that a failure in a plan of a
// hundred steps can be found at a glance.
type Error struct {
	Host   string // the ESXi host as given in the URL (no credentials)
	Object string // e.g. `port group "site-a"`, `vm "master01"`
	Op     string // e.g. "add", "update VLAN", "power on"
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("esxi %s: %s: %s: %v", e.Host, e.Object, e.Op, e.Err)
	if IsRestricted(e.Err) {
		msg += " (" + restrictedHint + ")"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

const restrictedHint = "the host's licence makes the vSphere API read-only, which is what the free " +
	"vSphere Hypervisor licence does; assign an evaluation or paid licence (Essentials or higher) " +
	"to the host, or create the objects by hand in the host client and run plan to check them"

// ErrUnsupported is wrapped by errors for operations the host does not
// implement (for example UpdatePortGroup on govmomi's simulator).
var ErrUnsupported = errors.New("operation not supported by this host")

// ErrNoDatastore is a datastore the host does not have (Config.Datastore),
// or a host with several and none named.
var ErrNoDatastore = errors.New("no such datastore")

// IsRestricted reports whether err is the RestrictedVersion fault a host with
// the free vSphere Hypervisor licence returns for every write.
func IsRestricted(err error) bool {
	return err != nil && fault.Is(err, &types.RestrictedVersion{})
}

// isExists reports whether err says that the object already exists: real
// ESXi answers AlreadyExists, govmomi's simulator DuplicateName.
func isExists(err error) bool {
	return err != nil && (fault.Is(err, &types.AlreadyExists{}) || fault.Is(err, &types.DuplicateName{}))
}

func isNotFound(err error) bool {
	return err != nil && (fault.Is(err, &types.NotFound{}) || fault.Is(err, &types.ManagedObjectNotFound{}))
}

func isMethodMissing(err error) bool {
	return err != nil && (fault.Is(err, &types.MethodNotFound{}) || fault.Is(err, &types.NotSupported{}) ||
		fault.Is(err, &types.NotImplemented{}))
}

// alreadyInPowerState reports whether err is InvalidPowerState because the
// VM already is in the wanted state (a race with another client).
func alreadyInPowerState(err error, want types.VirtualMachinePowerState) bool {
	var ips *types.InvalidPowerState
	if err == nil {
		return false
	}
	_, ok := fault.As(err, &ips)
	return ok && ips != nil && ips.ExistingState == want
}

func (c *Client) errorf(object, op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Host: c.host, Object: object, Op: op, Err: err}
}
