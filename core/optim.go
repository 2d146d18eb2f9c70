package core

import "math"

// AdamWConfig holds the optimizer's hyperparameters (DESIGN §3: lr 1e-3, weight decay 5e-4 on
// every parameter, betas 0.9/0.999, eps 1e-8). The learning rate of each step comes from the
// schedule; LR here is the base rate η₀.
type AdamWConfig struct {
	LR          float64
	WeightDecay float64
	Beta1       float64
	Beta2       float64
	Eps         float64
}

// DefaultAdamW is the reference recipe's optimizer.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{LR: 1e-3, WeightDecay: 5e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// AdamW is torch.optim.AdamW(foreach=False) over one flat parameter vector (the model's slab).
// ExpAvg and ExpAvgSq are its moments, laid out like the slab; Step counts updates done.
type AdamW struct {
	Cfg      AdamWConfig
	Step     int64
	ExpAvg   []float32
	ExpAvgSq []float32
}

// NewAdamW makes an optimizer with zero moments for n parameters.
func NewAdamW(cfg AdamWConfig, n int) *AdamW {
	return &AdamW{Cfg: cfg, ExpAvg: make([]float32, n), ExpAvgSq: make([]float32, n)}
}

// Update applies one AdamW step with learning rate lr to params using grads. It is DESIGN §3's
// float32 sequence, which equals PyTorch 1.13's _single_tensor_adamw bit for bit:
//
//	p  = p * f32(1 - lr*wd)
//	m  = fma(g, f32(1-b1), m*f32(b1))
//	v  = fma(f32(1-b2)*g, g, v*f32(b2))
//	den = sqrt(v) / f32(sqrt(bc2)) + f32(eps)
//	p  = p + (f32(-lr/bc1) * m) / den
//
// Every float32 product is converted explicitly so that the Go compiler cannot fuse it into an
// FMA where PyTorch rounds twice (the Go spec allows fusion unless a conversion intervenes).
func (o *AdamW) Update(params, grads []float32, lr float64) {
	if len(params) != len(grads) || len(params) != len(o.ExpAvg) || len(params) != len(o.ExpAvgSq) {
		panic("core: AdamW.Update: length mismatch")
	}
	o.Step++
	c := o.Cfg
	t := float64(o.Step)
	bc1 := 1 - math.Pow(c.Beta1, t)
	bc2 := 1 - math.Pow(c.Beta2, t)
	u := adamwUpdate{params: params, grads: grads, m: o.ExpAvg, v: o.ExpAvgSq,
		decay: float32(1 - lr*c.WeightDecay), b1: float32(c.Beta1), omb1: float32(1 - c.Beta1),
		b2: float32(c.Beta2), omb2: float32(1 - c.Beta2), bc2Sqrt: float32(math.Sqrt(bc2)),
		eps: float32(c.Eps), negStep: float32(-lr / bc1)}
	parallelRanges(len(params), 1<<18, u.run)
}

// adamwUpdate is one Update's constants and tensors; run updates elements [lo, hi). Elements
// are independent, so any split over the pool gives the same bits.
type adamwUpdate struct {
	params, grads, m, v                              []float32
	decay, b1, omb1, b2, omb2, bc2Sqrt, eps, negStep float32
}

func (u *adamwUpdate) run(lo, hi int) {
	params, m, v := u.params[lo:hi], u.m[lo:hi], u.v[lo:hi]
	for i, g := range u.grads[lo:hi] {
		p := float32(params[i] * u.decay)
		mi, ok := fma32Fast(g, u.omb1, float32(m[i]*u.b1))
		if !ok {
			mi = fma32Careful(g, u.omb1, float32(m[i]*u.b1))
		}
		vi, ok := fma32Fast(float32(u.omb2*g), g, float32(v[i]*u.b2))
		if !ok {
			vi = fma32Careful(float32(u.omb2*g), g, float32(v[i]*u.b2))
		}
		m[i], v[i] = mi, vi
		den := float32(sqrt32(vi)/u.bc2Sqrt) + u.eps
		params[i] = p + float32(float32(u.negStep*mi)/den)
	}
}

// rangeJob runs f over a fixed split of [0, n) on the pool (parallelRanges).
type rangeJob struct {
	n, parts int
	f        func(lo, hi int)
}

func (j *rangeJob) do(part int) {
	lo, hi := span(j.n, j.parts, part, 64)
	if lo < hi {
		j.f(lo, hi)
	}
}

// parallelRanges calls f on contiguous ranges covering [0, n), of at least minPer elements
// each, on the pool. For elementwise work only: the split depends on the thread setting.
func parallelRanges(n, minPer int, f func(lo, hi int)) {
	var c poolCall
	j := rangeJob{n: n, parts: partsFor(n, minPer, NumThreads()), f: f}
	c.run(j.parts, &j)
}

// sqrt32 is the correctly rounded float32 square root (the float64 root of a float32 rounds to
// the same float32: 53 ≥ 2·24 + 2).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// fma32 is a correctly rounded float32 fused multiply-add a·b + c. The product of two float32 is
// exact in float64; the float64 sum s = RN(a·b + c) can only round differently from the exact
// value's float32 rounding when s lands exactly on a float32 midpoint, and then the sign of the
// sum's rounding error (TwoSum) says which way the exact value lies.
func fma32(a, b, c float32) float32 {
	if r, ok := fma32Fast(a, b, c); ok {
		return r
	}
	return fma32Careful(a, b, c)
}

// fma32Fast is fma32's fast path (inlined into the hot loops): s = RN64(a·b + c) (the product is
// exact in float64, fused or not) rounds to the exact value's float32 rounding unless s is
// exactly a float32 rounding midpoint (the low 29 bits of a normal float32-range s are then 1
// followed by zeros): a midpoint strictly between the exact value and s would be a float64
// nearer the exact value than s. Below float32's normal range the midpoints sit elsewhere: ok
// is false there and at midpoints, and fma32Careful decides.
func fma32Fast(a, b, c float32) (r float32, ok bool) {
	s := float64(a)*float64(b) + float64(c)
	u := math.Float64bits(s)
	return float32(s), u&(1<<29-1) != 1<<28 && u&(1<<63-1) >= 0x3810000000000000 // |s| ≥ 2⁻¹²⁶
}

// fma32Careful is fma32 for every input: s's rounding error (TwoSum) decides at a midpoint.
func fma32Careful(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact
	cf := float64(c)
	s := p + cf
	// TwoSum: e = (p + c) - s exactly.
	bb := s - p
	e := (p - (s - bb)) + (cf - bb)
	r := float32(s)
	if e == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return r
	}
	// Is s exactly halfway between two float32 values? Then round by the sign of e.
	rd := float64(r)
	var other float32
	if rd > s {
		other = math.Nextafter32(r, float32(math.Inf(-1)))
	} else if rd < s {
		other = math.Nextafter32(r, float32(math.Inf(1)))
	} else {
		return r // s is a float32 value; the exact sum rounds to it
	}
	od := float64(other)
	if (rd+od)/2 != s {
		return r
	}
	// Midpoint: the exact value lies on e's side of s.
	if (e > 0) == (od > rd) {
		return other
	}
	return r
}
