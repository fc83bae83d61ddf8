package wan

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// CheckSites returns nil when every site pair's measured RTT is within
// tolerancePct of its target, else an error naming each pair that is not.
func CheckSites(sites []SiteResult, tolerancePct float64) error {
	var errs []error
	for _, s := range sites {
		if math.Abs(s.ErrorPct) > tolerancePct {
			errs = append(errs, fmt.Errorf("%s-%s measured %.2f ms, %.2f %% off the target %.2f ms (allowed: %g %%)",
				s.From, s.To, s.MeasuredMs, s.ErrorPct, s.TargetMs, tolerancePct))
		}
	}
	return errors.Join(errs...)
}

// WriteSites writes the site pairs as a plain-text table, target against
// measured RTT, each site followed by its label in parentheses when
// labels has one (a city, say).
func WriteSites(w io.Writer, sites []SiteResult, labels map[string]string) error {
	name := func(site string) string {
		if l, ok := labels[site]; ok {
			return site + " (" + l + ")"
		}
		return site
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %-24s %-24s %9s %11s %8s\n", "from", "to", "target ms", "measured ms", "error %")
	for _, s := range sites {
		fmt.Fprintf(&b, "  %-24s %-24s %9.2f %11.2f %+8.2f\n", name(s.From), name(s.To), s.TargetMs, s.MeasuredMs, s.ErrorPct)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
