package haproxy

import (
	"context"
	"fmt"
	"strings"

	"github.com/planetstage/planetstage/remote"
)

// isHAProxy is a shell condition: $pid names a live haproxy process, not a
// stale PID file pointing at some other program, nor a zombie (a
// daemon's parent is init, which in a container may reap late).
const isHAProxy = `[ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = haproxy ] && [ "$(sed -n 's/^.*) \(.\).*/\1/p' /proc/$pid/stat 2>/dev/null)" != Z ]`

// reload makes the installed config live.
//
// Under systemd: systemctl reload (Debian's unit validates once more and
// sends SIGUSR2 to the master), or start the unit if it is not active.
//
// Under master-worker: a master found through PIDFile gets SIGUSR2; it
// re-executes itself with the same arguments, reads the new config and
// starts new workers on the listening sockets it already holds, so no
// connection attempt is refused and established connections finish on the
// old workers. A plain daemon found there (Debian's init script starts one
// when the package is installed) is replaced by a master-worker started with
// -sf: the new process binds beside it (SO_REUSEPORT), then tells it to
// stop listening and finish its connections. With nothing running, the
// master-worker is started.
func (s *Service) reload(ctx context.Context) error {
	m, err := s.manager(ctx)
	if err != nil {
		return err
	}
	var script string
	if m == ManagerSystemd {
		script = `if systemctl is-active --quiet haproxy; then systemctl reload haproxy && echo reloaded
else systemctl enable haproxy >/dev/null 2>&1; systemctl restart haproxy && echo started; fi`
	} else {
		script = pathPrefix + `pf=` + remote.ShellQuote(s.pidFile()) + `; cfg=` + remote.ShellQuote(s.configPath()) + `
pid=$(head -n1 "$pf" 2>/dev/null)
if ` + isHAProxy + `; then
  if tr '\000' '\n' < /proc/$pid/cmdline | grep -qx -e -W -e -Ws; then
    # A master that cannot load the new config (a port in use: -c does not
    # bind) keeps the old workers and starts none; a new child is success.
    kids() {
      if command -v pgrep >/dev/null 2>&1; then pgrep -P "$1" | tr '\n' ' ' | sed 's/^/ /'; return; fi
      for st in /proc/[0-9]*/stat; do read -r p c s pp rest 2>/dev/null <"$st" && [ "$pp" = "$1" ] && printf ' %s' "$p"; done
    }
    old="$(kids "$pid") "
    kill -USR2 "$pid" || exit 1
    end=$(( $(date +%s) + 10 ))
    while [ "$(date +%s)" -le "$end" ]; do
      for k in $(kids "$pid"); do
        case "$old" in *" $k "*) ;; *) echo "reloaded master $pid, new worker $k"; exit 0 ;; esac
      done
      sleep 0.1
    done
    echo "haproxy master $pid started no new worker within 10s of SIGUSR2: the new config did not load (a port in use?); the old workers keep serving" >&2
    exit 1
  fi
  set -- -sf $(cat "$pf"); what=replaced; old=$pid
else
  set --; what=started; old=; rm -f "$pf"
fi
# The daemon inherits our stdout and stderr; a file instead of a pipe lets
# this command return once haproxy has daemonised.
log=$(mktemp) || exit 1
haproxy -W -D -p "$pf" -f "$cfg" "$@" </dev/null >"$log" 2>&1; rc=$?
cat "$log"; rm -f "$log"
[ $rc -eq 0 ] || exit $rc
# The master writes its PID file itself, after the starting process has
# returned: wait for it, or a Stop right now would find nothing to stop.
end=$(( $(date +%s) + 10 ))
while [ "$(date +%s)" -le "$end" ]; do
  pid=$(head -n1 "$pf" 2>/dev/null)
  if [ "$pid" != "$old" ] && ` + isHAProxy + `; then echo "$what master $pid"; exit 0; fi
  sleep 0.05
done
echo "haproxy started but no live master is named in $pf after 10s" >&2
exit 1`
	}
	out, err := remote.CombinedOutput(ctx, s.Runner, script)
	s.log().Debug("haproxy reload", "host", s.Runner.Host(), "manager", string(m), "output", out)
	if err != nil {
		return s.errorf("reload (%s): %w", m, err)
	}
	return nil
}

// lineDiff summarises how two configs differ, for a plan's reason:
// lines only in want with "+", lines only in have with "-", at most four.
func lineDiff(have, want []byte) string {
	count := make(map[string]int)
	for _, l := range strings.Split(string(have), "\n") {
		count[strings.TrimSpace(l)]++
	}
	var added, removed []string
	for _, l := range strings.Split(string(want), "\n") {
		l = strings.TrimSpace(l)
		if count[l] > 0 {
			count[l]--
			continue
		}
		if l == "" {
			continue
		}
		added = append(added, "+"+l)
	}
	for _, l := range strings.Split(string(have), "\n") {
		l = strings.TrimSpace(l)
		if count[l] > 0 && l != "" {
			count[l]--
			removed = append(removed, "-"+l)
		}
	}
	all := append(added, removed...)
	const show = 4
	if len(all) > show {
		return fmt.Sprintf("%s (and %d more lines)", strings.Join(all[:show], "; "), len(all)-show)
	}
	if len(all) == 0 {
		return "whitespace only"
	}
	return strings.Join(all, "; ")
}
