package lab

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/planetstage/planetstage/lab/k8snode"
)

// startMachines creates, provisions and starts in parallel the container
// of every machine that needs no VM; the others start when their VM does.
func (l *Lab) startMachines(ctx context.Context) error {
	if err := l.keys.writeKnownHosts(l.Machines()); err != nil {
		return err
	}
	var wg sync.WaitGroup
	names := l.machineNames()
	errs := make([]error, len(names))
	for i, name := range names {
		if l.isVMBacked(name) {
			continue
		}
		m, _ := l.Machine(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.startMachine(ctx, m); err != nil {
				errs[i] = fmt.Errorf("machine %q: %w", name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startMachine creates m's container on its first network, gives it its keys
// before sshd ever runs, joins a router to its site, starts it, and points a
// host's default route at its router.
func (l *Lab) startMachine(ctx context.Context, m Machine) (err error) {
	ctr := l.ContainerName(m.Name)
	run := l.routerRunOf(m.Name)
	spec, role, err := l.machineContainer(ctx, m, run)
	if err != nil {
		return err
	}
	seed, err := l.cloudSeed(ctx, m, spec)
	if err != nil {
		return err
	}
	if _, err := l.d.createContainer(ctx, spec); err != nil {
		return err
	}
	files, err := l.provisionTar(m, role, seed)
	if err != nil {
		return err
	}
	if err := l.d.upload(ctx, ctr, "/", bytes.NewReader(files)); err != nil {
		return fmt.Errorf("install keys: %w", err)
	}
	if err := l.prepareVyOS(ctx, ctr, run); err != nil {
		return err
	}
	if m.Router {
		if err := l.d.connectNetwork(ctx, l.networkName(m.Site), ctr, m.Address); err != nil {
			return err
		}
	}
	if err := l.start(ctx, m); err != nil {
		return err
	}
	return l.bootstrapVyOS(ctx, m, run)
}

// machineContainer is the container machine m runs in, and its role;
// run is how m runs when it is a router.
func (l *Lab) machineContainer(ctx context.Context, m Machine, run RouterRun) (containerSpec, string, error) {
	role := "host"
	spec := containerSpec{Name: l.ContainerName(m.Name), Hostname: m.Name, Image: l.image,
		Labels: map[string]string{LabelKey: l.name, machineLabel: m.Name}}
	switch {
	case l.kubernetesNode(m):
		// A Kubernetes node runs containerd and the kubelet: the node
		// image, with the powers and mounts those need (its own init
		// reaps and supervises).
		role, spec.Image = "kubernetes", l.nodeImg
		if err := applyRunFlags(&spec, k8snode.RunFlags()); err != nil {
			return containerSpec{}, "", err
		}
		spec.Env = append(spec.Env, "K8SNODE_ROLE="+m.Kubernetes)
	case m.Router && run.Kind != RouterLinux:
		image, flags, err := l.vyosRun(ctx, run)
		if err != nil {
			return containerSpec{}, "", err
		}
		spec.Image = image
		if err := applyRunFlags(&spec, flags); err != nil {
			return containerSpec{}, "", err
		}
	default:
		// docker-init as PID 1 reaps the daemons the machine's services leave.
		spec.Init = boolPtr(true)
	}
	if m.Router {
		role = "router"
		// A router needs to configure interfaces and routes, open tunnels and
		// forward; nothing else is added.
		spec.CapAdd = append(spec.CapAdd, "NET_ADMIN")
		spec.Devices = append(spec.Devices, "/dev/net/tun")
		spec.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
		spec.Network, spec.IP = l.networkName(""), m.Addresses[0]
	} else {
		spec.Network, spec.IP = l.networkName(m.Site), m.Address
	}
	spec.Labels[roleLabel] = role
	return spec, role, nil
}

// roleLabel labels a machine's container with its role (host, router,
// kubernetes).
const roleLabel = "io.planetstage.role"

// start starts m's container and sets its routes. A host has no NET_ADMIN,
// so its default route is set from a short-lived helper container that joins
// the host's network namespace with NET_ADMIN and exits: the host itself
// never holds the capability. (An exec with Privileged would not do: an
// engine without every capability, like this one, refuses it.) A router's
// init drops Docker's default route itself.
func (l *Lab) start(ctx context.Context, m Machine) error {
	ctr := l.ContainerName(m.Name)
	if err := l.d.startContainer(ctx, ctr); err != nil {
		return err
	}
	if m.Router {
		return nil
	}
	router := l.routerOf(m.Site)
	_, err := l.d.run(ctx, containerSpec{Image: l.image, Network: "container:" + ctr,
		CapAdd: []string{"NET_ADMIN"}, Labels: helperLabels(l.name),
		Entrypoint: []string{"ip"}, Cmd: []string{"route", "replace", "default", "via", router.Address.String()}})
	if err != nil {
		return fmt.Errorf("default route via %s: %w", router.Name, err)
	}
	if l.kubernetesNode(m) {
		return l.waitNodeReady(ctx, m)
	}
	return nil
}

func (l *Lab) routerOf(site string) Machine {
	for _, m := range l.Machines() {
		if m.Router && m.Site == site {
			return m
		}
	}
	return Machine{}
}

// cloudSeed is what a machine boots from when its VM was made by the
// machines layer and it runs the lab image: the VM's cloud-init user-data
// and meta-data, read from the simulated hypervisor as a guest reads its
// guestinfo. The lab image and the node image (k8snode.CloudInitLabel)
// boot that way. nil for any other machine, whose keys the lab installs
// itself.
func (l *Lab) cloudSeed(ctx context.Context, m Machine, spec containerSpec) (*cloudSeed, error) {
	if !l.isVMBacked(m.Name) {
		return nil, nil
	}
	boots, err := l.bootsCloudInit(spec.Image)
	if err != nil || !boots {
		return nil, err
	}
	h := l.sims[l.hypervisorOf[m.Site]]
	if h == nil {
		return nil, nil // an attached lab: its simulators are gone, and so are the VMs' user-data
	}
	ud, md, err := h.cloudInit(ctx, m.Name)
	if err != nil {
		return nil, fmt.Errorf("machine %s: %w", m.Name, err)
	}
	if len(ud) == 0 {
		return nil, fmt.Errorf("machine %s: its VM has no cloud-init user-data to boot from", m.Name)
	}
	return &cloudSeed{userData: ud, metaData: md}, nil
}

// bootsCloudInit says whether image runs cloud-init on a NoCloud seed at
// start: the lab's own image when it is the default recipe, and any image
// carrying k8snode.CloudInitLabel (a node image built before that label
// existed boots with the lab's keys, as it always did).
func (l *Lab) bootsCloudInit(image string) (bool, error) {
	if image == l.image {
		return l.cloudInit, nil
	}
	v, err := l.d.imageLabel(image, k8snode.CloudInitLabel)
	return v == "nocloud", err
}

// cloudSeed is a NoCloud seed: user-data and meta-data.
type cloudSeed struct{ userData, metaData []byte }

// provisionTar is the archive `docker cp` unpacks at / before the first
// start: the machine's role and either its cloud-init seed (a VM's
// machine) or the host key and the authorized client key.
func (l *Lab) provisionTar(m Machine, role string, seed *cloudSeed) ([]byte, error) {
	hostPEM, hostPub, err := l.keys.hostKey(m.Name)
	if err != nil {
		return nil, err
	}
	_, clientPub, err := l.keys.clientKey()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: time.Now()})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Now()}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if seed != nil {
		// The VM's own bootstrap; cloud-init installs the keys from it.
		err = errors.Join(
			dir("etc/", 0o755), dir("etc/planetstage/", 0o755),
			file("etc/planetstage/role", 0o644, []byte(role+"\n")),
			dir("var/", 0o755), dir("var/lib/", 0o755), dir("var/lib/cloud/", 0o755),
			dir("var/lib/cloud/seed/", 0o700), dir("var/lib/cloud/seed/nocloud/", 0o700),
			file("var/lib/cloud/seed/nocloud/user-data", 0o600, seed.userData),
			file("var/lib/cloud/seed/nocloud/meta-data", 0o600, seed.metaData),
			tw.Close(),
		)
	} else {
		err = errors.Join(
			dir("etc/", 0o755), dir("etc/ssh/", 0o755), dir("etc/planetstage/", 0o755),
			file("etc/ssh/ssh_host_ed25519_key", 0o600, hostPEM),
			file("etc/ssh/ssh_host_ed25519_key.pub", 0o644, ssh.MarshalAuthorizedKey(hostPub)),
			file("etc/planetstage/role", 0o644, []byte(role+"\n")),
			dir("root/", 0o700), dir("root/.ssh/", 0o700),
			file("root/.ssh/authorized_keys", 0o600, ssh.MarshalAuthorizedKey(clientPub)),
			tw.Close(),
		)
	}
	if err != nil {
		return nil, fmt.Errorf("provisioning archive: %w", err)
	}
	return buf.Bytes(), nil
}

// waitSSH waits until every machine's sshd greets this process over the
// Docker bridges, which is also how layers will reach it. The bound grows
// with the lab: a hundred containers starting at once on two cores took
// longer than 30 s to all answer.
func (l *Lab) waitSSH(ctx context.Context) error {
	names := l.machineNames()
	ctx, cancel := context.WithTimeout(ctx, sshWaitBound(len(names)))
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		if l.isVMBacked(name) {
			continue
		}
		m, _ := l.Machine(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = waitBanner(ctx, m)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sshWaitBound is how long waitSSH waits for n machines: 30 s, and a
// second more for each machine beyond 20.
func sshWaitBound(n int) time.Duration {
	return 30*time.Second + time.Second*time.Duration(max(0, n-20))
}

func waitBanner(ctx context.Context, m Machine) error {
	addr := net.JoinHostPort(m.Address.String(), "22")
	var last error
	for {
		last = readBanner(ctx, addr)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("machine %q: sshd at %s did not answer: %w", m.Name, addr, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readBanner(ctx context.Context, addr string) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("not an SSH server: %q", strings.TrimSpace(line))
	}
	return nil
}

// Stop stops machine name's container, as a powered-off machine.
func (l *Lab) Stop(ctx context.Context, name string) error {
	return l.lifecycle(name, "stop", func(ctr string) error { return l.d.stopContainer(ctx, ctr, 1) })
}

// Kill kills machine name's container at once, as a crashed machine.
func (l *Lab) Kill(ctx context.Context, name string) error {
	return l.lifecycle(name, "kill", func(ctr string) error { return l.d.killContainer(ctx, ctr) })
}

// Start starts a stopped machine again, as a reboot: its services come back
// as their init starts them, its routes are set again, and Start returns
// when its sshd answers.
func (l *Lab) Start(ctx context.Context, name string) error {
	m, ok := l.Machine(name)
	if !ok {
		return fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	if err := l.start(ctx, m); err != nil {
		return fmt.Errorf("lab %q: start %q: %w", l.name, name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitBanner(wctx, m)
}

func (l *Lab) lifecycle(name, verb string, do func(ctr string) error) error {
	if _, ok := l.Machine(name); !ok {
		return fmt.Errorf("lab %q: no machine %q", l.name, name)
	}
	if err := do(l.ContainerName(name)); err != nil {
		return fmt.Errorf("lab %q: %s %q: %w", l.name, verb, name, err)
	}
	return nil
}

// containerExists reports whether machine name has a container, running or
// not.
func (l *Lab) containerExists(ctx context.Context, name string) (bool, error) {
	return l.d.containerExists(ctx, l.ContainerName(name))
}
