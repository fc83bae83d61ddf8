package lab

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// applyRunFlags sets on s what `docker run` flags ask for. Packages that
// state a container's needs as the CLI's flags (k8snode.RunFlags: its
// image build and docs use the CLI) map onto the engine's typed spec
// here. A flag it does not know is an error, so that a flag added there
// cannot be dropped silently; add it here and to containerSpec.
func applyRunFlags(s *containerSpec, flags []string) error {
	boolFlags := map[string]*bool{"--privileged": &s.Privileged, "--rm": &s.AutoRemove}
	for i := 0; i < len(flags); i++ {
		name, value, inline := strings.Cut(flags[i], "=")
		if p, ok := boolFlags[name]; ok || name == "--init" {
			b := true
			if inline {
				var err error
				if b, err = strconv.ParseBool(value); err != nil {
					return fmt.Errorf("run flag %s: %w", flags[i], err)
				}
			}
			if ok {
				*p = b
			} else {
				s.Init = &b
			}
			continue
		}
		if !inline {
			if i+1 >= len(flags) {
				return fmt.Errorf("run flag %s: no value", name)
			}
			i++
			value = flags[i]
		}
		if err := applyRunFlag(s, name, value); err != nil {
			return fmt.Errorf("run flag %s %s: %w", name, value, err)
		}
	}
	return nil
}

func applyRunFlag(s *containerSpec, name, value string) error {
	kv := func(m *map[string]string) error {
		k, v, ok := strings.Cut(value, "=")
		if !ok {
			return fmt.Errorf("want key=value")
		}
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
		return nil
	}
	switch name {
	case "--name":
		s.Name = value
	case "--hostname":
		s.Hostname = value
	case "--label", "-l":
		return kv(&s.Labels)
	case "--env", "-e":
		s.Env = append(s.Env, value)
	case "--entrypoint":
		s.Entrypoint = []string{value}
	case "--network", "--net":
		s.Network = value
	case "--ip":
		ip, err := netip.ParseAddr(value)
		if err != nil {
			return err
		}
		s.IP = ip
	case "--cap-add":
		s.CapAdd = append(s.CapAdd, value)
	case "--cap-drop":
		s.CapDrop = append(s.CapDrop, value)
	case "--security-opt":
		if value == "systempaths=unconfined" {
			s.UnconfinedPaths = true
		} else {
			s.SecurityOpt = append(s.SecurityOpt, value)
		}
	case "--device-cgroup-rule":
		s.DeviceCgroupRules = append(s.DeviceCgroupRules, value)
	case "--device":
		s.Devices = append(s.Devices, value)
	case "--sysctl":
		return kv(&s.Sysctls)
	case "--cgroupns":
		s.CgroupnsMode = value
	case "--tmpfs":
		p, opts, _ := strings.Cut(value, ":")
		if s.Tmpfs == nil {
			s.Tmpfs = map[string]string{}
		}
		s.Tmpfs[p] = opts
	case "--volume", "-v":
		if strings.Contains(value, ":") {
			s.Binds = append(s.Binds, value)
		} else {
			s.Volumes = append(s.Volumes, value)
		}
	case "--restart":
		s.RestartPolicy = value
	default:
		return fmt.Errorf("the lab does not know this flag (see applyRunFlags)")
	}
	return nil
}
