package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/planetstage/planetstage/internal/atomicfile"
)

// Replacing a key file: a reader that opens it at any moment gets the old
// key or the new one, and once Write returns the new one is on disk.
func Example() {
	dir, err := os.MkdirTemp("", "atomicfile-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "router.key")

	for _, key := range []string{"first key", "second key"} {
		if err := atomicfile.Write(path, []byte(key), 0o600); err != nil {
			fmt.Println(err)
			return
		}
	}
	data, _ := os.ReadFile(path)
	info, _ := os.Stat(path)
	fmt.Printf("%s %s\n", info.Mode().Perm(), data)
	// Output:
	// -rw------- second key
}
