package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Param is one state_dict tensor: its spec and its data, a window into the model's slab.
type Param struct {
	ParamSpec
	Data []float32
}

// Model holds a configuration and its parameters in one contiguous slab (PyTorch state_dict
// order), so checkpoints read straight into place and the optimizer sees one vector.
//
// Forward may run from many goroutines at once; anything that writes parameters (training,
// loading into an existing model) must be excluded by the caller (capi uses a read-write lock).
type Model struct {
	cfg    Config
	slab   []float32
	params []Param
	index  map[string]int

	w32    *weights[float32] // typed views of the slab, bound once
	wsMu   sync.Mutex
	wsFree []*workspace[float32] // free list of forward workspaces (DESIGN: no sync.Pool, no per-call alloc)

	prec atomic.Pointer[precisionState] // nil: float32 inference; else the bf16 mode's weights (precision.go)
}

// NewModel allocates a model with all parameters zero. The config is validated first, so the
// allocation size is bounded.
func NewModel(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &Error{Kind: KindInvalidArgument, Err: err}
	}
	cfg.ClassifierWidths = append([]int(nil), cfg.ClassifierWidths...)
	cfg.ClassNames = append([]string(nil), cfg.ClassNames...)
	specs := cfg.ParamSpecs()
	n := cfg.NumParams()
	if int64(int(n)) != n {
		return nil, Errf(KindOutOfMemory, "model of %d parameters does not fit in memory", n)
	}
	m := &Model{cfg: cfg, slab: make([]float32, n), index: make(map[string]int, len(specs))}
	off := int64(0)
	for i, s := range specs {
		sz := s.Size()
		m.params = append(m.params, Param{ParamSpec: s, Data: m.slab[off : off+sz : off+sz]})
		m.index[s.Name] = i
		off += sz
	}
	if off != n {
		panic(fmt.Sprintf("core: parameter layout %d != count %d", off, n))
	}
	m.w32 = bindWeights(cfg, m.Param)
	return m, nil
}

// NewModelInit allocates a model and initialises it as DESIGN §2 says (PyTorch's distributions,
// not its random stream), deterministically from seed.
func NewModelInit(cfg Config, seed uint64) (*Model, error) {
	m, err := NewModel(cfg)
	if err != nil {
		return nil, err
	}
	m.Init(seed)
	return m, nil
}

// Init re-initialises every parameter from seed: xavier-uniform for every Linear weight and
// in_proj_weight (over the whole [3D, D]), zero biases, LayerNorm 1/0, LSTM U(±1/√H).
func (m *Model) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x7e3a0a1c5b9d2f41))
	uniform := func(d []float32, bound float64) {
		for i := range d {
			d[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	lstmBound := 1 / math.Sqrt(float64(m.cfg.HiddenDim))
	for _, p := range m.params {
		switch {
		case len(p.Name) > 5 && p.Name[:5] == "lstm.":
			uniform(p.Data, lstmBound)
		case len(p.Shape) == 2: // Linear weight or in_proj_weight: [out, in]
			uniform(p.Data, math.Sqrt(6/float64(p.Shape[0]+p.Shape[1])))
		case isLayerNormWeight(m, p.Name):
			for i := range p.Data {
				p.Data[i] = 1
			}
		default:
			clear(p.Data)
		}
	}
}

// isLayerNormWeight reports whether name is the weight of a LayerNorm (1-D weight).
func isLayerNormWeight(m *Model, name string) bool {
	p := m.params[m.index[name]]
	return len(p.Shape) == 1 && len(name) > 7 && name[len(name)-7:] == ".weight"
}

// Config returns a copy of the model's configuration.
func (m *Model) Config() Config {
	c := m.cfg
	c.ClassifierWidths = append([]int(nil), c.ClassifierWidths...)
	c.ClassNames = append([]string(nil), c.ClassNames...)
	return c
}

// SetClassNames replaces the class names (nil clears them).
func (m *Model) SetClassNames(names []string) error {
	if len(names) != 0 && len(names) != m.cfg.NumClasses {
		return Errf(KindInvalidArgument, "%d class names for %d classes", len(names), m.cfg.NumClasses)
	}
	m.cfg.ClassNames = append([]string(nil), names...)
	return nil
}

// Params lists the parameters in state_dict order. The Data slices alias the model.
func (m *Model) Params() []Param { return m.params }

// Slab is all parameters as one vector, in state_dict order (aliases the model).
func (m *Model) Slab() []float32 { return m.slab }

// Param returns the data of the named state_dict tensor, or nil.
func (m *Model) Param(name string) []float32 {
	i, ok := m.index[name]
	if !ok {
		return nil
	}
	return m.params[i].Data
}

// CheckFinite reports the first parameter holding a NaN or Inf.
func (m *Model) CheckFinite() error {
	for _, p := range m.params {
		for i, v := range p.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return Errf(KindNumeric, "tensor %s holds a non-finite value (%v) at element %d", p.Name, v, i)
			}
		}
	}
	return nil
}
