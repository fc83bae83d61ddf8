//go:build ignore

// Command peer is the system under test of package experiment/gossip (and
// examples/gossip): one libp2p gossipsub peer that publishes a message
// every --every on one topic and records every message it receives, with
// the time it was sent and the time it arrived.
//
// It is a Go module of its own, shipped inside planetstage's module as
// this directory's files: go.mod.in (written out as go.mod), go.sum and
// this file, whose build constraint ignore keeps planetstage's own builds
// (and go mod tidy) away from libp2p. Package experiment/gossip embeds
// them, writes them into a directory without that constraint
// (WritePeerSource) and compiles the peer there with the Go toolchain
// (the module proxy serves go-libp2p and go-libp2p-pubsub) into a static
// binary and an image the lab's nodes load, and runs it on every worker.
//
// Peers find each other without a registry or a DHT: --peers lists every
// peer as name=address, and each peer's key is derived from --seed and its
// name, so every peer knows every other's libp2p identity and address
// (TCP --port on the address, where each peer listens, HTTP beside it).
// Of each two peers the one whose name sorts first dials the other, and
// dials again every second while they are not connected, which is how a
// partitioned peer comes back once healed.
//
// GET / answers 200 with the peer's name and connection count (a
// readiness probe); GET /state returns, as JSON, what it sent (sequence
// number, send time) and what it received (from, sequence number, send
// time, receive time), times in Unix nanoseconds.
//
// Clocks: latency is the receive time minus the send time written in the
// message by the sender. That is one-way latency only where the peers'
// clocks agree: in planetstage's lab every container reads the host's
// clock; on hardware the nodes' clocks must be synchronised (PTP, or NTP
// with its error reported beside the latency).
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

func main() {
	name := flag.String("name", os.Getenv("NODE_NAME"), "this peer's name, one of --peers (default $NODE_NAME)")
	peers := flag.String("peers", "", "every peer, name=address, comma-separated")
	seed := flag.String("seed", "", "the run's seed, from which every peer's key is derived")
	port := flag.Int("port", 4001, "libp2p TCP port, on every peer")
	httpPort := flag.Int("http", 9090, "HTTP port of / and /state")
	topic := flag.String("topic", "planetstage-gossip", "the gossipsub topic")
	every := flag.Duration("every", 200*time.Millisecond, "publish interval")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config{name: *name, peers: *peers, seed: *seed, port: *port, httpPort: *httpPort, topic: *topic, every: *every}); err != nil {
		log.Fatalf("peer: %v", err)
	}
}

type config struct {
	name, peers, seed, topic string
	port, httpPort           int
	every                    time.Duration
}

// message is what a peer publishes.
type message struct {
	Node string `json:"n"`
	Seq  int64  `json:"s"`
	Sent int64  `json:"t"` // Unix ns, the sender's clock
}

// state is what GET /state returns.
type state struct {
	Node      string   `json:"node"`
	ID        string   `json:"id"`
	Connected []string `json:"connected"`
	// Sent are [seq, sentNs] of every message published.
	Sent     [][2]int64 `json:"sent"`
	Received []receipt  `json:"received"`
}

type receipt struct {
	From string `json:"from"`
	Seq  int64  `json:"seq"`
	Sent int64  `json:"sentNs"`
	Recv int64  `json:"recvNs"`
}

type recorder struct {
	mu       sync.Mutex
	sent     [][2]int64
	received []receipt
}

// key derives a peer's libp2p key from the run's seed and its name.
func key(seed, name string) (crypto.PrivKey, error) {
	s := sha256.Sum256([]byte("planetstage-gossip\x00" + seed + "\x00" + name))
	return crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s[:]))
}

// parsePeers reads name=address,… into a map, refusing a malformed entry.
func parsePeers(s string) (map[string]net.IP, error) {
	out := map[string]net.IP{}
	for _, f := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(f), "=")
		ip := net.ParseIP(addr)
		if !ok || name == "" || ip == nil || ip.To4() == nil {
			return nil, fmt.Errorf("--peers: %q is not name=IPv4", f)
		}
		out[name] = ip
	}
	return out, nil
}

