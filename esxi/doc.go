// Package esxi builds staging networks and machines on standalone VMware
// ESXi hosts (no vCenter) with govmomi: standard vSwitches, port groups with
// VLAN IDs, VMs with NICs on those port groups, power, destroy, guest IP
// addresses and OVF/OVA import.
//
// # Connecting
//
// Connect takes a Config in the conventions govc users already have: the
// URL https://HOST/sdk (a bare host is completed), the user name and
// password from GOVC_USERNAME / GOVC_PASSWORD or the URL's user info, and
// either GOVC_INSECURE=1 or, better, the host certificate's SHA-256
// thumbprint (`govc about.cert -k -thumbprint`). TLS is verified by
// default. ConfigFromEnv reads the environment variables.
//
// The session is kept alive with govmomi's keepalive handler
// (session/keepalive), whose send func also logs in again when the host
// dropped the session; before an operation after a quiet minute the
// session is checked and, if the host expired it, renewed.
//
// # Inspect, Apply, Ensure
//
// Every object has three calls. Inspect reads the host and returns the
// plan.Change it would make (plan.Create, plan.Update with the drift named,
// plan.NoOp, plan.Delete) without changing anything; Apply makes that
// change (it reads the host again, so a stale Change is harmless); Ensure
// is both. They speak package plan's step contract, so a plan step calls
// Inspect for "plan" and Apply only when the Change is not NoOp, with no
// translation in between.
// All of them are idempotent: a second Ensure reports NoOp. Faults that
// mean "already done" (AlreadyExists and, in the simulator, DuplicateName;
// InvalidPowerState for the wanted state; NotFound on remove) are not
// errors. Errors are *Error values naming the host, the object and the
// operation.
//
// VLAN IDs are checked here (0–4095) because the simulator stores any
// number. A port group whose VLAN drifted is updated with UpdatePortGroup.
// VMs are marked with the extraConfig key OwnerKey
// ("planetstage.topology") so that destroy removes only what it created;
// a VM of the same name that is not marked is reported, never adopted.
//
// # Standalone ESXi limits
//
// ESXi without vCenter cannot clone VMs or customise guests. VMs are
// therefore created empty (CreateVM_Task) or imported from an OVF/OVA
// (VM.Source; CreateImportSpec, ImportVApp and an NFC lease upload), and
// cloud-init data goes through guestinfo.* extraConfig keys (VM.CloudInit,
// read by cloud-init's VMware datasource with open-vm-tools). ESXi also
// does not deliver vApp properties to the guest; use CloudInit instead.
//
// A host with the free "vSphere Hypervisor" licence answers every write
// with the RestrictedVersion fault: its API is read-only. IsRestricted
// detects it and the error says what to do: assign an evaluation licence
// (60 days from installation) or a paid one (Essentials or higher) to the
// host, or build the objects by hand in the host client and use Inspect
// (stage plan) to check them against the topology.
//
// # Testing
//
// The tests run against govmomi's simulator in ESX mode (simulator.ESX),
// two instances side by side like the thesis's two hosts. The simulator
// lacks UpdatePortGroup; the tests add it as a named simulator extension.
// Against an unextended simulator (the vcsim binary), a VLAN drift repair
// fails with an error wrapping ErrUnsupported.
package esxi
