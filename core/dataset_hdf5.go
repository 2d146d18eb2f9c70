//go:build !nohdf5

package core

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"gonum.org/v1/hdf5"
)

// hdf5Mu serialises every call into libhdf5 (DESIGN §4, §9): gonum's wrapper adds no locking of
// its own, and a libhdf5 built without thread safety must not be entered concurrently.
var hdf5Mu sync.Mutex

// lockHDF5 takes the HDF5 lock and pins the goroutine to its OS thread, then silences
// libhdf5's automatic error-stack printing on that thread: Debian's libhdf5 keeps the setting per
// thread (a thread-safe build), and the library must never write to the host's stderr (errors
// come back as values). Release with unlockHDF5.
func lockHDF5() {
	hdf5Mu.Lock()
	runtime.LockOSThread()
	_ = hdf5.DisplayErrors(false)
}

func unlockHDF5() {
	runtime.UnlockOSThread()
	hdf5Mu.Unlock()
}

// HDF5Available reports whether this build can read and write HDF5 datasets.
const HDF5Available = true

// HDF5Dataset reads a dataset in the reference layout from an HDF5 file. Labels and lengths are
// read at open; clips are read on demand, one hyperslab per clip (only its own frames), so a
// file larger than memory trains. Safe for concurrent use (all calls hold hdf5Mu).
type HDF5Dataset struct {
	path     string
	file     *hdf5.File
	features *hdf5.Dataset
	labels   []int64
	lengths  []int32
	classes  []string
	N, T, F  int
}

// OpenHDF5Dataset opens and validates path: datasets features float32 [N, T, F], labels int64
// [N], num_frames int32 [N]; root attributes category_mapping (JSON name → index), feature_dim,
// max_frames, num_videos agreeing with the shapes; labels in range; 1 ≤ num_frames ≤ T.
// Layout problems are KindFormat errors that name the file and the dataset or attribute.
func OpenHDF5Dataset(path string) (*HDF5Dataset, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, Wrap(KindIO, err, "dataset")
	}
	if !fi.Mode().IsRegular() {
		return nil, Errf(KindIO, "dataset %s: not a regular file", path)
	}
	lockHDF5()
	defer unlockHDF5()
	if !hdf5.IsHDF5(path) {
		return nil, Errf(KindFormat, "dataset %s: not an HDF5 file", path)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, Errf(KindIO, "dataset %s: cannot open HDF5 file (%v)", path, err)
	}
	d := &HDF5Dataset{path: path, file: f}
	if err := d.open(); err != nil {
		d.closeLocked()
		return nil, Wrap(KindOf(err), err, "dataset %s", path)
	}
	return d, nil
}

// h5Dims opens dataset name and checks its element type and rank.
func h5Open(f *hdf5.File, name string, want *hdf5.Datatype, wantName string, rank int) (*hdf5.Dataset, []int, error) {
	ds, err := f.OpenDataset(name)
	if err != nil {
		return nil, nil, Errf(KindFormat, "missing dataset %q (the reference layout has features, labels, num_frames)", name)
	}
	dt, err := ds.Datatype()
	if err != nil {
		ds.Close()
		return nil, nil, Errf(KindFormat, "dataset %q: unreadable datatype", name)
	}
	ok := dt.Equal(want)
	dt.Close()
	if !ok {
		ds.Close()
		return nil, nil, Errf(KindFormat, "dataset %q has the wrong element type (want %s)", name, wantName)
	}
	sp := ds.Space()
	if sp == nil {
		ds.Close()
		return nil, nil, Errf(KindFormat, "dataset %q: unreadable dataspace", name)
	}
	defer sp.Close()
	if r := sp.SimpleExtentNDims(); r != rank {
		ds.Close()
		return nil, nil, Errf(KindFormat, "dataset %q has %d dimensions, want %d", name, r, rank)
	}
	dims, _, err := sp.SimpleExtentDims()
	if err != nil {
		ds.Close()
		return nil, nil, Errf(KindFormat, "dataset %q: unreadable shape", name)
	}
	out := make([]int, len(dims))
	for i, v := range dims {
		if v > 1<<40 {
			ds.Close()
			return nil, nil, Errf(KindFormat, "dataset %q: dimension %d is %d", name, i, v)
		}
		out[i] = int(v)
	}
	return ds, out, nil
}

