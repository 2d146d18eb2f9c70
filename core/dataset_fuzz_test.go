//go:build !nohdf5

package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/hdf5"
)

// FuzzHDF5Layout fuzzes our validation of the reference layout (OpenHDF5Dataset's checks and
// ReadClips) on top of libhdf5. The fuzzer's bytes do not become the HDF5 file: they describe a
// layout — which datasets and root attributes exist, their element types, ranks, shapes (small,
// zero, or huge with unallocated chunked storage), values, and what the attributes claim — and
// a well-formed HDF5 file with that layout is written through libhdf5, then opened. An input of
// all zero bytes is the valid reference layout. Raw-byte mutation of HDF5 files would fuzz
// libhdf5's own parser, which is outside our reach (a hostile HDF5 file can crash libhdf5
// itself; docs/RELIABILITY.md). Run it as
//
//	go test ./core -run '^$' -fuzz '^FuzzHDF5Layout$' -fuzztime 300s -parallel 1
//
// Invariants: no panic, no allocation beyond what the limits allow, every error a *core.Error of
// kind Format, IO, Numeric or OutOfMemory; an accepted file has labels in range, lengths in
// [1, T], and its clips read back (or fail as KindNumeric on non-finite values).
func FuzzHDF5Layout(f *testing.F) {
	f.Add([]byte{})                                   // the valid layout
	f.Add([]byte{1})                                  // features missing
	f.Add([]byte{0, 3})                               // features float64
	f.Add([]byte{0, 0, 2})                            // features of rank 2
	f.Add([]byte{0, 0, 0, 0x80 | 1})                  // N = 2^30, chunked, never written (75 s and 12 GB before MaxDatasetClips)
	f.Add([]byte{0, 0, 0, 7, 9, 0, 0, 0, 0, 0, 0, 0}) // other sizes
	f.Add(append(make([]byte, 24), 1, 5, 0xff, 0x7f, 0x80, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 'x'))
	f.Add(append(make([]byte, 40), 6, 2, '{', '}', 1, 3, 2, 4, 5, 7))
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("libtemporal-fuzz-h5-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "layout.h5")
	f.Fuzz(func(t *testing.T, data []byte) {
		l := decodeFuzzLayout(data)
		if err := writeFuzzLayout(path, l); err != nil {
			t.Skipf("libhdf5 refused to write the layout: %v", err) // not our code under test
		}
		d, err := OpenHDF5Dataset(path)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		defer d.Close()
		N, T, F, C := d.Len(), d.MaxFrames(), d.FeatureDim(), d.NumClasses()
		if N < 1 || T < 1 || F < 1 || C < 1 || len(d.Labels()) != N || len(d.Lengths()) != N {
			t.Fatalf("accepted an inconsistent dataset: N %d T %d F %d C %d, %d labels, %d lengths", N, T, F, C, len(d.Labels()), len(d.Lengths()))
		}
		for i := range N {
			if y := d.Labels()[i]; y < 0 || y >= int64(C) {
				t.Fatalf("accepted label %d of clip %d with %d classes", y, i, C)
			}
			if n := d.Lengths()[i]; n < 1 || int(n) > T {
				t.Fatalf("accepted length %d of clip %d with T = %d", n, i, T)
			}
		}
		k := min(N, 4)
		if k*T*F > 1<<22 {
			return // valid but too large to read in a fuzz iteration
		}
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		buf := make([]float32, k*T*F)
		if err := d.ReadClips(idx, T, buf); err != nil {
			checkFuzzErr(t, err)
		}
	})
}

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *core.Error", err, err)
	}
	switch KindOf(err) {
	case KindFormat, KindIO, KindNumeric, KindOutOfMemory:
	default:
		t.Fatalf("error kind %v for a bad layout: %v", KindOf(err), err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// fuzzReader hands out the fuzzer's bytes, then zeros.
type fuzzReader struct {
	b []byte
}

func (r *fuzzReader) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzReader) i64() int64 {
	var b [8]byte
	for i := range b {
		b[i] = r.u8()
	}
	return int64(binary.LittleEndian.Uint64(b[:]))
}

// fuzzDataset describes one dataset: absent, or an element type, a shape and values.
type fuzzDataset struct {
	absent bool
	dtype  int // index into fuzzTypes
	dims   []uint
	ints   []int64   // values for integer types (repeated to fill)
	floats []float32 // values for float types
}

// fuzzAttr describes one root attribute: absent, the matching value, or something else.
type fuzzAttr struct {
	kind int // 0 auto (what the shapes say), 1 absent, 2 int64 value, 3 int32 value, 4 float64, 5 string, 6 two-int array, 7 string value
	v    int64
	s    string
}

type fuzzLayout struct {
	ds    [3]fuzzDataset // features, labels, num_frames
	attrs [4]fuzzAttr    // category_mapping, feature_dim, max_frames, num_videos
	nCls  int
}

var fuzzTypes = []*hdf5.Datatype{hdf5.T_NATIVE_FLOAT, hdf5.T_NATIVE_INT64, hdf5.T_NATIVE_INT32, hdf5.T_NATIVE_DOUBLE, hdf5.T_NATIVE_INT8, hdf5.T_NATIVE_UINT32, hdf5.T_NATIVE_UINT64, hdf5.T_NATIVE_INT16}

var fuzzDSNames = [3]string{"features", "labels", "num_frames"}
var fuzzAttrNames = [4]string{"category_mapping", "feature_dim", "max_frames", "num_videos"}

func decodeFuzzLayout(data []byte) fuzzLayout {
	r := &fuzzReader{b: data}
	var l fuzzLayout
	// Sizes: byte 0..2 of the shape section; 0 means the default (N 3, T 4, F 2). A set high
	// bit makes the size huge (2^(29 + low bits & 15)), stored chunked and never written.
	size := func(def uint) uint {
		b := r.u8()
		switch {
		case b == 0:
			return def
		case b&0x80 != 0:
			return 1 << (29 + b&15) // beyond the limits: rejected before any read
		default:
			return uint(b&0x7f) - 1 // 0..126
		}
	}
	wantType := [3]int{0, 1, 2}
	var N, T, F uint
	for i := range l.ds {
		d := &l.ds[i]
		d.absent = r.u8()%7 == 1
		d.dtype = (wantType[i] + int(r.u8())) % len(fuzzTypes)
		rank := 3
		if i > 0 {
			rank = 1
		}
		if b := r.u8(); b != 0 {
			rank = int(b % 5)
		}
		if i == 0 {
			N, T, F = size(3), size(4), size(2)
			d.dims = []uint{N, T, F}
		} else {
			d.dims = []uint{size(N)}
		}
		for len(d.dims) < rank {
			d.dims = append(d.dims, 1+uint(r.u8()%3))
		}
		d.dims = d.dims[:rank]
	}
	// Values: labels in [0, 2) and lengths in [1, T] by default; the fuzzer's bytes perturb them.
	for i := 0; i < 8; i++ {
		b := r.u8()
		l.ds[1].ints = append(l.ds[1].ints, int64(i%2)+int64(int8(b)))
	}
	for i := 0; i < 8; i++ {
		b := r.u8()
		l.ds[2].ints = append(l.ds[2].ints, int64(1+uint(i)%max(T, 1))+int64(int8(b)))
	}
	for i := 0; i < 4; i++ {
		switch r.u8() % 16 {
		case 1:
			l.ds[0].floats = append(l.ds[0].floats, float32(math.NaN()))
		case 2:
			l.ds[0].floats = append(l.ds[0].floats, float32(math.Inf(-1)))
		default:
			l.ds[0].floats = append(l.ds[0].floats, float32(i)*0.5)
		}
	}
	l.ds[0].ints = l.ds[1].ints
	l.ds[1].floats, l.ds[2].floats = l.ds[0].floats, l.ds[0].floats
	l.nCls = 2
	for i := range l.attrs {
		a := &l.attrs[i]
		a.kind = int(r.u8() % 8)
		switch a.kind {
		case 2, 3, 4, 6:
			a.v = r.i64()
		case 5, 7:
			n := int(r.u8() % 64)
			b := make([]byte, n)
			for j := range b {
				b[j] = r.u8()
			}
			a.s = string(b)
		}
	}
	return l
}

// writeFuzzLayout writes l as an HDF5 file (libhdf5's own writer: the file is well-formed).
func writeFuzzLayout(path string, l fuzzLayout) error {
	lockHDF5()
	defer unlockHDF5()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		return err
	}
	defer f.Close()
	for i, d := range l.ds {
		if d.absent {
			continue
		}
		if err := writeFuzzDataset(f, fuzzDSNames[i], d); err != nil {
			return err
		}
	}
	root, err := f.OpenGroup("/")
	if err != nil {
		return err
	}
	defer root.Close()
	auto := [4]int64{0, 0, 0, 0}
	if dims := l.ds[0].dims; len(dims) == 3 {
		auto = [4]int64{0, int64(dims[2]), int64(dims[1]), int64(dims[0])}
	}
	for i, a := range l.attrs {
		if err := writeFuzzAttr(root, fuzzAttrNames[i], a, auto[i], l.nCls); err != nil {
			return err
		}
	}
	return nil
}

