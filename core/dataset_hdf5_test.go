//go:build !nohdf5

package core

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/hdf5"
)

func smallMemDataset(t *testing.T) *MemDataset {
	t.Helper()
	N, T, F := 5, 6, 3
	x := make([]float32, N*T*F)
	lengths := []int32{6, 2, 1, 4, 6}
	for i := 0; i < N; i++ {
		for j := 0; j < int(lengths[i])*F; j++ {
			x[i*T*F+j] = float32(i*100 + j)
		}
	}
	d, err := NewMemDataset(x, []int64{0, 1, 2, 1, 0}, lengths, T, F, []string{"walk", "run", "jump"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHDF5RoundTrip: the writer's file reads back identically through hyperslab clip reads.
func TestHDF5RoundTrip(t *testing.T) {
	d := smallMemDataset(t)
	path := filepath.Join(t.TempDir(), "d.h5")
	if err := WriteHDF5Dataset(path, d); err != nil {
		t.Fatal(err)
	}
	h, err := OpenHDF5Dataset(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Len() != 5 || h.MaxFrames() != 6 || h.FeatureDim() != 3 || h.NumClasses() != 3 {
		t.Fatalf("shape %d %d %d %d", h.Len(), h.MaxFrames(), h.FeatureDim(), h.NumClasses())
	}
	if strings.Join(h.ClassNames(), ",") != "walk,run,jump" {
		t.Errorf("class names %v", h.ClassNames())
	}
	idx := []int{4, 1, 3}
	a := make([]float32, 3*6*3)
	b := make([]float32, 3*6*3)
	if err := d.ReadClips(idx, 6, a); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 99 // must be overwritten, padding included
	}
	if err := h.ReadClips(idx, 6, b); err != nil {
		t.Fatal(err)
	}
	if countBitDiff(a, b) != 0 {
		t.Errorf("clips differ:\n%v\n%v", a, b)
	}
	for i, y := range h.Labels() {
		if y != d.Labels()[i] || h.Lengths()[i] != d.Lengths()[i] {
			t.Errorf("clip %d: label/length %d/%d, want %d/%d", i, y, h.Lengths()[i], d.Labels()[i], d.Lengths()[i])
		}
	}
}

// h5Layout writes a reference-layout file by hand with parts left out or wrong, for the
// validation tests.
type h5Layout struct {
	skipDataset, skipAttr string
	labelsFloat           bool // labels stored as float64
	mappingInt            bool // category_mapping stored as an integer
	featureDimString      bool // feature_dim stored as a string
	labels                []int64
	numFrames             []int32
	numVideos             int64
	features              []float32
	nFeat                 int // clips in features
}

func writeH5Layout(t *testing.T, path string, l h5Layout) {
	t.Helper()
	T, F := 4, 2
	lockHDF5()
	defer unlockHDF5()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mk := func(name string, dt *hdf5.Datatype, dims []uint, data any) {
		if name == l.skipDataset {
			return
		}
		sp, err := hdf5.CreateSimpleDataspace(dims, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sp.Close()
		ds, err := f.CreateDataset(name, dt, sp)
		if err != nil {
			t.Fatal(err)
		}
		defer ds.Close()
		if err := ds.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	feats := l.features
	if feats == nil {
		feats = make([]float32, l.nFeat*T*F)
	}
	mk("features", hdf5.T_NATIVE_FLOAT, []uint{uint(l.nFeat), uint(T), uint(F)}, &feats)
	if l.labelsFloat {
		v := make([]float64, len(l.labels))
		mk("labels", hdf5.T_NATIVE_DOUBLE, []uint{uint(len(v))}, &v)
	} else {
		mk("labels", hdf5.T_NATIVE_INT64, []uint{uint(len(l.labels))}, &l.labels)
	}
	mk("num_frames", hdf5.T_NATIVE_INT32, []uint{uint(len(l.numFrames))}, &l.numFrames)
	root, err := f.OpenGroup("/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	scalar, _ := hdf5.CreateDataspace(hdf5.S_SCALAR)
	defer scalar.Close()
	if l.mappingInt {
		a, _ := root.CreateAttribute("category_mapping", hdf5.T_NATIVE_INT64, scalar)
		v := int64(3)
		a.Write(&v, hdf5.T_NATIVE_INT64)
		a.Close()
	} else if l.skipAttr != "category_mapping" {
		a, err := root.CreateAttribute("category_mapping", hdf5.T_GO_STRING, scalar)
		if err != nil {
			t.Fatal(err)
		}
		s := `{"a": 0, "b": 1}`
		a.Write(&s, hdf5.T_GO_STRING)
		a.Close()
	}
	for _, kv := range []struct {
		k string
		v int64
	}{{"feature_dim", int64(F)}, {"max_frames", int64(T)}, {"num_videos", l.numVideos}} {
		if kv.k == l.skipAttr {
			continue
		}
		if kv.k == "feature_dim" && l.featureDimString {
			a, _ := root.CreateAttribute(kv.k, hdf5.T_GO_STRING, scalar)
			s := "2"
			a.Write(&s, hdf5.T_GO_STRING)
			a.Close()
			continue
		}
		a, err := root.CreateAttribute(kv.k, hdf5.T_NATIVE_INT64, scalar)
		if err != nil {
			t.Fatal(err)
		}
		v := kv.v
		a.Write(&v, hdf5.T_NATIVE_INT64)
		a.Close()
	}
}

// TestHDF5BadLayout: every layout problem is a KindFormat error naming what is wrong.
func TestHDF5BadLayout(t *testing.T) {
	good := func() h5Layout {
		return h5Layout{labels: []int64{0, 1, 1}, numFrames: []int32{4, 2, 1}, numVideos: 3, nFeat: 3}
	}
	dir := t.TempDir()
	// The good layout opens.
	p := filepath.Join(dir, "good.h5")
	writeH5Layout(t, p, good())
	if h, err := OpenHDF5Dataset(p); err != nil {
		t.Fatalf("good layout: %v", err)
	} else {
		h.Close()
	}
	nan := good()
	nan.features = make([]float32, 3*4*2)
	nan.features[4*2+1] = float32(math.NaN()) // clip 1, frame 0
	cases := []struct {
		name string
		mod  func(*h5Layout)
		want string
		kind Kind
	}{
		{"missing features", func(l *h5Layout) { l.skipDataset = "features" }, `missing dataset "features"`, KindFormat},
		{"missing labels", func(l *h5Layout) { l.skipDataset = "labels" }, `missing dataset "labels"`, KindFormat},
		{"missing num_frames", func(l *h5Layout) { l.skipDataset = "num_frames" }, `missing dataset "num_frames"`, KindFormat},
		{"missing category_mapping", func(l *h5Layout) { l.skipAttr = "category_mapping" }, `missing attribute "category_mapping"`, KindFormat},
		{"missing num_videos", func(l *h5Layout) { l.skipAttr = "num_videos" }, `missing attribute "num_videos"`, KindFormat},
		{"mapping int", func(l *h5Layout) { l.mappingInt = true }, `attribute "category_mapping" must be a string`, KindFormat},
		{"feature_dim string", func(l *h5Layout) { l.featureDimString = true }, `attribute "feature_dim" must be an integer`, KindFormat},
		{"labels float", func(l *h5Layout) { l.labelsFloat = true }, "wrong element type (want int64)", KindFormat},
		{"label out of range", func(l *h5Layout) { l.labels[2] = 2 }, "labels[2] = 2 out of range", KindFormat},
		{"negative label", func(l *h5Layout) { l.labels[0] = -1 }, "labels[0] = -1 out of range", KindFormat},
		{"num_frames 0", func(l *h5Layout) { l.numFrames[1] = 0 }, "num_frames[1] = 0 out of range", KindFormat},
		{"num_frames > T", func(l *h5Layout) { l.numFrames[1] = 5 }, "num_frames[1] = 5 out of range", KindFormat},
		{"mismatched N", func(l *h5Layout) { l.labels = l.labels[:2] }, `"labels" has 2 entries, features has 3`, KindFormat},
		{"num_videos wrong", func(l *h5Layout) { l.numVideos = 7 }, "num_videos = 7", KindFormat},
		{"empty", func(l *h5Layout) { l.nFeat, l.labels, l.numFrames, l.numVideos = 0, nil, nil, 0 }, "empty dataset", KindFormat},
	}
	for i, c := range cases {
		l := good()
		c.mod(&l)
		p := filepath.Join(dir, "bad"+string(rune('a'+i))+".h5")
		writeH5Layout(t, p, l)
		_, err := OpenHDF5Dataset(p)
		if err == nil || KindOf(err) != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v (kind %v), want %v containing %q", c.name, err, KindOf(err), c.kind, c.want)
		}
	}
	// NaN features: the file opens; reading the clip is a KindNumeric error naming it.
	p = filepath.Join(dir, "nan.h5")
	writeH5Layout(t, p, nan)
	h, err := OpenHDF5Dataset(p)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	buf := make([]float32, 2*4*2)
	if err := h.ReadClips([]int{0, 1}, 4, buf); KindOf(err) != KindNumeric || !strings.Contains(err.Error(), "clip 1") {
		t.Errorf("NaN clip: err = %v", err)
	}
	// Not HDF5 at all, and a missing file.
	p = filepath.Join(dir, "junk.h5")
	os.WriteFile(p, []byte("not hdf5"), 0o644)
	if _, err := OpenHDF5Dataset(p); KindOf(err) != KindFormat {
		t.Errorf("junk file: %v", err)
	}
	if _, err := OpenHDF5Dataset(filepath.Join(dir, "nope.h5")); KindOf(err) != KindIO {
		t.Errorf("missing file: %v", err)
	}
}