// h5Attr opens a root attribute, or reports it missing.
func h5Attr(root *hdf5.Group, name string) (*hdf5.Attribute, error) {
	a, err := root.OpenAttribute(name)
	if err != nil {
		return nil, Errf(KindFormat, "missing attribute %q (the reference layout has category_mapping, feature_dim, max_frames, num_videos)", name)
	}
	return a, nil
}

func h5IntAttr(root *hdf5.Group, name string) (int64, error) {
	a, err := h5Attr(root, name)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	sp := a.Space()
	if sp == nil {
		return 0, Errf(KindFormat, "attribute %q: unreadable dataspace", name)
	}
	n := sp.SimpleExtentNPoints()
	sp.Close()
	if n != 1 {
		return 0, Errf(KindFormat, "attribute %q must be one integer, has %d values", name, n)
	}
	if h5AttrClass(a) != hdf5.T_INTEGER {
		return 0, Errf(KindFormat, "attribute %q must be an integer", name)
	}
	var v int64
	if err := a.Read(&v, hdf5.T_NATIVE_INT64); err != nil {
		return 0, Errf(KindFormat, "attribute %q must be an integer", name)
	}
	return v, nil
}

func h5StringAttr(root *hdf5.Group, name string) (string, error) {
	a, err := h5Attr(root, name)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return h5ReadStringAttr(a, name)
}

func (d *HDF5Dataset) open() error {
	var dims []int
	var err error
	d.features, dims, err = h5Open(d.file, "features", hdf5.T_NATIVE_FLOAT, "float32", 3)
	if err != nil {
		return err
	}
	d.N, d.T, d.F = dims[0], dims[1], dims[2]
	if d.N == 0 {
		return Errf(KindFormat, "empty dataset (features has 0 clips)")
	}
	if d.T < 1 || d.T > MaxFrames || d.F < 1 || d.F > MaxDim {
		return Errf(KindFormat, "features shape %v out of range", dims)
	}
	if d.N > MaxDatasetClips || int64(d.T)*int64(d.F) > MaxDatasetClipElems {
		return Errf(KindOutOfMemory, "features shape %v exceeds the library's limits (%d clips, %d values per clip)", dims, MaxDatasetClips, MaxDatasetClipElems)
	}
	readAll := func(name string, want *hdf5.Datatype, wantName string, dst any) error {
		ds, dims, err := h5Open(d.file, name, want, wantName, 1)
		if err != nil {
			return err
		}
		defer ds.Close()
		if dims[0] != d.N {
			return Errf(KindFormat, "dataset %q has %d entries, features has %d clips", name, dims[0], d.N)
		}
		if err := ds.Read(dst); err != nil {
			return Errf(KindFormat, "dataset %q: read failed (%v)", name, err)
		}
		return nil
	}
	d.labels = make([]int64, d.N)
	if err := readAll("labels", hdf5.T_NATIVE_INT64, "int64", &d.labels); err != nil {
		return err
	}
	d.lengths = make([]int32, d.N)
	if err := readAll("num_frames", hdf5.T_NATIVE_INT32, "int32", &d.lengths); err != nil {
		return err
	}
	root, err := d.file.OpenGroup("/")
	if err != nil {
		return Errf(KindFormat, "cannot open the root group")
	}
	defer root.Close()
	cm, err := h5StringAttr(root, "category_mapping")
	if err != nil {
		return err
	}
	if d.classes, err = parseCategoryMapping(cm); err != nil {
		return err
	}
	for _, a := range []struct {
		name string
		want int
	}{{"feature_dim", d.F}, {"max_frames", d.T}, {"num_videos", d.N}} {
		v, err := h5IntAttr(root, a.name)
		if err != nil {
			return err
		}
		if v != int64(a.want) {
			return Errf(KindFormat, "attribute %s = %d does not match the features shape (%d)", a.name, v, a.want)
		}
	}
	return validateLabelsLengths(d.labels, d.lengths, len(d.classes), d.T)
}

