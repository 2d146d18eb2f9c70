//go:build !nohdf5

package core

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// h5pyScript writes a reference-layout file the way a Python trainer does with h5py (gzip-
// compressed chunked features, numpy int scalars, a str attribute), then reads a file of ours and
// prints what h5py sees.
const h5pyScript = `
import sys, json, numpy as np, h5py
out, ours = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(0)
N, T, F = 7, 5, 3
n = np.array([5, 1, 3, 5, 2, 4, 1], dtype=np.int32)
x = np.zeros((N, T, F), np.float32)
for i in range(N):
    x[i, :n[i]] = rng.standard_normal((n[i], F))
with h5py.File(out, "w") as f:
    f.create_dataset("features", data=x, compression="gzip", chunks=(2, T, F))
    f.create_dataset("labels", data=np.array([0, 1, 2, 1, 0, 2, 2], dtype=np.int64))
    f.create_dataset("num_frames", data=n)
    f.attrs["category_mapping"] = json.dumps({"cut": 0, "fade": 1, "none": 2})
    f.attrs["feature_dim"] = F
    f.attrs["max_frames"] = T
    f.attrs["num_videos"] = N
np.save(out + ".npy", x)
with h5py.File(out + ".fixed.h5", "w") as f:  # fixed-length string attribute, int32 scalars
    f.create_dataset("features", data=x)
    f.create_dataset("labels", data=np.array([0, 1, 2, 1, 0, 2, 2], dtype=np.int64))
    f.create_dataset("num_frames", data=n)
    f.attrs["category_mapping"] = np.bytes_(json.dumps({"cut": 0, "fade": 1, "none": 2}))
    f.attrs["feature_dim"] = np.int32(F)
    f.attrs["max_frames"] = np.int32(T)
    f.attrs["num_videos"] = np.int32(N)
with h5py.File(ours, "r") as f:
    print(f["features"].dtype, f["features"].shape, f["labels"].dtype, f["num_frames"].dtype)
    print(json.loads(f.attrs["category_mapping"]) == {"walk": 0, "run": 1, "jump": 2},
          int(f.attrs["feature_dim"]), int(f.attrs["max_frames"]), int(f.attrs["num_videos"]))
    print(float(f["features"][3, 1, 2]), list(f["labels"][:]), list(f["num_frames"][:]))
`

// TestHDF5InteropH5py: a file written by h5py in the reference layout reads here, and h5py reads
// ours. Skipped where /usr/bin/python3 has no h5py (Debian python3-h5py).
func TestHDF5InteropH5py(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import h5py").Run() != nil {
		t.Skip("no h5py for /usr/bin/python3")
	}
	dir := t.TempDir()
	theirs := filepath.Join(dir, "theirs.h5")
	ours := filepath.Join(dir, "ours.h5")
	d := smallMemDataset(t)
	if err := WriteHDF5Dataset(ours, d); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/usr/bin/python3", "-c", h5pyScript, theirs, ours).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"float32 (5, 6, 3) int64 int32", "True 3 6 5", "305.0 [0, 1, 2, 1, 0] [6, 2, 1, 4, 6]"}
	for i := range want {
		if i >= len(lines) || lines[i] != want[i] {
			t.Errorf("h5py reading ours, line %d: %q, want %q", i, lines, want[i])
			break
		}
	}
	h, err := OpenHDF5Dataset(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if strings.Join(h.ClassNames(), ",") != "cut,fade,none" || h.Len() != 7 || h.MaxFrames() != 5 || h.FeatureDim() != 3 {
		t.Fatalf("h5py file: %v %d %d %d", h.ClassNames(), h.Len(), h.MaxFrames(), h.FeatureDim())
	}
	hf, err := OpenHDF5Dataset(theirs + ".fixed.h5")
	if err != nil {
		t.Fatalf("fixed-length string attribute: %v", err)
	}
	if strings.Join(hf.ClassNames(), ",") != "cut,fade,none" {
		t.Errorf("fixed-length string attribute: class names %v", hf.ClassNames())
	}
	hf.Close()
	x := make([]float32, 7*5*3)
	idx := []int{0, 1, 2, 3, 4, 5, 6}
	if err := h.ReadClips(idx, 5, x); err != nil {
		t.Fatal(err)
	}
	ref, err := exec.Command("/usr/bin/python3", "-c",
		"import numpy as np,sys; sys.stdout.write(' '.join(repr(float(v)) for v in np.load(sys.argv[1]).ravel()))", theirs+".npy").Output()
	if err != nil {
		t.Fatal(err)
	}
	vals := strings.Fields(string(ref))
	if len(vals) != len(x) {
		t.Fatalf("h5py wrote %d values, we read %d", len(vals), len(x))
	}
	for i, s := range vals {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v != float64(x[i]) {
			t.Fatalf("element %d: %v, h5py wrote %s", i, x[i], s)
		}
	}
}
