package core

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// CheckpointFormatVersion is the format_version our checkpoints carry.
const CheckpointFormatVersion = "1"

// DefaultNumHeads is the head count assumed for a file without metadata (the reference model's).
const DefaultNumHeads = 12

// DefaultDropout is the dropout assumed for a file that does not record one (the reference's).
const DefaultDropout = 0.4

// LoadOptions controls how a checkpoint is read.
type LoadOptions struct {
	// NumHeads overrides the attention head count. 0 takes it from the file's metadata, else 12
	// (a PyTorch state_dict file carries no head count, and the weights do not determine it).
	NumHeads int
}

// LoadFile reads a safetensors checkpoint (ours, or a PyTorch state_dict written by
// safetensors.torch.save_file) into a new model. Each tensor is read with ReadAt straight into
// its place in the model's slab; the file is never held in memory a second time.
func LoadFile(path string, opt LoadOptions) (*Model, error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer appears (the
	// caller's thread hung forever on temporal_model_load of a FIFO). It changes nothing for
	// regular files, and anything else is refused below before a read.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, Wrap(KindIO, err, "load checkpoint")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Wrap(KindIO, err, "load checkpoint %s", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, Errf(KindIO, "load checkpoint %s: not a regular file", path)
	}
	m, err := loadCheckpoint(f, fi.Size(), opt)
	if err != nil {
		return nil, Wrap(KindOf(err), err, "load checkpoint %s", path)
	}
	return m, nil
}

// LoadBytes reads a safetensors checkpoint held in memory into a new model.
func LoadBytes(data []byte, opt LoadOptions) (*Model, error) {
	m, err := loadCheckpoint(bytes.NewReader(data), int64(len(data)), opt)
	if err != nil {
		return nil, Wrap(KindOf(err), err, "load checkpoint")
	}
	return m, nil
}

