// Package haproxy is the TCP load balancer in front of the Kubernetes API
// servers: a config model, a renderer whose output HAProxy accepts, and a
// Service that installs a config on a host through remote.Runner only after
// haproxy -c accepted it, then reloads without dropping connections.
//
// KubeAPIServer builds the config kubeadm's HA guide describes: TCP mode
// (TLS passes through), round robin, an HTTPS GET /readyz health check per
// API server, retries with redispatch so a client whose server just died is
// sent to another one, and a stats page and health endpoint on loopback.
//
// # Why etcd is not balanced
//
// The thesis testbed also balanced etcd's client port 2379. This package
// does not: etcd clients (the API servers among them) are given the list
// of all members and balance and fail over between them themselves, using
// etcd's own view of member health. A TCP balancer in front of etcd hides
// which member a client talks to, breaks that failover, and adds a hop and
// a single point of failure to every request.
//
// # Reloads
//
// Under systemd, Service uses the distribution's unit (systemctl reload).
// Without an init system (containers) it runs HAProxy as master-worker
// (haproxy -W -D -p PIDFILE) and reloads by sending SIGUSR2 to the master,
// which keeps the listening sockets and lets old workers finish their
// connections.
//
// A config file in place does not prove that HAProxy runs it: an apply
// can be interrupted between moving the file in and the reload. Service
// keeps a record of the config HAProxy last loaded
// (ConfigPath.planetstage-loaded, a SHA-256), written only after a
// successful reload, and Inspect reports an update when it is missing or
// names another config. A host set up before this record existed gets one
// reload on its next apply. Tested against HAProxy 2.6.12 (Debian 12 package
// 2.6.12-1+deb12u4).
package haproxy
