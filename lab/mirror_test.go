package lab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDebianMirrorFromAptSources(t *testing.T) {
	t.Parallel()
	// example.org/.net/.com are reserved names; no real mirror is named here.
	tests := []struct {
		name    string
		files   map[string]string
		suite   string
		want    string
		wantErr bool
	}{
		{
			name: "deb822 with security pocket first",
			files: map[string]string{"sources.list.d/debian.sources": `Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
# a comment
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main
`},
			suite: "bookworm", want: "http://mirror.example.org/debian",
		},
		{
			name: "one-line with options and comments",
			files: map[string]string{"sources.list": `# deb http://old.example.net/debian bookworm main
deb-src http://src.example.net/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example.net/debian bookworm main # trailing
`},
			suite: "bookworm", want: "http://mirror.example.net/debian",
		},
		{
			name: "disabled deb822 stanza is skipped",
			files: map[string]string{"sources.list.d/a.sources": `Types: deb
URIs: http://off.example.com/debian
Suites: bookworm
Enabled: no

Types: deb
URIs: http://on.example.com/debian
Suites: bookworm
`},
			suite: "bookworm", want: "http://on.example.com/debian",
		},
		{
			name:  "another release's mirror serves the suite",
			files: map[string]string{"sources.list": "deb http://mirror.example.org/debian trixie main\n"},
			suite: "bookworm", want: "http://mirror.example.org/debian",
		},
		{
			name:    "no Debian entry",
			files:   map[string]string{"sources.list.d/x.list.disabled": "deb http://mirror.example.org/debian bookworm main\n"},
			suite:   "bookworm",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755))
			for name, content := range tt.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
			}
			got, err := debianMirrorFrom(dir, tt.suite)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "sources.list.d")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDebianMirrorOfThisMachine(t *testing.T) {
	t.Parallel()
	uri, err := DebianMirror("bookworm")
	if err != nil {
		t.Skipf("this machine has no Debian apt source: %v", err)
	}
	assert.Regexp(t, `^https?://`, uri)
}