func loadCheckpoint(r io.ReaderAt, size int64, opt LoadOptions) (*Model, error) {
	if opt.NumHeads < 0 {
		return nil, Errf(KindInvalidArgument, "LoadOptions.NumHeads = %d must be ≥ 0", opt.NumHeads)
	}
	h, start, err := readSafetensorsPrefix(r, size)
	if err != nil {
		return nil, err
	}
	if v, ok := h.Metadata["format_version"]; ok && v != CheckpointFormatVersion {
		return nil, Errf(KindUnsupported, "checkpoint format_version %q (this library reads %q)", v, CheckpointFormatVersion)
	}
	cfg, err := checkpointConfig(h, opt)
	if err != nil {
		return nil, err
	}
	// The tensor set is checked before allocating: the model then occupies no more memory than
	// the file's own data section.
	specs := cfg.ParamSpecs()
	for _, s := range specs {
		e, ok := h.entry(s.Name)
		if !ok {
			return nil, Errf(KindFormat, "tensor %s is missing", s.Name)
		}
		if e.DType != "F32" {
			return nil, Errf(KindFormat, "tensor %s is %s, expected F32", s.Name, e.DType)
		}
		if !equalShape(e.Shape, s.Shape) {
			return nil, Errf(KindFormat, "tensor %s has shape %v, expected %v", s.Name, e.Shape, s.Shape)
		}
	}
	if len(h.Entries) != len(specs) {
		want := make(map[string]bool, len(specs))
		for _, s := range specs {
			want[s.Name] = true
		}
		for _, e := range h.Entries {
			if !want[e.Name] {
				return nil, Errf(KindFormat, "unexpected tensor %s", e.Name)
			}
		}
	}
	m, err := NewModel(cfg)
	if err != nil {
		return nil, err
	}
	for _, p := range m.params {
		e, _ := h.entry(p.Name)
		if len(p.Data) == 0 {
			continue
		}
		if _, err := r.ReadAt(bytesOf(p.Data), start+e.Begin); err != nil {
			return nil, Wrap(KindIO, err, "reading tensor %s", p.Name)
		}
	}
	if want, ok := h.Metadata["sha256"]; ok {
		sum := sha256.New()
		for _, e := range h.Entries { // data-section order
			sum.Write(bytesOf(m.Param(e.Name)))
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != strings.ToLower(want) {
			return nil, Errf(KindFormat, "data section SHA-256 %s does not match the recorded %s (file corrupted)", got, want)
		}
	}
	// A NaN weight would make every prediction NaN: refuse it at load, as KindNumeric (the file is
	// well-formed; its numbers are not usable).
	if err := m.CheckFinite(); err != nil {
		return nil, err
	}
	return m, nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkpointConfig derives the model config: sizes inferred from the tensor shapes, then
// overridden by the metadata (temporal_config, else the flat keys), heads from the option.
func checkpointConfig(h *stHeader, opt LoadOptions) (Config, error) {
	cfg, err := inferConfig(h)
	if err != nil {
		return cfg, err
	}
	md := h.Metadata
	if tc, ok := md["temporal_config"]; ok {
		var c Config
		if err := json.Unmarshal([]byte(tc), &c); err != nil {
			return cfg, Wrap(KindFormat, err, "metadata temporal_config")
		}
		if c.NumHeads == 0 {
			c.NumHeads = cfg.NumHeads
		}
		if c.ClassifierWidths == nil {
			c.ClassifierWidths = cfg.ClassifierWidths
		}
		cfg = c
	} else if md != nil {
		ints := []struct {
			keys []string
			dst  *int
		}{
			{[]string{"feature_dim", "input_dim"}, &cfg.FeatureDim},
			{[]string{"hidden_dim"}, &cfg.HiddenDim},
			{[]string{"num_layers"}, &cfg.NumLayers},
			{[]string{"num_heads"}, &cfg.NumHeads},
			{[]string{"num_classes"}, &cfg.NumClasses},
		}
		for _, f := range ints {
			for _, k := range f.keys {
				if v, ok := md[k]; ok {
					n, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil {
						return cfg, Errf(KindFormat, "metadata %s = %q is not an integer", k, v)
					}
					*f.dst = n
					break
				}
			}
		}
		if v, ok := md["bidirectional"]; ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return cfg, Errf(KindFormat, "metadata bidirectional = %q is not a boolean", v)
			}
			cfg.Bidirectional = b
		}
		if v, ok := md["dropout"]; ok {
			d, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return cfg, Errf(KindFormat, "metadata dropout = %q is not a number", v)
			}
			cfg.Dropout = d
		}
		if v, ok := md["class_names"]; ok {
			var names []string
			if err := json.Unmarshal([]byte(v), &names); err != nil {
				return cfg, Wrap(KindFormat, err, "metadata class_names is not a JSON list of strings")
			}
			cfg.ClassNames = names
		}
	}
	if len(cfg.ClassNames) == 0 {
		cfg.ClassNames = nil
	}
	headsFrom := "metadata"
	if opt.NumHeads > 0 {
		cfg.NumHeads, headsFrom = opt.NumHeads, "LoadOptions.NumHeads"
	} else if cfg.NumHeads == 0 {
		cfg.NumHeads, headsFrom = DefaultNumHeads, "the default (the file records none)"
	}
	// Sizes are checked before NumParams, so NumParams cannot overflow; a well-formed config too
	// large to allocate is KindOutOfMemory, anything else about it is a bad file.
	if err := cfg.Validate(); err != nil {
		if sizesInRange(cfg) && cfg.NumParams() > MaxParamCount {
			return cfg, Wrap(KindOutOfMemory, err, "checkpoint")
		}
		if cfg.NumHeads >= 1 && cfg.D() >= 2 && cfg.D()%cfg.NumHeads != 0 {
			kind := KindFormat
			if headsFrom != "metadata" {
				kind = KindInvalidArgument
			}
			return cfg, Errf(kind, "num_heads %d from %s does not divide D = %d; give the head count explicitly", cfg.NumHeads, headsFrom, cfg.D())
		}
		return cfg, Wrap(KindFormat, err, "checkpoint config")
	}
	return cfg, nil
}

// sizesInRange reports whether every size is within the per-dimension limits, so that
// NumParams cannot overflow.
func sizesInRange(c Config) bool {
	in := func(v, hi int) bool { return v >= 1 && v <= hi }
	ok := in(c.FeatureDim, MaxDim) && in(c.HiddenDim, MaxDim) && in(c.NumLayers, MaxLayers) &&
		in(c.NumClasses, MaxClasses) && in(len(c.ClassifierWidths), MaxLayers)
	for _, w := range c.ClassifierWidths {
		ok = ok && in(w, MaxDim)
	}
	return ok
}

