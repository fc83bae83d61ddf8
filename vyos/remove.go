package vyos

import (
	"context"
	"slices"

	"github.com/planetstage/planetstage/remote"
)

// RemoveCommands returns the deletes that take out what c owns (tunnels,
// their routes and pki entries) from running. Host name, addresses and SSH
// stay: deleting them would cut the router off.
func RemoveCommands(c *Config, running []Command) []Command {
	var out []Command
	for _, o := range c.Owned {
		for _, cmd := range running {
			if hasPrefix(cmd.Path, o) {
				out = append(out, Command{Delete: true, Path: o})
				break
			}
		}
	}
	return out
}

// InspectRemove reports what Remove would undo; no reasons means nothing is
// left. It changes nothing.
func InspectRemove(ctx context.Context, r remote.Runner, c *Config) ([]string, error) {
	running, err := Running(ctx, r)
	if err != nil {
		return nil, err
	}
	var reasons []string
	for _, cmd := range RemoveCommands(c, running) {
		reasons = append(reasons, cmd.Redacted())
	}
	files, err := removableFiles(ctx, r, c)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		reasons = append(reasons, "remove "+f)
	}
	return reasons, nil
}

// removableFiles are every planetstage file on the router (staleFiles of
// an empty configuration) and those of c's files that exist (VyOS 1.2's
// WireGuard key has a name of VyOS's).
func removableFiles(ctx context.Context, r remote.Runner, c *Config) ([]string, error) {
	files, err := staleFiles(ctx, r, &Config{})
	if err != nil {
		return nil, err
	}
	for _, f := range c.Files {
		if _, err := r.ReadFile(ctx, f.Path); err == nil && !slices.Contains(files, f.Path) {
			files = append(files, f.Path)
		}
	}
	return files, nil
}

// Remove deletes what c owns in one commit, saves, then removes c's files.
func Remove(ctx context.Context, r remote.Runner, c *Config, opts Options) error {
	running, err := Running(ctx, r)
	if err != nil {
		return err
	}
	if cmds := RemoveCommands(c, running); len(cmds) > 0 {
		if err := send(ctx, r, c, cmds, opts); err != nil {
			return err
		}
	}
	files, err := removableFiles(ctx, r, c)
	if err != nil {
		return err
	}
	return removeFiles(ctx, r, files) // every planetstage file
}
