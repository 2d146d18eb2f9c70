package core

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes a file so that path holds either its old content or all of the new:
// write calls go to a temporary file in the same directory (a rename across file systems is
// not atomic), which is fsynced, renamed over path, and then the directory is fsynced so the
// rename itself survives a crash (DESIGN §4). The temporary file is removed on any failure.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return Errf(KindInvalidArgument, "write %q: not a file path", path)
	}
	if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
		return Errf(KindIO, "write %s: is a directory", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return Wrap(KindIO, err, "write %s", path)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		if _, ok := err.(*Error); !ok {
			err = Wrap(KindIO, err, "write %s", path)
		}
		return err
	}
	// CreateTemp makes the file 0600; a checkpoint is an ordinary shareable file. (Reading the
	// umask would mean setting it, which races with other goroutines.)
	if err = f.Chmod(0o644); err != nil {
		return Wrap(KindIO, err, "write %s", path)
	}
	if err = f.Sync(); err != nil {
		return Wrap(KindIO, err, "fsync %s", tmp)
	}
	if err = f.Close(); err != nil {
		return Wrap(KindIO, err, "close %s", tmp)
	}
	if err = os.Rename(tmp, path); err != nil {
		return Wrap(KindIO, err, "rename %s to %s", tmp, path)
	}
	d, derr := os.Open(dir)
	if derr != nil {
		return Wrap(KindIO, derr, "open directory %s", dir)
	}
	defer d.Close()
	if serr := d.Sync(); serr != nil {
		return Wrap(KindIO, serr, "fsync directory %s", dir)
	}
	return nil
}
