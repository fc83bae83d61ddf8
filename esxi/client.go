package esxi

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/session/keepalive"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Client is a logged-in session to one standalone ESXi host, with the
// inventory objects every operation needs resolved once. It is safe for
// concurrent use; network reconfiguration is serialised per host because
// ESXi serialises it anyway and reports conflicts otherwise.
type Client struct {
	host string
	user *url.Userinfo
	log  *slog.Logger
	vim  *vim25.Client
	sm   *session.Manager
	ka   *keepalive.HandlerSOAP

	sessionMu  sync.Mutex
	lastCheck  time.Time
	checkEvery time.Duration

	finder    *find.Finder
	dc        *object.Datacenter
	vmFolder  *object.Folder
	netFolder *object.Folder
	hostSys   *object.HostSystem
	pool      *object.ResourcePool
	datastore *object.Datastore
	netSys    *object.HostNetworkSystem
	netMu     sync.Mutex

	vmMu   sync.Mutex
	vmRefs map[string]types.ManagedObjectReference // VM name cache, see findVM
}

// Connect logs in to the host named by cfg and resolves its datacenter,
// host, resource pool, datastore, VM folder and network system. TLS is
// verified unless cfg pins a thumbprint or says Insecure. The session is
// kept alive while idle and logged in again when the host expired it.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	ep, err := cfg.endpoint()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sc := soap.NewClient(ep.url, cfg.Insecure && ep.thumbprint == "")
	// Parallel plan steps share this client. Go keeps only 2 idle
	// connections per host by default, so the rest would be closed after
	// each call and redialled with a full TLS handshake (two, when a pin
	// is checked): measured here, that made 8 parallel workers 3x slower
	// than one.
	sc.DefaultTransport().MaxIdleConnsPerHost = 64
	if ep.thumbprint != "" {
		sc.SetThumbprint(ep.url.Host, ep.thumbprint)
	}
	if cfg.CAFile != "" {
		if err := sc.SetRootCAs(cfg.CAFile); err != nil {
			return nil, fmt.Errorf("esxi %s: CA file %s: %w", ep.host, cfg.CAFile, err)
		}
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("esxi %s: connect: %w", ep.host, err)
	}
	c := &Client{
		host:       ep.host,
		user:       ep.user,
		log:        log.With("esxi", ep.host),
		vim:        vc,
		sm:         session.NewManager(vc),
		checkEvery: time.Minute,
	}
	if cfg.KeepAlive >= 0 {
		idle := cfg.KeepAlive
		if idle == 0 {
			idle = 5 * time.Minute
		}
		// govmomi's keepalive handler starts on Login and stops on Logout;
		// its send func also repairs a session the host dropped anyway.
		c.ka = keepalive.NewHandlerSOAP(vc.RoundTripper, idle, c.keepAlive)
		vc.RoundTripper = c.ka
	}
	if err := c.login(ctx); err != nil {
		return nil, err
	}
	if err := c.discover(ctx, cfg.Datastore); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// Host returns the host as named in the URL (no credentials).
func (c *Client) Host() string { return c.host }

// Vim returns the underlying govmomi client, for what this package does not
// wrap. Its session is the Client's.
func (c *Client) Vim() *vim25.Client { return c.vim }

// IsStandalone reports whether the endpoint is an ESXi host agent rather
// than vCenter (which this package also talks to when it has one host).
func (c *Client) IsStandalone() bool { return !c.vim.IsVC() }

// Close logs out, which also stops the keepalive.
func (c *Client) Close(ctx context.Context) error {
	if err := c.sm.Logout(ctx); err != nil {
		return fmt.Errorf("esxi %s: logout: %w", c.host, err)
	}
	return nil
}

func (c *Client) login(ctx context.Context) error {
	if err := c.sm.Login(ctx, c.user); err != nil {
		// The user name may be shown; the password never is (govmomi's
		// fault text does not carry it).
		return fmt.Errorf("esxi %s: login as %q: %w", c.host, c.user.Username(), err)
	}
	c.lastCheck = time.Now()
	return nil
}

// keepAlive is the keepalive handler's send func: it runs after the
// configured idle time and logs in again when the session is gone.
func (c *Client) keepAlive() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.sessionMu.Lock()
	defer c.sessionMu.Unlock()
	return c.checkSessionLocked(ctx)
}

// ensureSession checks the session before an operation when it has not
// been checked for a while, and logs in again when the host expired it
// (idle timeout, host reboot, session cap).
func (c *Client) ensureSession(ctx context.Context) error {
	c.sessionMu.Lock()
	defer c.sessionMu.Unlock()
	if time.Since(c.lastCheck) < c.checkEvery {
		return nil
	}
	return c.checkSessionLocked(ctx)
}

func (c *Client) checkSessionLocked(ctx context.Context) error {
	s, err := c.sm.UserSession(ctx)
	if err != nil {
		return fmt.Errorf("esxi %s: check session: %w", c.host, err)
	}
	if s == nil {
		c.log.Info("vSphere session expired; logging in again")
		return c.login(ctx)
	}
	c.lastCheck = time.Now()
	return nil
}

func (c *Client) discover(ctx context.Context, datastore string) error {
	c.finder = find.NewFinder(c.vim, true)
	dc, err := c.finder.DefaultDatacenter(ctx)
	if err != nil {
		return c.errorf("datacenter", "find", err)
	}
	c.dc = dc
	c.finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		return c.errorf("datacenter "+dc.Name(), "folders", err)
	}
	c.vmFolder = folders.VmFolder
	c.netFolder = folders.NetworkFolder
	if c.hostSys, err = c.finder.DefaultHostSystem(ctx); err != nil {
		return c.errorf("host system", "find (a standalone ESXi has exactly one)", err)
	}
	if c.pool, err = c.hostSys.ResourcePool(ctx); err != nil {
		return c.errorf("host system", "resource pool", err)
	}
	if datastore != "" {
		c.datastore, err = c.finder.Datastore(ctx, datastore)
	} else {
		c.datastore, err = c.finder.DefaultDatastore(ctx)
	}
	if err != nil {
		return c.errorf(fmt.Sprintf("datastore %q", datastore), "find (name it when the host has several)", fmt.Errorf("%w: %w", ErrNoDatastore, err))
	}
	if c.netSys, err = c.hostSys.ConfigManager().NetworkSystem(ctx); err != nil {
		return c.errorf("host system", "network system", err)
	}
	return nil
}
