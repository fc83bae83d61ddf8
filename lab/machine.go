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
	errs := make([]error, len(l.machines))
	for i, name := range sortedNames(l.machines) {
		if l.vmBacked[name] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.startMachine(ctx, l.machines[name]); err != nil {
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
func (l *Lab) startMachine(ctx context.Context, m Machine) error {
	ctr := l.ContainerName(m.Name)
	role := "host"
	args := []string{"create", "--name", ctr, "--hostname", m.Name,
		"--label", LabelKey + "=" + l.spec.Name,
		"--label", "io.planetstage.machine=" + m.Name}
	image := l.image
	switch {
	case l.kubernetesNode(m):
		// A Kubernetes node runs containerd and the kubelet: the node
		// image, with the powers and mounts those need (its own init
		// reaps and supervises).
		role, image = "kubernetes", l.nodeImg
		args = append(args, k8snode.RunFlags()...)
		args = append(args, "--env", "K8SNODE_ROLE="+m.Kubernetes)
	default:
		// docker-init as PID 1 reaps the daemons the machine's services leave.
		args = append(args, "--init")
	}
	if m.Router {
		role = "router"
		// A router needs to configure interfaces and routes, open tunnels and
		// forward; nothing else is added.
		args = append(args, "--cap-add", "NET_ADMIN", "--device", "/dev/net/tun",
			"--sysctl", "net.ipv4.ip_forward=1",
			"--network", l.networkName(""), "--ip", m.Addresses[0].String())
	} else {
		args = append(args, "--network", l.networkName(m.Site), "--ip", m.Address.String())
	}
	args = append(args, "--label", "io.planetstage.role="+role, image)
	if _, err := l.d.run(ctx, nil, args...); err != nil {
		return err
	}
	files, err := l.provisionTar(m, role)
	if err != nil {
		return err
	}
	if _, err := l.d.run(ctx, bytes.NewReader(files), "cp", "-", ctr+":/"); err != nil {
		return fmt.Errorf("install keys: %w", err)
	}
	if m.Router {
		if _, err := l.d.run(ctx, nil, "network", "connect", "--ip", m.Address.String(), l.networkName(m.Site), ctr); err != nil {
			return err
		}
	}
	return l.start(ctx, m)
}

// start starts m's container and sets its routes. A host has no NET_ADMIN,
// so its default route is set from a short-lived helper container that joins
// the host's network namespace with NET_ADMIN and exits: the host itself
// never holds the capability. (docker exec --privileged would not do: an
// engine without every capability, like this one, refuses it.) A router's
// init drops Docker's default route itself.
func (l *Lab) start(ctx context.Context, m Machine) error {
	ctr := l.ContainerName(m.Name)
	if _, err := l.d.run(ctx, nil, "start", ctr); err != nil {
		return err
	}
	if m.Router {
		return nil
	}
	router := l.routerOf(m.Site)
	_, err := l.d.run(ctx, nil, "run", "--rm", "--network", "container:"+ctr, "--cap-add", "NET_ADMIN",
		"--label", LabelKey+"="+l.spec.Name, "--label", helperLabel, "--entrypoint", "ip", l.image,
		"route", "replace", "default", "via", router.Address.String())
	if err != nil {
		return fmt.Errorf("default route via %s: %w", router.Name, err)
	}
	if l.kubernetesNode(m) {
		return l.waitNodeReady(ctx, m)
	}
	return nil
}

func (l *Lab) routerOf(site string) Machine {
	for _, m := range l.machines {
		if m.Router && m.Site == site {
			return m
		}
	}
	return Machine{}
}

// provisionTar is the archive `docker cp` unpacks at / before the first
// start: the host key, the authorized client key and the machine's role.
func (l *Lab) provisionTar(m Machine, role string) ([]byte, error) {
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
	err = errors.Join(
		dir("etc/", 0o755), dir("etc/ssh/", 0o755), dir("etc/planetstage/", 0o755),
		file("etc/ssh/ssh_host_ed25519_key", 0o600, hostPEM),
		file("etc/ssh/ssh_host_ed25519_key.pub", 0o644, ssh.MarshalAuthorizedKey(hostPub)),
		file("etc/planetstage/role", 0o644, []byte(role+"\n")),
		dir("root/", 0o700), dir("root/.ssh/", 0o700),
		file("root/.ssh/authorized_keys", 0o600, ssh.MarshalAuthorizedKey(clientPub)),
		tw.Close(),
	)
	if err != nil {
		return nil, fmt.Errorf("provisioning archive: %w", err)
	}
	return buf.Bytes(), nil
}

// waitSSH waits until every machine's sshd greets this process over the
// Docker bridges, which is also how layers will reach it.
func (l *Lab) waitSSH(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	names := sortedNames(l.machines)
	errs := make([]error, len(names))
	for i, name := range names {
		if l.vmBacked[name] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = waitBanner(ctx, l.machines[name])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
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
	return l.lifecycle(ctx, name, "stop", "--time", "1")
}

// Kill kills machine name's container at once, as a crashed machine.
func (l *Lab) Kill(ctx context.Context, name string) error {
	return l.lifecycle(ctx, name, "kill")
}

// Start starts a stopped machine again, as a reboot: its services come back
// as their init starts them, its routes are set again, and Start returns
// when its sshd answers.
func (l *Lab) Start(ctx context.Context, name string) error {
	m, ok := l.machines[name]
	if !ok {
		return fmt.Errorf("lab %q: no machine %q", l.spec.Name, name)
	}
	if err := l.start(ctx, m); err != nil {
		return fmt.Errorf("lab %q: start %q: %w", l.spec.Name, name, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return waitBanner(wctx, m)
}

func (l *Lab) lifecycle(ctx context.Context, name string, verb ...string) error {
	if _, ok := l.machines[name]; !ok {
		return fmt.Errorf("lab %q: no machine %q", l.spec.Name, name)
	}
	if _, err := l.d.run(ctx, nil, append(verb, l.ContainerName(name))...); err != nil {
		return fmt.Errorf("lab %q: %s %q: %w", l.spec.Name, verb[0], name, err)
	}
	return nil
}

// containerExists reports whether machine name has a container, running or
// not.
func (l *Lab) containerExists(ctx context.Context, name string) (bool, error) {
	out, err := l.d.run(ctx, nil, "ps", "-aq", "--filter", "name=^/"+l.ContainerName(name)+"$")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) != "", nil
}