func writeFuzzDataset(f *hdf5.File, name string, d fuzzDataset) error {
	var sp *hdf5.Dataspace
	var err error
	if len(d.dims) == 0 {
		sp, err = hdf5.CreateDataspace(hdf5.S_SCALAR) // rank 0 (gonum panics on empty dims)
	} else {
		sp, err = hdf5.CreateSimpleDataspace(d.dims, nil)
	}
	if err != nil {
		return err
	}
	defer sp.Close()
	total := uint64(1)
	chunked := len(d.dims) > 0
	chunk := make([]uint, len(d.dims))
	for i, v := range d.dims {
		total *= uint64(v)
		if v == 0 {
			chunked = false
		}
		chunk[i] = min(v, 8)
	}
	dcpl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		return err
	}
	defer dcpl.Close()
	if chunked {
		if err := dcpl.SetChunk(chunk); err != nil {
			return err
		}
	} else if total > 1<<20 {
		return fmt.Errorf("contiguous dataset of %d elements", total)
	}
	dt := fuzzTypes[d.dtype]
	ds, err := f.CreateDatasetWith(name, dt, sp, dcpl)
	if err != nil {
		return err
	}
	defer ds.Close()
	if total == 0 || total > 4096 {
		return nil // huge: unallocated chunks read as the fill value 0
	}
	n := int(total)
	at := func(i int) int64 { return d.ints[i%len(d.ints)] }
	fat := func(i int) float32 { return d.floats[i%len(d.floats)] }
	switch dt {
	case hdf5.T_NATIVE_FLOAT:
		v := make([]float32, n)
		for i := range v {
			v[i] = fat(i)
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_DOUBLE:
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(fat(i))
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_INT64:
		v := make([]int64, n)
		for i := range v {
			v[i] = at(i)
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_UINT64:
		v := make([]uint64, n)
		for i := range v {
			v[i] = uint64(at(i))
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_INT32:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(at(i))
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_UINT32:
		v := make([]uint32, n)
		for i := range v {
			v[i] = uint32(at(i))
		}
		return ds.Write(&v)
	case hdf5.T_NATIVE_INT16:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(at(i))
		}
		return ds.Write(&v)
	default:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(at(i))
		}
		return ds.Write(&v)
	}
}

