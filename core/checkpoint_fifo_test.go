package core

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadFileFIFOIsIOError: a FIFO is refused as not a regular file, at once. (LoadFile used to
// block in open(2) until a writer opened the FIFO: found by tests/reliability/badinput.)
func TestLoadFileFIFOIsIOError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo.safetensors")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadFile(p, LoadOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if KindOf(err) != KindIO {
			t.Fatalf("LoadFile(FIFO) = %v, want a KindIO error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LoadFile(FIFO) blocked")
	}
}
