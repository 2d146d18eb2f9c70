package core

import "libtemporal/kernels"

// The LSTM layers' backward over the whole batch (issue 5's training step). The per-step work
// (cell backward, dh = dgates·W_hh for the active clips) stays a loop over steps; everything
// else is done as products over every valid row of the batch at once, in a packed row order —
// clip 0's steps 0…n₀−1, then clip 1's, … (pos[b] = Σ_{b'<b} n_b') — so that no product wastes
// work on padding rows and OpenBLAS packs each weight once per layer instead of once per clip:
//
//	dW_ih += dgatesᵀ · in          [4H, inW]   over N = Σ n_b rows
//	dW_hh += dgatesᵀ · h_prev      [4H, H]     h_prev = h_{t−1} (forward) or h_{t+1} (reverse), 0 at a clip's first step
//	din    = Σ_dir dgates_dir · W_ih_dir
//
// The directions run concurrently on the pool (parts over directions: the step loop and the
// weight gradients of one direction), then din (parts over a fixed split of the packed rows).
// Both partitions depend only on the shapes, so results do not depend on the thread setting.

// backwardScratch holds what the backward needs beyond the forward's workspace. The float32
// path keeps it in Grads (one training step at a time per Grads), so steady-state steps allocate
// nothing; the float64 path makes a fresh one.
type backwardScratch[T Float] struct {
	pos          []int // [B+1] packed row offset of each clip in the LSTM (Σ n_b')
	apos         []int // [B+1] the same for attention's rows (ws.rows: n_b masked, Tp reference)
	dh, dc, drec []T   // per direction: [B, H], [B, H], [B, 4H] recurrent state in sorted order
	lstm         lstmBackwardJob[T]
	pair         gemmPairJob[T]
}

func (bs *backwardScratch[T]) ensure(cfg Config, lb *lstmBatch) {
	H, dirs, B := cfg.HiddenDim, cfg.Directions(), lb.B
	grow(&bs.pos, B+1)
	grow(&bs.dh, dirs*B*H)
	grow(&bs.dc, dirs*B*H)
	grow(&bs.drec, dirs*B*4*H)
	packedOffsets(bs.pos, lb)
}

// packedOffsets fills pos[b] = Σ_{b'<b} n_b' for b ≤ B.
func packedOffsets(pos []int, lb *lstmBatch) {
	pos[0] = 0
	for b := 0; b < lb.B; b++ {
		pos[b+1] = pos[b] + lb.n[b]
	}
}

// dhProduct computes dh[a, H] = drec[a, 4H] · W_hh [4H, H]: for float32 on kernels.GemmNN,
// which reads W_hh once for all a rows (OpenBLAS re-packs it on every step), else by gemm.
func dhProduct[T Float](dh, drec, whh []T, H, a int) {
	G := 4 * H
	if d, ok := any(dh).([]float32); ok && useGemmNN &&
		kernels.GemmNN(d, H, any(drec).([]float32), G, any(whh).([]float32), H, a, H, G) {
		return
	}
	gemm(false, false, a, H, G, 1, drec, G, whh, H, 0, dh, H)
}

// useGemmNN enables dhProduct's kernel route; only the A/B benchmark turns it off.
var useGemmNN = true