func (d *HDF5Dataset) Len() int             { return d.N }
func (d *HDF5Dataset) FeatureDim() int      { return d.F }
func (d *HDF5Dataset) MaxFrames() int       { return d.T }
func (d *HDF5Dataset) NumClasses() int      { return len(d.classes) }
func (d *HDF5Dataset) Labels() []int64      { return d.labels }
func (d *HDF5Dataset) Lengths() []int32     { return d.lengths }
func (d *HDF5Dataset) ClassNames() []string { return d.classes }

// Close releases the file.
func (d *HDF5Dataset) Close() error {
	lockHDF5()
	defer unlockHDF5()
	d.closeLocked()
	return nil
}

func (d *HDF5Dataset) closeLocked() {
	if d.features != nil {
		d.features.Close()
		d.features = nil
	}
	if d.file != nil {
		d.file.Close()
		d.file = nil
	}
}

// ReadClips reads each clip's own frames with one hyperslab read per clip.
func (d *HDF5Dataset) ReadClips(idx []int, T int, dst []float32) error {
	F := d.F
	if len(dst) < len(idx)*T*F {
		return Errf(KindShape, "dataset: buffer of %d values for %d clips of %d frames", len(dst), len(idx), T)
	}
	lockHDF5()
	defer unlockHDF5()
	if d.features == nil {
		return Errf(KindInvalidArgument, "dataset %s: closed", d.path)
	}
	for k, i := range idx {
		if i < 0 || i >= d.N {
			return Errf(KindInvalidArgument, "dataset: clip index %d out of range [0, %d)", i, d.N)
		}
		n := int(d.lengths[i])
		if n > T {
			return Errf(KindShape, "dataset: clip %d has %d frames, buffer holds %d", i, n, T)
		}
		out := dst[k*T*F : (k+1)*T*F]
		if err := d.readClip(i, n, out[:n*F]); err != nil {
			return err
		}
		clear(out[n*F:])
		if err := checkFinite(out[:n*F], fmt.Sprintf("dataset %s: features of clip %d", d.path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (d *HDF5Dataset) readClip(i, n int, out []float32) error {
	fs := d.features.Space()
	if fs == nil {
		return Errf(KindIO, "dataset %s: features dataspace", d.path)
	}
	defer fs.Close()
	if err := fs.SelectHyperslab([]uint{uint(i), 0, 0}, nil, []uint{1, uint(n), uint(d.F)}, nil); err != nil {
		return Errf(KindIO, "dataset %s: selecting clip %d (%v)", d.path, i, err)
	}
	ms, err := hdf5.CreateSimpleDataspace([]uint{1, uint(n), uint(d.F)}, nil)
	if err != nil {
		return Errf(KindIO, "dataset %s: memory dataspace (%v)", d.path, err)
	}
	defer ms.Close()
	if err := d.features.ReadSubset(&out, ms, fs); err != nil {
		return Errf(KindIO, "dataset %s: reading clip %d (%v)", d.path, i, err)
	}
	return nil
}

// WriteHDF5Dataset writes d to path in the reference layout (features chunked one clip per
// chunk, so random clip reads touch one chunk each). The file is written under a temporary name
// in the same directory and renamed into place. Clips are copied in blocks, so d may be larger
// than memory.
func WriteHDF5Dataset(path string, d Dataset) (err error) {
	N, T, F := d.Len(), d.MaxFrames(), d.FeatureDim()
	if N == 0 {
		return Errf(KindInvalidArgument, "dataset: empty (no clips)")
	}
	cm, err := categoryMapping(d.ClassNames())
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmpf, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return Wrap(KindIO, err, "write dataset %s", path)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := writeHDF5(tmp, d, N, T, F, cm); err != nil {
		return Wrap(KindOf(err), err, "write dataset %s", path)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return Wrap(KindIO, err, "write dataset %s", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Wrap(KindIO, err, "write dataset %s", path)
	}
	return nil
}

func writeHDF5(tmp string, d Dataset, N, T, F int, categoryMapping string) error {
	lockHDF5()
	f, err := hdf5.CreateFile(tmp, hdf5.F_ACC_TRUNC)
	unlockHDF5()
	if err != nil {
		return Errf(KindIO, "create HDF5 file (%v)", err)
	}
	defer func() {
		lockHDF5()
		f.Close()
		unlockHDF5()
	}()
	h5 := func(what string, err error) error {
		if err != nil {
			return Errf(KindIO, "%s (%v)", what, err)
		}
		return nil
	}
	// features, one chunk per clip
	lockHDF5()
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(N), uint(T), uint(F)}, nil)
	if err != nil {
		unlockHDF5()
		return h5("features dataspace", err)
	}
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err == nil {
		err = dcpl.SetChunk([]uint{1, uint(T), uint(F)})
	}
	var feats *hdf5.Dataset
	if err == nil {
		feats, err = f.CreateDatasetWith("features", hdf5.T_NATIVE_FLOAT, space, dcpl)
	}
	if dcpl != nil {
		dcpl.Close()
	}
	space.Close()
	unlockHDF5()
	if err != nil {
		return h5("create features", err)
	}
	defer func() { lockHDF5(); feats.Close(); unlockHDF5() }()
	const block = 64
	buf := make([]float32, block*T*F)
	idx := make([]int, 0, block)
	for lo := 0; lo < N; lo += block {
		hi := min(lo+block, N)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		b := buf[:len(idx)*T*F]
		if err := d.ReadClips(idx, T, b); err != nil {
			return err
		}
		lockHDF5()
		fs := feats.Space()
		err := fs.SelectHyperslab([]uint{uint(lo), 0, 0}, nil, []uint{uint(hi - lo), uint(T), uint(F)}, nil)
		var ms *hdf5.Dataspace
		if err == nil {
			ms, err = hdf5.CreateSimpleDataspace([]uint{uint(hi - lo), uint(T), uint(F)}, nil)
		}
		if err == nil {
			err = feats.WriteSubset(&b, ms, fs)
			ms.Close()
		}
		fs.Close()
		unlockHDF5()
		if err != nil {
			return h5("write features", err)
		}
	}
	lockHDF5()
	defer unlockHDF5()
	write1 := func(name string, dt *hdf5.Datatype, data any) error {
		sp, err := hdf5.CreateSimpleDataspace([]uint{uint(N)}, nil)
		if err != nil {
			return h5(name+" dataspace", err)
		}
		defer sp.Close()
		ds, err := f.CreateDataset(name, dt, sp)
		if err != nil {
			return h5("create "+name, err)
		}
		defer ds.Close()
		return h5("write "+name, ds.Write(data))
	}
	labels := append([]int64(nil), d.Labels()...)
	lengths := append([]int32(nil), d.Lengths()...)
	if err := write1("labels", hdf5.T_NATIVE_INT64, &labels); err != nil {
		return err
	}
	if err := write1("num_frames", hdf5.T_NATIVE_INT32, &lengths); err != nil {
		return err
	}
	root, err := f.OpenGroup("/")
	if err != nil {
		return h5("open root group", err)
	}
	defer root.Close()
	scalar, err := hdf5.CreateDataspace(hdf5.S_SCALAR)
	if err != nil {
		return h5("scalar dataspace", err)
	}
	defer scalar.Close()
	a, err := root.CreateAttribute("category_mapping", hdf5.T_GO_STRING, scalar)
	if err != nil {
		return h5("create attribute category_mapping", err)
	}
	err = a.Write(&categoryMapping, hdf5.T_GO_STRING)
	a.Close()
	if err != nil {
		return h5("write attribute category_mapping", err)
	}
	for _, kv := range []struct {
		name string
		v    int64
	}{{"feature_dim", int64(F)}, {"max_frames", int64(T)}, {"num_videos", int64(N)}} {
		a, err := root.CreateAttribute(kv.name, hdf5.T_NATIVE_INT64, scalar)
		if err != nil {
			return h5("create attribute "+kv.name, err)
		}
		v := kv.v
		err = a.Write(&v, hdf5.T_NATIVE_INT64)
		a.Close()
		if err != nil {
			return h5("write attribute "+kv.name, err)
		}
	}
	return h5("flush", f.Flush(hdf5.F_SCOPE_GLOBAL))
}
