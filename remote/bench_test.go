package remote

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

// BenchmarkRun measures one short command: a session on the shared SSH
// connection (already dialled), against a fork/exec on this machine. The
// SSH cost includes the login user's shell start-up (sshd runs every
// command through it): "ssh-root" pays for whatever root's ~/.bashrc does
// on this machine, "ssh-user" is a fresh user with a stock one.
func BenchmarkRun(b *testing.B) {
	addTestUsers(b)
	srv := startSSHD(b, sshdOptions{IP: "127.0.0.10", Users: map[string][]ssh.PublicKey{
		"root": {clientKey().signer.PublicKey()}, sudoUser: {clientKey().signer.PublicKey()},
	}})
	user := srv.rootConfig(b)
	user.User = sudoUser
	runners := []struct {
		name string
		r    Runner
	}{{"local", &Local{}}, {"ssh-root", newSSHRunner(b, srv.rootConfig(b))}, {"ssh-user", newSSHRunner(b, user)}}
	for _, rr := range runners {
		b.Run(rr.name, func(b *testing.B) {
			if err := rr.r.Run(b.Context(), Cmd{Command: "true"}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := rr.r.Run(b.Context(), Cmd{Command: "true"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(rr.name+"-parallel", func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := rr.r.Run(b.Context(), Cmd{Command: "true"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSSHConnect measures dialling: TCP, handshake, key check, login.
func BenchmarkSSHConnect(b *testing.B) {
	srv := startSSHD(b, sshdOptions{IP: "127.0.0.10"})
	cfg := srv.rootConfig(b)
	for b.Loop() {
		r, err := NewSSH(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.connection(b.Context()); err != nil {
			b.Fatal(err)
		}
		_ = r.Close()
	}
}
