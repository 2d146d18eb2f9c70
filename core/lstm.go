package core

import "libtemporal/kernels"

// lstmWeights are one direction of one nn.LSTM layer: weight_ih [4H, in], weight_hh [4H, H],
// bias_ih and bias_hh [4H]; gate rows in PyTorch's order i, f, g, o. whh16, when not nil, is
// W_hh rounded to bfloat16 in kernels.PackBF16's layout (the opt-in PrecisionBF16Recurrent
// inference weights, precision.go); the recurrence then reads it instead of whh.
type lstmWeights[T Float] struct {
	wih, whh, bih, bhh []T
	whh16              []uint16
}

// lstmBatch describes a padded batch in the packed-sequence sense: clip b has n[b] valid steps
// of Tp, and order lists the clips by decreasing length (ties by index), so the clips still
// active at any step are a prefix of order — the recurrent product runs on that prefix only.
type lstmBatch struct {
	B, Tp int
	n     []int
	order []int
}

// active is how many clips have a step t (n[b] > t): a prefix of order.
func (lb *lstmBatch) active(t int) int {
	a := 0
	for a < lb.B && lb.n[lb.order[a]] > t {
		a++
	}
	return a
}

// lstmDirectionForward runs one direction of one layer with packed semantics.
//
//	in     [B, Tp, inW]   layer input (rows past a clip's length are ignored)
//	out    [B, Tp, D]     this direction writes columns off..off+H of valid rows
//	gates  [B, Tp, 4H]    scratch; holds the activated gates i, f, g, o afterwards (for backward)
//	cells  [B, Tp, H]     cell state after each valid step (for backward)
//	h, c   [B, H]         recurrent state in sorted order; rec [B, 4H] scratch
//
// The forward direction runs steps 0..n−1; the reverse starts at each clip's own step n−1 from
// zero state, as pack_padded_sequence does. Only valid rows of out are written.
func lstmDirectionForward[T Float](w lstmWeights[T], lb *lstmBatch, in []T, inW int, out []T, D, off int,
	gates, cells, h, c, rec []T, H int, reverse bool) {
	lstmInputProduct(w, lb, in, inW, gates, 4*H, 0, 4*H)
	lstmRecurrence(w, lb, out, D, off, gates, cells, h, c, rec, H, reverse)
}

// lstmInputProduct writes columns [lo, hi) of gates' valid rows: the input product for every
// valid step at once, both biases folded in (gates[row, j] = b_ih[j] + b_hh[j] + in[row]·W_ih[j]).
// Column ranges are independent, so the forward can split them over the pool.
func lstmInputProduct[T Float](w lstmWeights[T], lb *lstmBatch, in []T, inW int, gates []T, G, lo, hi int) {
	if lo >= hi {
		return
	}
	for b := 0; b < lb.B; b++ {
		rows := lb.n[b]
		g := gates[b*lb.Tp*G : (b*lb.Tp+rows)*G]
		for r := 0; r < rows; r++ {
			row := g[r*G+lo : r*G+hi]
			for j := range row {
				row[j] = w.bih[lo+j] + w.bhh[lo+j]
			}
		}
		gemm(false, true, rows, hi-lo, inW, 1, in[b*lb.Tp*inW:], inW, w.wih[lo*inW:], inW, 1, g[lo:], G)
	}
}

// lstmRecurrence is the step loop of lstmDirectionForward, after lstmInputProduct filled gates.
func lstmRecurrence[T Float](w lstmWeights[T], lb *lstmBatch, out []T, D, off int,
	gates, cells, h, c, rec []T, H int, reverse bool) {
	G := 4 * H
	clear(h[:lb.B*H])
	clear(c[:lb.B*H])
	for s := 0; s < lb.Tp; s++ {
		t := s
		if reverse {
			t = lb.Tp - 1 - s
		}
		a := lb.active(t)
		if a == 0 {
			continue
		}
		recurrentStep(rec, w.whh, w.whh16, G, H, h, a)
		for r := 0; r < a; r++ {
			b := lb.order[r]
			row := (b*lb.Tp + t)
			cellStep(gates[row*G:row*G+G], rec[r*G:r*G+G], c[r*H:r*H+H], h[r*H:r*H+H], H)
			copy(cells[row*H:row*H+H], c[r*H:r*H+H])
			copy(out[row*D+off:row*D+off+H], h[r*H:r*H+H])
		}
	}
}