func writeFuzzAttr(root *hdf5.Group, name string, a fuzzAttr, auto int64, nCls int) error {
	scalar, err := hdf5.CreateDataspace(hdf5.S_SCALAR)
	if err != nil {
		return err
	}
	defer scalar.Close()
	writeStr := func(s string) error {
		at, err := root.CreateAttribute(name, hdf5.T_GO_STRING, scalar)
		if err != nil {
			return err
		}
		defer at.Close()
		return at.Write(&s, hdf5.T_GO_STRING)
	}
	writeInt := func(dt *hdf5.Datatype, v any) error {
		at, err := root.CreateAttribute(name, dt, scalar)
		if err != nil {
			return err
		}
		defer at.Close()
		return at.Write(v, dt)
	}
	isMapping := name == "category_mapping"
	switch a.kind {
	case 0:
		if isMapping {
			s := "{"
			for c := 0; c < nCls; c++ {
				if c > 0 {
					s += ", "
				}
				s += fmt.Sprintf(`"class%d": %d`, c, c)
			}
			return writeStr(s + "}")
		}
		return writeInt(hdf5.T_NATIVE_INT64, &auto)
	case 1:
		return nil
	case 2:
		v := a.v
		if !isMapping && a.v%3 == 0 {
			v = auto + a.v%5 // near the right value
		}
		return writeInt(hdf5.T_NATIVE_INT64, &v)
	case 3:
		v := int32(a.v)
		if a.v%2 == 0 {
			v = int32(auto)
		}
		return writeInt(hdf5.T_NATIVE_INT32, &v)
	case 4:
		v := float64(auto)
		if a.v%2 != 0 {
			v = math.Float64frombits(uint64(a.v))
		}
		return writeInt(hdf5.T_NATIVE_DOUBLE, &v)
	case 6:
		sp, err := hdf5.CreateSimpleDataspace([]uint{2}, nil)
		if err != nil {
			return err
		}
		defer sp.Close()
		at, err := root.CreateAttribute(name, hdf5.T_NATIVE_INT64, sp)
		if err != nil {
			return err
		}
		defer at.Close()
		v := [2]int64{auto, a.v}
		return at.Write(&v, hdf5.T_NATIVE_INT64)
	default: // 5, 7: a string (JSON-ish for the mapping)
		return writeStr(a.s)
	}
}
