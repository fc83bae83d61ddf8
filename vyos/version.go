package vyos

import (
	"fmt"
	"strings"
)

// Dialect is the VyOS release line whose configuration syntax is emitted.
type Dialect string

// The dialects, named by release line. See the package documentation for
// what differs.
const (
	V12 Dialect = "1.2" // crux (the thesis ran 1.2.1)
	V13 Dialect = "1.3" // equuleus
	V14 Dialect = "1.4" // sagitta
	V15 Dialect = "1.5" // circinus and rolling
)

// Dialects lists every supported dialect, oldest first.
var Dialects = []Dialect{V12, V13, V14, V15}

// ParseVersion maps a router's version ("1.2.1", "1.3", "1.4.3", "1.5",
// "rolling", "circinus"…) to its dialect.
func ParseVersion(v string) (Dialect, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	switch s {
	case "crux":
		return V12, nil
	case "equuleus":
		return V13, nil
	case "sagitta":
		return V14, nil
	case "circinus", "rolling", "current":
		return V15, nil
	}
	for _, d := range Dialects {
		if s == string(d) || strings.HasPrefix(s, string(d)+".") || strings.HasPrefix(s, string(d)+"-") {
			return d, nil
		}
	}
	return "", fmt.Errorf("vyos version %q: want 1.2, 1.3, 1.4 or 1.5 (or crux, equuleus, sagitta, circinus, rolling)", v)
}

// atLeast reports whether d is release line o or newer.
func (d Dialect) atLeast(o Dialect) bool { return d >= o }
