// Package kubeadmtest holds a FAKE set of hosts for sequence tests of the
// kubeadm flow: remote.Runners that run nothing, record every command and
// file write in one ordered log, and answer from a script.
//
// It checks the order and content of what the flow asks of machines (init
// before joins, control-plane joins one at a time, reset before a retry), not
// that a cluster comes up: no kubeadm, kubelet or API server is involved.
package kubeadmtest
