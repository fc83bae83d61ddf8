package k8snode

import (
	"os"
	"slices"
)

// runFlags are the `docker run` flags a k8snode container needs, probed on
// Docker 20.10 with cgroup v1 and the fuse-overlayfs storage driver:
//   - not --privileged: this daemon's capability bounding set lacks
//     CAP_SYS_RESOURCE, and Docker 20.10's --privileged asks runc for every
//     capability (ignoring --cap-drop), so runc fails with "unable to apply
//     caps: operation not permitted". The same powers come from all other
//     capabilities, unconfined seccomp/AppArmor/system paths (/proc/sys
//     writable), every device allowed, and /dev/kmsg for the kubelet;
//     k8snode-init remounts the cgroup controllers read-write;
//   - --cgroupns=private: the kubelet sees its own cgroup tree as the root,
//     so several nodes on one host do not collide (reference §6, fix 3);
//   - --volume /var: containerd's overlayfs snapshots cannot live on the
//     container's own (fuse-)overlay root (probed: "invalid argument"); an
//     anonymous volume sits on the host's file system;
//   - --tmpfs /run and /tmp (with exec): sockets and runtime state off the
//     container's overlay root.
var runFlags = []string{
	"--cap-add", "ALL",
	"--cap-drop", "SYS_RESOURCE",
	"--security-opt", "seccomp=unconfined",
	"--security-opt", "apparmor=unconfined",
	"--security-opt", "systempaths=unconfined",
	"--device-cgroup-rule", "a *:* rwm",
	"--device", "/dev/kmsg",
	"--cgroupns=private",
	"--tmpfs", "/run:rw,exec,nosuid,nodev,mode=755",
	"--tmpfs", "/tmp:rw,exec,nosuid,nodev,mode=1777",
	"--volume", "/var",
	"--init=false",
}

// RunFlags returns the `docker run` flags every k8snode container needs.
// The caller adds --name, --hostname, --network/--ip, labels, and for a
// load balancer the environment K8SNODE_ROLE=lb (for a worker
// K8SNODE_ROLE=worker, which imports fewer images), then the image from
// Build.
// Remove the container with `docker rm -f -v` so its /var volume goes too.
// /lib/modules is mounted read-only when the host has it.
func RunFlags() []string {
	f := slices.Clone(runFlags)
	if _, err := os.Stat("/lib/modules"); err == nil {
		f = append(f, "--volume", "/lib/modules:/lib/modules:ro")
	}
	return f
}

// ReadyFile exists inside a node container once k8snode-init has started
// sshd and (for a Kubernetes node) containerd with the component images
// imported: poll `test -e` on it before kubeadm init or join.
const ReadyFile = "/run/k8snode/ready"