// lstmBackwardSteps is the step loop of one direction's backward (BPTT over each clip's own
// length). It writes the gate pre-activation gradients into dgates, which may be gates itself
// (each row is read before it is overwritten), and leaves them packed: row pos[b]+t holds
// clip b's step t.
//
//	gates [B, Tp, 4H] activated gates;  cells [B, Tp, H] c_t;  dout [B, Tp, D] (columns off…off+H)
//	dh, dc [B, H], drec [B, 4H] scratch in sorted order
//
// Steps run in the reverse of the forward's order: the forward direction from t = Tp−1 down,
// the reverse direction from t = 0 up; a clip's first forward step (t = 0, or t = n−1 in
// reverse) had zero state, so nothing flows past it.
func lstmBackwardSteps[T Float](w lstmWeights[T], lb *lstmBatch, pos []int, D, off int,
	gates, cells, dout, dgates, dh, dc, drec []T, H int, reverse bool) {
	G := 4 * H
	clear(dh[:lb.B*H])
	clear(dc[:lb.B*H])
	for s := 0; s < lb.Tp; s++ {
		t := lb.Tp - 1 - s
		if reverse {
			t = s
		}
		a := lb.active(t)
		if a == 0 {
			continue
		}
		for r := 0; r < a; r++ {
			b := lb.order[r]
			row := b*lb.Tp + t
			var cPrev []T
			if !reverse && t > 0 {
				cPrev = cells[(row-1)*H : row*H]
			} else if reverse && t < lb.n[b]-1 {
				cPrev = cells[(row+1)*H : (row+2)*H]
			}
			dhr := dh[r*H : r*H+H]
			for j, v := range dout[row*D+off : row*D+off+H] {
				dhr[j] += v
			}
			lstmCellBackward(gates[row*G:row*G+G], cells[row*H:row*H+H], cPrev, dhr, dc[r*H:r*H+H], drec[r*G:r*G+G], H)
			copy(dgates[row*G:row*G+G], drec[r*G:r*G+G])
		}
		// dh_{prev}[a, H] = dgates[a, 4H] · W_hh [4H, H]
		dhProduct(dh, drec, w.whh, H, a)
	}
	// Pack: clip b's rows move down to pos[b] (pos[b] ≤ b·Tp and pos[b+1] ≤ (b+1)·Tp, so no
	// row is overwritten before it has moved).
	for b := 0; b < lb.B; b++ {
		copy(dgates[pos[b]*G:pos[b+1]*G], dgates[b*lb.Tp*G:(b*lb.Tp+lb.n[b])*G])
	}
}

// packRows copies the valid rows of src [B, Tp, width] (row stride ld) into dst [N, width]
// in packed order.
func packRows[T Float](dst []T, src []T, ld, width int, lb *lstmBatch, pos []int) {
	for b := 0; b < lb.B; b++ {
		for t := 0; t < lb.n[b]; t++ {
			s := (b*lb.Tp + t) * ld
			copy(dst[(pos[b]+t)*width:(pos[b]+t+1)*width], src[s:s+width])
		}
	}
}

// lstmBackwardWeights accumulates one direction's weight gradients from its packed dgates
// [N, 4H]: dW_ih += dgatesᵀ · inP (inP [N, inW]: the layer input, packed), the biases, and
// dW_hh += dgatesᵀ · h_prev, with h_prev [N, H] built in hprev from out's columns off…off+H.
func lstmBackwardWeights[T Float](gw lstmWeights[T], lb *lstmBatch, pos []int, inP []T, inW int, out []T, D, off int,
	dgates, hprev []T, H int, reverse bool) {
	G, N := 4*H, pos[lb.B]
	if N == 0 {
		return
	}
	gemmRows(true, false, G, inW, N, 1, dgates, G, inP, inW, 1, gw.wih, inW)
	for r := 0; r < N; r++ {
		for j, v := range dgates[r*G : r*G+G] {
			gw.bih[j] += v
			gw.bhh[j] += v
		}
	}
	// h_prev of step t is h_{t−1} (forward) or h_{t+1} (reverse): zero at a clip's first step.
	for b := 0; b < lb.B; b++ {
		n := lb.n[b]
		for t := 0; t < n; t++ {
			dst := hprev[(pos[b]+t)*H : (pos[b]+t+1)*H]
			src := t - 1
			if reverse {
				src = t + 1
			}
			if src < 0 || src >= n {
				clear(dst)
				continue
			}
			s := (b*lb.Tp+src)*D + off
			copy(dst, out[s:s+H])
		}
	}
	gemmRows(true, false, G, H, N, 1, dgates, G, hprev, H, 1, gw.whh, H)
}

