// Command vcsim serves govmomi's simulator, like govmomi's vcsim: with -esx
// a standalone ESXi host, otherwise a vCenter. govmomi v0.56.0 publishes
// vcsim's main package as a separate module that a dependent module cannot
// build (its go.mod replaces govmomi with ../); this is the same simulator
// (github.com/vmware/govmomi/simulator) behind the flags planetstage's
// tests use. It prints "export GOVC_URL=... GOVC_SIM_PID=..." like vcsim
// and serves until SIGINT or SIGTERM.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	esx := flag.Bool("esx", false, "simulate a standalone ESXi host")
	listen := flag.String("l", "127.0.0.1:8989", "listen address")
	user := flag.String("username", "", "login user name (any by default)")
	pass := flag.String("password", "", "login password (any by default)")
	vms := flag.Int("vm", -1, "number of sample VMs (default: the model's)")
	flag.Parse()

	model := simulator.VPX()
	if *esx {
		model = simulator.ESX()
	}
	if *vms >= 0 {
		model.Machine = *vms
	}
	if err := model.Create(); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
	defer model.Remove()
	u := &url.URL{Host: *listen}
	if *user != "" {
		u.User = url.UserPassword(*user, *pass)
	}
	model.Service.Listen = u
	model.Service.TLS = new(tls.Config)
	s := model.Service.NewServer()
	defer s.Close()
	fmt.Printf("export GOVC_URL=%s GOVC_SIM_PID=%d\n", s.URL, os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
