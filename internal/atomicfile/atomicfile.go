package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Write is os.WriteFile made atomic and durable. It writes data to a
// temporary file in path's directory, sets its mode to perm (exactly: the
// umask does not apply), fsyncs it, renames it over path and fsyncs the
// directory, so that the rename itself is on disk. The directory must
// exist.
//
// On an error before the rename, path is untouched and the temporary file
// is removed. Only when syncing the directory fails are the new contents
// already in place; the error then says that they may not survive a crash.
//
// The temporary file is created readable by its owner only and gets perm
// before data is written, so secret data is never readable by others on
// its way in.
func Write(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := fill(f, data, perm); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// fill writes data to f with mode perm, syncs and closes it.
func fill(f *os.File, data []byte, perm fs.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes a rename in dir durable: the rename changed the directory,
// not the file, and only a sync of the directory writes that change out.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// A directory opened for reading cannot be synced there
		// (FlushFileBuffers needs write access); the rename is left to the
		// file system.
		return nil
	}
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w (the new contents are in place but may not survive a crash)", dir, err)
	}
	return nil
}