// lstmCell: gates (input part, in) + rec → activated i, f, g, o (written back into gates);
// c = f·c + i·g; h = o·tanh(c).
func lstmCell[T Float](gates, rec, c, h []T, H int) {
	gi, gf, gg, gO := gates[0:H], gates[H:2*H], gates[2*H:3*H], gates[3*H:4*H]
	ri, rf, rg, ro := rec[0:H], rec[H:2*H], rec[2*H:3*H], rec[3*H:4*H]
	for j := 0; j < H; j++ {
		i := sigmoid(gi[j] + ri[j])
		f := sigmoid(gf[j] + rf[j])
		g := tanh(gg[j] + rg[j])
		o := sigmoid(gO[j] + ro[j])
		cj := f*c[j] + i*g
		c[j] = cj
		h[j] = o * tanh(cj)
		gi[j], gf[j], gg[j], gO[j] = i, f, g, o
	}
}

// lstmDirectionBackward is the backward of lstmDirectionForward for one direction on its own
// (the layer-wide, two-direction version is lstmBackwardJob), accumulating into gw and din.
//
//	in     [B, Tp, inW]   the layer input the forward read
//	out    [B, Tp, D]     the forward's output: columns off..off+H hold h_t (h_{t∓1} for dW_hh)
//	gates  [B, Tp, 4H]    activated gates i, f, g, o;  cells [B, Tp, H]  c_t
//	dout   [B, Tp, D]     gradient of out (columns off..off+H of valid rows are read)
//	din    [B, Tp, inW]   += gradient of in (valid rows)
//	dgates [B, Tp, 4H]    scratch: gradients of the gate pre-activations
//	dh, dc [B, H], drec [B, 4H]  scratch recurrent state in sorted order
func lstmDirectionBackward[T Float](w, gw lstmWeights[T], lb *lstmBatch, in []T, inW int, out []T, D, off int,
	gates, cells, dout, din, dgates, dh, dc, drec []T, H int, reverse bool) {
	pos := make([]int, lb.B+1)
	packedOffsets(pos, lb)
	N := pos[lb.B]
	lstmBackwardSteps(w, lb, pos, D, off, gates, cells, dout, dgates, dh, dc, drec, H, reverse)
	inP := make([]T, N*inW)
	packRows(inP, in, inW, inW, lb, pos)
	lstmBackwardWeights(gw, lb, pos, inP, inW, out, D, off, dgates, make([]T, N*H), H, reverse)
	dinP := make([]T, N*inW)
	lstmBackwardInput(dinP, inW, []lstmWeights[T]{w}, [][]T{dgates}, 4*H, 0, N)
	for b := 0; b < lb.B; b++ {
		for t := 0; t < lb.n[b]; t++ {
			row, p := (b*lb.Tp+t)*inW, (pos[b]+t)*inW
			for j, v := range dinP[p : p+inW] {
				din[row+j] += v
			}
		}
	}
}

// useTanhKernel enables lstmCellBackward's vector tanh; only the A/B benchmark turns it off.
var useTanhKernel = true

// lstmCellBackward: from dh (gradient of h_t, recurrent part included) and dc (gradient of c_t
// from the next step) writes dg [4H], the gradients of the gate pre-activations, and replaces
// dc with the gradient of c_{t−1}. cPrev nil means zero initial state. tanh(c_t) is computed
// first into dg's i part (each value is read before it is overwritten): for float32 by the
// kernels' vector tanh (≤ 1 ulp), which is the cost of this function otherwise.
func lstmCellBackward[T Float](gates, c, cPrev, dh, dc, dg []T, H int) {
	gi, gf, gg, gO := gates[0:H], gates[H:2*H], gates[2*H:3*H], gates[3*H:4*H]
	dgi, dgf, dgg, dgo := dg[0:H], dg[H:2*H], dg[2*H:3*H], dg[3*H:4*H]
	c, dh, dc = c[:H], dh[:H], dc[:H]
	tcs := dgi
	if t32, ok := any(tcs).([]float32); ok && useTanhKernel {
		kernels.Tanh(t32, any(c).([]float32))
	} else {
		for j, v := range c {
			tcs[j] = tanh(v)
		}
	}
	for j := 0; j < H; j++ {
		i, f, g, o := gi[j], gf[j], gg[j], gO[j]
		tc := tcs[j]
		dcj := dc[j] + dh[j]*o*(1-tc*tc)
		var cp T
		if cPrev != nil {
			cp = cPrev[j]
		}
		dgi[j] = dcj * g * i * (1 - i)
		dgf[j] = dcj * cp * f * (1 - f)
		dgg[j] = dcj * i * (1 - g*g)
		dgo[j] = dh[j] * tc * o * (1 - o)
		dc[j] = dcj * f
	}
}
