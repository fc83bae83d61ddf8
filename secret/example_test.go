package secret_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/planetstage/planetstage/secret"
)

// A key is made on first use and reused after, even by a later run;
// output shows secret.Redacted in its place.
func Example() {
	root, err := os.MkdirTemp("", "secret-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)

	made := 0
	newKey := func() ([]byte, error) { made++; return []byte("k3y-material"), nil }
	for range 2 { // two runs of a program
		store, err := secret.OpenDir(root)
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, err := store.LoadOrCreate("vpn/router1.key", true, newKey); err != nil {
			fmt.Println(err)
			return
		}
	}
	info, _ := os.Stat(filepath.Join(root, "vpn", "router1.key"))
	fmt.Println("keys made:", made)
	fmt.Println("mode:", info.Mode().Perm())
	fmt.Println("key:", secret.Redacted)
	// Output:
	// keys made: 1
	// mode: -rw-------
	// key: <redacted>
}
