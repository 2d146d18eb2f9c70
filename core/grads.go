package core

// Grads holds one gradient per parameter, in one slab with the layout of Model.Slab() (PyTorch
// state_dict order), so the optimizer and the clipping norm see one vector.
type Grads struct {
	Slab  []float32
	model *Model
	w     *weights[float32] // typed views of Slab, bound on first use
	bw    backwardScratch[float32]
}

// NewGrads allocates zero gradients shaped like m's parameters.
func NewGrads(m *Model) *Grads {
	return &Grads{Slab: make([]float32, len(m.slab)), model: m}
}

// Param returns the gradient of the named state_dict tensor (a window into Slab), or nil.
func (g *Grads) Param(name string) []float32 {
	if g.model == nil {
		return nil
	}
	i, ok := g.model.index[name]
	if !ok {
		return nil
	}
	return g.Slab[g.model.paramOffset(i):][:len(g.model.params[i].Data)]
}

// Params lists the gradients as tensors in state_dict order (Data are windows into Slab), e.g.
// for the per-tensor norms of gradient clipping. Nil until bound to a model.
func (g *Grads) Params() []Param {
	if g.model == nil {
		return nil
	}
	out := make([]Param, len(g.model.params))
	off := 0
	for i, p := range g.model.params {
		n := len(p.Data)
		out[i] = Param{ParamSpec: p.ParamSpec, Data: g.Slab[off : off+n : off+n]}
		off += n
	}
	return out
}

// Zero sets every gradient to 0.
func (g *Grads) Zero() { clear(g.Slab) }

// paramOffset is where parameter i starts in the slab.
func (m *Model) paramOffset(i int) int {
	off := 0
	for _, p := range m.params[:i] {
		off += len(p.Data)
	}
	return off
}
