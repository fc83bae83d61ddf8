package vyosstandin

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Boot loads the saved configuration (/config/config.boot) as the active
// one and realises it, as VyOS does when it starts: what ran before the
// machine stopped is gone, so nothing of it is kept.
func (r *Router) Boot(ctx context.Context) error {
	r.init()
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	r.Log.Info("boot: "+Banner, "version", string(r.Dialect))
	for _, p := range []string{realisedPath, pendingPath, stateDir + "/daemons"} {
		if err := os.RemoveAll(r.path(p)); err != nil {
			return fmt.Errorf("boot: %w", err)
		}
	}
	saved, err := r.readCommands(savedPath)
	if err != nil {
		return fmt.Errorf("boot: read %s: %w", savedPath, err)
	}
	if err := r.writeCommands(activePath, saved); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	if err := r.Realise(ctx, saved); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}

// armRollback records the configuration commit-confirm goes back to
// unless confirmed within minutes, and starts the timer that does it.
func (r *Router) armRollback(previous []string, minutes int) error {
	p := pending{Deadline: time.Now().Add(time.Duration(minutes) * time.Minute), Previous: previous}
	if err := r.writeJSON(pendingPath, p); err != nil {
		return err
	}
	self := r.Self
	if len(self) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		self = []string{exe}
	}
	argv := append(append([]string(nil), self...), "--rollback-at", strconv.FormatInt(p.Deadline.Unix(), 10))
	return r.System.Start(context.Background(), "commit-confirm", argv...)
}

// RollbackAt waits until deadline (Unix seconds) and then, unless the
// commit was confirmed (or confirmed and committed again), makes the
// configuration from before commit-confirm active again and realises it.
// VyOS reboots into it; the stand-in reloads it.
func (r *Router) RollbackAt(ctx context.Context, deadline int64) error {
	r.init()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Until(time.Unix(deadline, 0))):
	}
	unlock, err := r.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var p pending
	if err := r.readJSON(pendingPath, &p); err != nil {
		return err
	}
	if p.Deadline.IsZero() || p.Deadline.Unix() != deadline {
		return nil // confirmed, or armed again by a later commit-confirm
	}
	r.Log.Warn("commit-confirm was not confirmed: going back to the previous configuration")
	if err := r.Realise(ctx, p.Previous); err != nil {
		r.Log.Error("rollback", "err", err)
	}
	if err := r.writeCommands(activePath, p.Previous); err != nil {
		return err
	}
	return os.Remove(r.path(pendingPath))
}