func run(ctx context.Context, c config) error {
	all, err := parsePeers(c.peers)
	if err != nil {
		return err
	}
	if _, ok := all[c.name]; !ok {
		return fmt.Errorf("--name %q is not among --peers", c.name)
	}
	if c.seed == "" || c.every <= 0 {
		return errors.New("--seed must be set and --every positive")
	}
	priv, err := key(c.seed, c.name)
	if err != nil {
		return err
	}
	h, err := libp2p.New(
		libp2p.Identity(priv),
		libp2p.NoTransports, libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings(fmt.Sprintf("/ip4/%s/tcp/%d", all[c.name], c.port)),
		libp2p.DisableRelay(), libp2p.ForceReachabilityPublic(), libp2p.DisableMetrics(),
	)
	if err != nil {
		return fmt.Errorf("libp2p: %w", err)
	}
	defer h.Close()
	names := map[peer.ID]string{}
	var others []peer.ID
	for name, ip := range all {
		k, err := key(c.seed, name)
		if err != nil {
			return err
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			return err
		}
		names[id] = name
		if name == c.name {
			continue
		}
		addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/%s/tcp/%d", ip, c.port))
		if err != nil {
			return err
		}
		h.Peerstore().AddAddrs(id, []ma.Multiaddr{addr}, peerstore.PermanentAddrTTL)
		// Of two peers only the one whose name sorts first dials: when
		// both did, their simultaneous connections were two, and closing
		// the duplicate cleared gossipsub's record of the other's
		// subscription, so that a peer's messages reached that one only
		// through a third (Frankfurt to São Paulo through Tokyo: 210 ms
		// instead of 74).
		if c.name < name {
			others = append(others, id)
		}
	}
	ps, err := pubsub.NewGossipSub(ctx, h)
	if err != nil {
		return fmt.Errorf("gossipsub: %w", err)
	}
	t, err := ps.Join(c.topic)
	if err != nil {
		return err
	}
	sub, err := t.Subscribe()
	if err != nil {
		return err
	}
	rec := &recorder{}
	go redial(ctx, h, others)
	go receive(ctx, sub, h.ID(), rec)
	go publish(ctx, t, c, rec)
	srv := &http.Server{Addr: net.JoinHostPort(all[c.name].String(), strconv.Itoa(c.httpPort)), Handler: handler(c.name, h, names, rec), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	log.Printf("peer %s (%s) on tcp/%d, %d others, http :%d", c.name, h.ID(), c.port, len(others), c.httpPort)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// redial connects to every peer not connected, every second: at the start
// and after a partition has broken the connections.
func redial(ctx context.Context, h host.Host, others []peer.ID) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	dialing := map[peer.ID]bool{}
	var mu sync.Mutex
	for {
		for _, id := range others {
			mu.Lock()
			busy := dialing[id]
			mu.Unlock()
			if busy || h.Network().Connectedness(id) == network.Connected {
				continue
			}
			mu.Lock()
			dialing[id] = true
			mu.Unlock()
			go func() {
				dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				// A peer that failed dials while cut off is on the swarm's
				// quadratic backoff (up to minutes): dial it now anyway.
				if sw, ok := h.Network().(*swarm.Swarm); ok {
					sw.Backoff().Clear(id)
				}
				_ = h.Connect(dctx, h.Peerstore().PeerInfo(id))
				mu.Lock()
				delete(dialing, id)
				mu.Unlock()
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func receive(ctx context.Context, sub *pubsub.Subscription, self peer.ID, rec *recorder) {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		if m.GetFrom() == self {
			continue
		}
		var msg message
		if json.Unmarshal(m.Data, &msg) != nil {
			continue
		}
		rec.mu.Lock()
		rec.received = append(rec.received, receipt{From: msg.Node, Seq: msg.Seq, Sent: msg.Sent, Recv: now})
		rec.mu.Unlock()
	}
}

func publish(ctx context.Context, t *pubsub.Topic, c config, rec *recorder) {
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for seq := int64(1); ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UnixNano()
		data, _ := json.Marshal(message{Node: c.name, Seq: seq, Sent: now})
		rec.mu.Lock()
		rec.sent = append(rec.sent, [2]int64{seq, now})
		rec.mu.Unlock()
		if err := t.Publish(ctx, data); err != nil && ctx.Err() == nil {
			log.Printf("publish %d: %v", seq, err)
		}
	}
}

func handler(name string, h host.Host, names map[peer.ID]string, rec *recorder) http.Handler {
	connected := func() []string {
		var out []string
		for _, id := range h.Network().Peers() {
			if n, ok := names[id]; ok {
				out = append(out, n)
			}
		}
		slices.Sort(out)
		return out
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%s connected to %d\n", name, len(connected()))
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		rec.mu.Lock()
		s := state{Node: name, ID: h.ID().String(), Connected: connected(),
			Sent: slices.Clone(rec.sent), Received: slices.Clone(rec.received)}
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}
