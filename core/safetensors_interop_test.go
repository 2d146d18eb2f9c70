package core

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// officialSafetensorsPython finds a Python with the official safetensors package (Rust-backed)
// and numpy: $TEMPORAL_SAFETENSORS_PYTHON, else python3 on PATH, else /usr/bin/python3.
// Debian has no python3-safetensors, so CI usually skips this; `pip install safetensors numpy`
// in a virtual environment and point the variable at its python to run it.
func officialSafetensorsPython(t *testing.T) string {
	cands := []string{os.Getenv("TEMPORAL_SAFETENSORS_PYTHON"), "python3", "/usr/bin/python3"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if exec.Command(c, "-c", "import safetensors.numpy, numpy").Run() == nil {
			return c
		}
	}
	t.Skip("no python with the safetensors package (set TEMPORAL_SAFETENSORS_PYTHON)")
	return ""
}

const officialRoundTrip = `
import sys, numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file
src, plain, meta_out = sys.argv[1:4]
t = load_file(src)
with safe_open(src, framework="np") as f:
    meta = f.metadata()
    assert list(f.keys()) == sorted(t), "keys"
assert meta["format_version"] == "1" and len(meta["sha256"]) == 64, meta
assert all(v.dtype == np.float32 for v in t.values())
save_file(t, plain)
save_file(t, meta_out, metadata={k: meta[k] for k in ("num_heads", "class_names", "dropout")})
print(len(t))
`

// TestOfficialSafetensorsInterop: the official safetensors library reads our checkpoints
// (tensors and metadata), and the files it writes, with and without metadata, load here
// bitwise.
func TestOfficialSafetensorsInterop(t *testing.T) {
	py := officialSafetensorsPython(t)
	dir := t.TempDir()
	m := newSmallModel(t, smallConfig())
	src := filepath.Join(dir, "ours.safetensors")
	if err := m.SaveFile(src); err != nil {
		t.Fatal(err)
	}
	plain, withMeta := filepath.Join(dir, "plain.safetensors"), filepath.Join(dir, "meta.safetensors")
	out, err := exec.Command(py, "-c", officialRoundTrip, src, plain, withMeta).CombinedOutput()
	if err != nil {
		t.Fatalf("official safetensors rejected our file: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != itoa(len(m.Params())) {
		t.Fatalf("official reader saw %s tensors, want %d", got, len(m.Params()))
	}
	got, err := LoadFile(plain, LoadOptions{NumHeads: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := NewModel(func() Config { c := m.Config(); c.Dropout, c.ClassNames = DefaultDropout, nil; return c }())
	copy(want.Slab(), m.Slab())
	assertSameModel(t, got, want)
	got, err = LoadFile(withMeta, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertSameModel(t, got, m)
}
