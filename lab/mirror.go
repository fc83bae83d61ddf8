package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// aptSource is one "deb" entry of the machine's apt configuration.
type aptSource struct {
	URI    string
	Suites []string
}

// DebianMirror returns the Debian archive URI that this machine's apt is
// configured with, read at run time from /etc/apt/sources.list and
// /etc/apt/sources.list.d/ (one-line ".list" and deb822 ".sources" formats).
// The lab never carries a mirror host name of its own.
func DebianMirror(suite string) (string, error) {
	return debianMirrorFrom("/etc/apt", suite)
}

func debianMirrorFrom(aptDir, suite string) (string, error) {
	var sources []aptSource
	files := []string{filepath.Join(aptDir, "sources.list")}
	more, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*"))
	sort.Strings(more)
	files = append(files, more...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a missing sources.list is normal on deb822-only systems
		}
		switch {
		case strings.HasSuffix(f, ".sources"):
			sources = append(sources, parseDeb822(data)...)
		case strings.HasSuffix(f, ".list") || filepath.Base(f) == "sources.list":
			sources = append(sources, parseOneLine(data)...)
		}
	}
	if uri := pickMirror(sources, suite); uri != "" {
		return uri, nil
	}
	return "", fmt.Errorf("no Debian mirror in %s/sources.list or %s/sources.list.d/: want a \"deb\" entry for a Debian suite (such as %s); set lab.ImageOptions.Mirror or name your own image with lab.Options.Image", aptDir, aptDir, suite)
}

// pickMirror prefers an entry that serves suite itself, then any entry of a
// plain Debian release suite (a mirror of one release serves the others),
// skipping security and update pockets, which carry only a few packages.
func pickMirror(sources []aptSource, suite string) string {
	for _, s := range sources {
		for _, x := range s.Suites {
			if x == suite {
				return s.URI
			}
		}
	}
	for _, s := range sources {
		for _, x := range s.Suites {
			if !strings.Contains(x, "-") && !strings.Contains(x, "/") && strings.Contains(s.URI, "debian") && !strings.Contains(s.URI, "security") {
				return s.URI
			}
		}
	}
	return ""
}

// parseOneLine reads "deb [opts] URI suite comp..." lines.
func parseOneLine(data []byte) []aptSource {
	var out []aptSource
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if !strings.HasPrefix(line, "deb ") && !strings.HasPrefix(line, "deb\t") {
			continue
		}
		rest := strings.TrimSpace(line[3:])
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			continue
		}
		out = append(out, aptSource{URI: fields[0], Suites: []string{fields[1]}})
	}
	return out
}

// parseDeb822 reads stanzas of "Types:", "URIs:", "Suites:" and "Enabled:".
func parseDeb822(data []byte) []aptSource {
	var out []aptSource
	for _, stanza := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n\n") {
		fields := map[string]string{}
		var last string
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
				continue
			}
			if (line[0] == ' ' || line[0] == '\t') && last != "" {
				fields[last] += " " + strings.TrimSpace(line)
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
		if strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		isDeb := false
		for _, t := range strings.Fields(fields["types"]) {
			isDeb = isDeb || t == "deb"
		}
		if !isDeb {
			continue
		}
		for _, uri := range strings.Fields(fields["uris"]) {
			out = append(out, aptSource{URI: uri, Suites: strings.Fields(fields["suites"])})
		}
	}
	return out
}
