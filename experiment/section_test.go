package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSectionsShowInTheReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run, err := Start(t.Context(), newFake(), Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, run.SetSections(Section{Title: "Delivery per site", Note: "by send time",
		Columns: []string{"site", "phase", "ratio"}, Rows: [][]string{{"saopaulo", "during", "0"}}}))
	report, err := os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	assert.Contains(t, string(report), "<h2>Delivery per site</h2>")
	assert.Contains(t, string(report), `<td class="l">saopaulo</td><td>during</td><td>0</td>`)
	assert.Equal(t, dir, run.Dir())
	require.NoError(t, run.Stop())
	report, err = os.ReadFile(filepath.Join(dir, ReportFile))
	require.NoError(t, err)
	assert.Contains(t, string(report), "by send time", "the last write keeps the sections")
}

func TestBadSectionIsRefused(t *testing.T) {
	t.Parallel()
	run, err := Start(t.Context(), newFake(), Options{Dir: t.TempDir()})
	require.NoError(t, err)
	defer run.Stop()
	require.NoError(t, run.SetSections(Section{Title: "kept", Columns: []string{"a"}}))
	for _, tc := range []struct {
		s    Section
		want string
	}{
		{Section{Columns: []string{"a"}}, "no title"},
		{Section{Title: "t"}, `section "t": no columns`},
		{Section{Title: "t", Columns: []string{"a", "b"}, Rows: [][]string{{"1"}}}, `section "t": row 0 has 1 cells for 2 columns`},
	} {
		assert.ErrorContains(t, run.SetSections(tc.s), tc.want)
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	assert.Equal(t, "kept", run.sections[0].Title, "a refused section changes nothing")
}