// lstmBackwardInput writes rows [lo, hi) of the packed input gradient dinP [N, inW] =
// Σ_dir dgates_dir · W_ih_dir (dgates_dir packed [N, 4H]).
func lstmBackwardInput[T Float](dinP []T, inW int, w []lstmWeights[T], dgates [][]T, G, lo, hi int) {
	if lo >= hi {
		return
	}
	for d := range w {
		beta := T(0)
		if d > 0 {
			beta = 1
		}
		gemmRows(false, false, hi-lo, inW, G, 1, dgates[d][lo*G:], G, w[d].wih, inW, beta, dinP[lo*inW:], inW)
	}
}

// scatterRows copies packed rows [lo, hi) of src [N, width] to their places in dst [B, Tp, width].
func scatterRows[T Float](dst, src []T, width int, lb *lstmBatch, pos []int, lo, hi int) {
	for b := 0; b < lb.B; b++ {
		a, e := max(pos[b], lo), min(pos[b+1], hi)
		if a >= e {
			continue
		}
		t0 := a - pos[b]
		copy(dst[(b*lb.Tp+t0)*width:(b*lb.Tp+t0+e-a)*width], src[a*width:e*width])
	}
}

// lstmBackwardJob is one layer's backward on the pool: phase lstmBwdDirs, parts over directions
// (step loop with dgates written into that direction's gates buffer, then its weight
// gradients); phase lstmBwdInput, parts over a fixed split of the packed rows (din).
type lstmBackwardJob[T Float] struct {
	w, gw []lstmWeights[T]
	ws    *workspace[T]
	bs    *backwardScratch[T]
	k     int
	inP   []T // [N, inW] the layer input packed; reused for the packed din in phase 2
	inW   int
	dout  []T
	din   []T
	D, H  int
	dirs  int
	dg    [2][]T // per direction: packed dgates (the direction's gates buffer)
	phase int
	parts int
}

const (
	lstmBwdDirs = iota
	lstmBwdInput
)

// lstmBwdRowsPerPart is the smallest share of packed rows one din part takes; at most
// lstmBwdMaxParts parts. Fixed numbers: the partition depends only on the shapes.
const (
	lstmBwdRowsPerPart = 128
	lstmBwdMaxParts    = 4
)

func (j *lstmBackwardJob[T]) do(part int) {
	ws, bs, H, B := j.ws, j.bs, j.H, j.ws.lb.B
	G := 4 * H
	lb := &ws.lb
	if j.phase == lstmBwdInput {
		lo, hi := span(bs.pos[B], j.parts, part, 8)
		lstmBackwardInput(j.inP, j.inW, j.w, j.dg[:j.dirs], G, lo, hi)
		scatterRows(j.din, j.inP, j.inW, lb, bs.pos, lo, hi)
		return
	}
	d := part
	i := j.k*j.dirs + d
	lstmBackwardSteps(j.w[d], lb, bs.pos, j.D, d*H, ws.gates[i], ws.cells[i], j.dout, ws.gates[i],
		bs.dh[d*B*H:(d+1)*B*H], bs.dc[d*B*H:(d+1)*B*H], bs.drec[d*B*G:(d+1)*B*G], H, d == 1)
	// cells is no longer read: it holds h_prev for dW_hh.
	lstmBackwardWeights(j.gw[d], lb, bs.pos, j.inP, j.inW, ws.layerOut[j.k], j.D, d*H, ws.gates[i],
		ws.cells[i], H, d == 1)
}

// run does the layer: directions, then din (packed in inP, scattered into din's valid rows).
func (j *lstmBackwardJob[T]) run(c *poolCall) {
	for d := 0; d < j.dirs; d++ {
		j.dg[d] = j.ws.gates[j.k*j.dirs+d]
	}
	j.phase = lstmBwdDirs
	c.run(j.dirs, j)
	N := j.bs.pos[j.ws.lb.B]
	j.phase = lstmBwdInput
	j.parts = min(lstmBwdMaxParts, max(1, N/lstmBwdRowsPerPart))
	c.run(j.parts, j)
}
