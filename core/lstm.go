package core

// lstmWeights are one direction of one nn.LSTM layer: weight_ih [4H, in], weight_hh [4H, H],
// bias_ih and bias_hh [4H]; gate rows in PyTorch's order i, f, g, o.
type lstmWeights[T Float] struct {
	wih, whh, bih, bhh []T
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
	G := 4 * H
	// Input product for every valid step at once, both biases folded in.
	for b := 0; b < lb.B; b++ {
		rows := lb.n[b]
		g := gates[b*lb.Tp*G : (b*lb.Tp+rows)*G]
		for r := 0; r < rows; r++ {
			row := g[r*G : r*G+G]
			for j := range row {
				row[j] = w.bih[j] + w.bhh[j]
			}
		}
		gemm(false, true, rows, G, inW, 1, in[b*lb.Tp*inW:], inW, w.wih, inW, 1, g, G)
	}
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
		if a == 1 {
			gemv(G, H, 1, w.whh, H, h[:H], 0, rec[:G])
		} else {
			gemm(false, true, a, G, H, 1, h, H, w.whh, H, 0, rec, G)
		}
		for r := 0; r < a; r++ {
			b := lb.order[r]
			row := (b*lb.Tp + t)
			lstmCell(gates[row*G:row*G+G], rec[r*G:r*G+G], c[r*H:r*H+H], h[r*H:r*H+H], H)
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