// inferConfig reads every size from the tensor shapes, as a PyTorch state_dict file requires:
// F and H from input_projection.0.weight [H, F], L by counting lstm.weight_ih_l{k},
// bidirectional by the presence of _reverse tensors, classifier widths from classifier.{4i}.weight
// and C from the last of them. Heads and dropout are not in the weights: 0 and 0.4 here.
func inferConfig(h *stHeader) (Config, error) {
	var cfg Config
	shape2 := func(name string) ([]int, error) {
		e, ok := h.entry(name)
		if !ok {
			return nil, Errf(KindFormat, "tensor %s is missing", name)
		}
		if len(e.Shape) != 2 {
			return nil, Errf(KindFormat, "tensor %s has shape %v, expected 2 dimensions", name, e.Shape)
		}
		return e.Shape, nil
	}
	s, err := shape2("input_projection.0.weight")
	if err != nil {
		return cfg, err
	}
	cfg.HiddenDim, cfg.FeatureDim = s[0], s[1]
	for cfg.NumLayers <= MaxLayers {
		if _, ok := h.entry(fmt.Sprintf("lstm.weight_ih_l%d", cfg.NumLayers)); !ok {
			break
		}
		cfg.NumLayers++
	}
	_, cfg.Bidirectional = h.entry("lstm.weight_ih_l0_reverse")
	var outs []int
	for i := 0; i <= MaxLayers+1; i++ {
		name := fmt.Sprintf("classifier.%d.weight", 4*i)
		if _, ok := h.entry(name); !ok {
			break
		}
		s, err := shape2(name)
		if err != nil {
			return cfg, err
		}
		outs = append(outs, s[0])
	}
	if len(outs) < 2 {
		return cfg, Errf(KindFormat, "tensor classifier.%d.weight is missing (the classifier needs at least 2 Linear layers)", 4*len(outs))
	}
	cfg.NumClasses = outs[len(outs)-1]
	cfg.ClassifierWidths = outs[:len(outs)-1]
	cfg.Dropout = DefaultDropout
	return cfg, nil
}

// checkpointMetadata is the metadata our checkpoints carry (DESIGN §4): all strings.
func (m *Model) checkpointMetadata() (map[string]string, error) {
	c := m.Config()
	if c.ClassNames == nil {
		c.ClassNames = []string{}
	}
	tc, err := json.Marshal(c)
	if err != nil {
		return nil, Wrap(KindInternal, err, "encoding config")
	}
	names, _ := json.Marshal(c.ClassNames)
	sum := sha256.Sum256(bytesOf(m.slab))
	return map[string]string{
		"temporal_config": string(tc),
		"feature_dim":     strconv.Itoa(c.FeatureDim),
		"hidden_dim":      strconv.Itoa(c.HiddenDim),
		"num_layers":      strconv.Itoa(c.NumLayers),
		"num_heads":       strconv.Itoa(c.NumHeads),
		"num_classes":     strconv.Itoa(c.NumClasses),
		"bidirectional":   strconv.FormatBool(c.Bidirectional),
		"dropout":         strconv.FormatFloat(c.Dropout, 'g', -1, 64),
		"class_names":     string(names),
		"format_version":  CheckpointFormatVersion,
		"sha256":          hex.EncodeToString(sum[:]),
	}, nil
}

// tensors lists the parameters as F32 tensors in state_dict order, viewing the slab (no copy).
// In this order the data section is exactly the slab's bytes.
func (m *Model) tensors() []Tensor {
	ts := make([]Tensor, len(m.params))
	for i, p := range m.params {
		ts[i] = F32Tensor(p.Name, p.Data, p.Shape...)
	}
	return ts
}

// WriteSafetensorsTo writes the checkpoint to w.
func (m *Model) WriteSafetensorsTo(w io.Writer) error {
	md, err := m.checkpointMetadata()
	if err != nil {
		return err
	}
	return WriteSafetensors(w, m.tensors(), md)
}

// SaveFile writes the model as a safetensors checkpoint atomically: temp file in the same
// directory, fsync, rename, fsync of the directory.
func (m *Model) SaveFile(path string) error {
	return WriteFileAtomic(path, m.WriteSafetensorsTo)
}

// MarshalSafetensors returns the checkpoint file's bytes.
func (m *Model) MarshalSafetensors() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(m.slab)*4 + 4096 + 128*len(m.params))
	if err := m.WriteSafetensorsTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
