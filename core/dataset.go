package core

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Dataset is a set of labelled clips in the reference layout (DESIGN §4): features [N, T_max, F]
// float32 zero-padded, labels int64 [N], num_frames int32 [N], class names by index. Labels and
// lengths are small and held in memory; features are read on demand, so a dataset larger than
// memory can be trained on.
type Dataset interface {
	Len() int
	FeatureDim() int
	MaxFrames() int
	NumClasses() int
	Labels() []int64
	Lengths() []int32
	ClassNames() []string
	// ReadClips copies clips idx into dst [len(idx), T, F]: each clip's own num_frames frames,
	// zeros after them (padding frames in the file are never read). T ≥ every clip's length.
	// A non-finite feature value is a KindNumeric error naming the clip.
	ReadClips(idx []int, T int, dst []float32) error
	Close() error
}

// Limits on a dataset file's declared sizes, checked before anything is allocated or read: an
// HDF5 file of a few KB can declare [2^40, T, F] datasets (chunked storage that was never
// written reads as fill values), and reading its labels alone would exhaust memory, which ends
// the process. 2^28 clips (3 GiB of labels and lengths) and 2^28 values per clip (1 GiB) are far
// beyond any real video dataset.
const (
	MaxDatasetClips     = 1 << 28
	MaxDatasetClipElems = 1 << 28
)

// MemDataset is a Dataset held in memory (generated data, the C/Python API, .npy conversion).
type MemDataset struct {
	Features []float32 // [N, T, F]
	Labels_  []int64
	Lengths_ []int32
	T, F     int
	Classes  []string // length C
}

// NewMemDataset validates the arrays and wraps them (no copy). classNames gives C; nil means
// C = max(label)+1 with names "0", "1", ….
func NewMemDataset(features []float32, labels []int64, lengths []int32, T, F int, classNames []string) (*MemDataset, error) {
	N := len(labels)
	if N == 0 {
		return nil, Errf(KindInvalidArgument, "dataset: empty (no clips)")
	}
	if T < 1 || F < 1 || T > MaxFrames || F > MaxDim {
		return nil, Errf(KindShape, "dataset: frames %d or feature_dim %d out of range", T, F)
	}
	if int64(len(features)) != int64(N)*int64(T)*int64(F) {
		return nil, Errf(KindShape, "dataset: features hold %d values, want N·T·F = %d·%d·%d", len(features), N, T, F)
	}
	if len(lengths) != N {
		return nil, Errf(KindShape, "dataset: %d lengths for %d labels", len(lengths), N)
	}
	if classNames == nil {
		var mx int64
		for _, y := range labels {
			mx = max(mx, y)
		}
		if mx+1 < 2 {
			mx = 1
		}
		if mx >= MaxClasses {
			return nil, Errf(KindInvalidArgument, "dataset: label %d out of range", mx)
		}
		for c := int64(0); c <= mx; c++ {
			classNames = append(classNames, fmt.Sprint(c))
		}
	}
	d := &MemDataset{Features: features, Labels_: labels, Lengths_: lengths, T: T, F: F, Classes: classNames}
	if err := validateLabelsLengths(labels, lengths, len(classNames), T); err != nil {
		return nil, err
	}
	return d, nil
}

// validateLabelsLengths checks labels in [0, C) and lengths in [1, T].
func validateLabelsLengths(labels []int64, lengths []int32, C, T int) error {
	if C < 2 {
		return Errf(KindFormat, "dataset: %d classes (need at least 2)", C)
	}
	for i, y := range labels {
		if y < 0 || y >= int64(C) {
			return Errf(KindFormat, "dataset: labels[%d] = %d out of range [0, %d)", i, y, C)
		}
	}
	for i, n := range lengths {
		if n < 1 || int(n) > T {
			return Errf(KindFormat, "dataset: num_frames[%d] = %d out of range [1, %d]", i, n, T)
		}
	}
	return nil
}

func (d *MemDataset) Len() int             { return len(d.Labels_) }
func (d *MemDataset) FeatureDim() int      { return d.F }
func (d *MemDataset) MaxFrames() int       { return d.T }
func (d *MemDataset) NumClasses() int      { return len(d.Classes) }
func (d *MemDataset) Labels() []int64      { return d.Labels_ }
func (d *MemDataset) Lengths() []int32     { return d.Lengths_ }
func (d *MemDataset) ClassNames() []string { return d.Classes }
func (d *MemDataset) Close() error         { return nil }

func (d *MemDataset) ReadClips(idx []int, T int, dst []float32) error {
	F := d.F
	if len(dst) < len(idx)*T*F {
		return Errf(KindShape, "dataset: buffer of %d values for %d clips of %d frames", len(dst), len(idx), T)
	}
	for k, i := range idx {
		if i < 0 || i >= d.Len() {
			return Errf(KindInvalidArgument, "dataset: clip index %d out of range [0, %d)", i, d.Len())
		}
		n := int(d.Lengths_[i])
		if n > T {
			return Errf(KindShape, "dataset: clip %d has %d frames, buffer holds %d", i, n, T)
		}
		src := d.Features[i*d.T*F : i*d.T*F+n*F]
		out := dst[k*T*F : (k+1)*T*F]
		copy(out, src)
		clear(out[n*F:])
		if err := checkFinite(src, fmt.Sprintf("features of clip %d", i)); err != nil {
			return err
		}
	}
	return nil
}

// categoryMapping encodes class names as the reference's JSON {name: index}.
func categoryMapping(names []string) (string, error) {
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[n]; dup {
			return "", Errf(KindInvalidArgument, "dataset: class name %q appears twice", n)
		}
		m[n] = i
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// parseCategoryMapping decodes {name: index} into names by index; indices must be 0..C−1.
func parseCategoryMapping(s string) ([]string, error) {
	var m map[string]int64
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, Wrap(KindFormat, err, "dataset: attribute category_mapping is not a JSON object of name → index")
	}
	names := make([]string, len(m))
	seen := make([]bool, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		if v < 0 || v >= int64(len(m)) || seen[v] {
			return nil, Errf(KindFormat, "dataset: category_mapping index %d of %q is not a permutation of 0..%d", v, k, len(m)-1)
		}
		seen[v] = true
		names[v] = k
	}
	return names, nil
}
