//go:build !nocuda

package cuda

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"libtemporal/core"
	"libtemporal/cuda/cu"
	"libtemporal/cuda/kemu"
)

// hostOps emulates the device on the host, so that Model.forward — its buffer layout, strides,
// pointer arithmetic and row-major → column-major product mapping — runs and is checked here,
// without a GPU. Products follow cuBLAS's documented column-major contract (including its
// leading-dimension rules) behind cu.RowMajor, the mapping the real path uses; kernels follow
// kernels.cu loop for loop. Memory is one arena of float32 words; a Ptr is a byte address
// (never 0), every access is bounds-checked against its allocation, and fresh allocations are
// NaN so that a read of anything not written shows in the outputs.
//
// With real set, the kernels are kernels.cu itself run by package kemu (CPU threads emulating
// a block, with the launch shapes of gpuOps) instead of the Go ports below; every allocation is
// then followed by a guard zone that must survive every launch.
type hostOps struct {
	mem    []float32
	allocs [][2]int64 // [start, end) word offsets
	real   bool
}

const guardWords = 64

var guardBits = uint32(0x7fc0dead) // a NaN with a payload no arithmetic produces

func (h *hostOps) checkGuards(kernel string) {
	for _, a := range h.allocs {
		for i := a[1]; i < a[1]+guardWords; i++ {
			if math.Float32bits(h.mem[i]) != guardBits {
				panic(fmt.Sprintf("%s wrote %d words past a %d-word allocation", kernel, i-a[1], a[1]-a[0]))
			}
		}
	}
}

func (h *hostOps) ptr(p cu.Ptr) *float32 {
	if p == 0 {
		return nil
	}
	return &h.mem[h.word(p, 0)]
}

func (h *hostOps) iptr(p cu.Ptr) *int32 { return (*int32)(unsafe.Pointer(h.ptr(p))) }

const hostBase = 1 << 20 // byte address of mem[0]

func (h *hostOps) word(p cu.Ptr, i int64) int64 {
	if p == 0 {
		panic("NULL device pointer")
	}
	w := (int64(p)-hostBase)/4 + i
	for _, a := range h.allocs {
		if (int64(p)-hostBase)/4 >= a[0] && (int64(p)-hostBase)/4 < a[1] {
			if w < a[0] || w >= a[1] {
				panic(fmt.Sprintf("access %d words past a %d-word allocation", w-a[0], a[1]-a[0]))
			}
			return w
		}
	}
	panic(fmt.Sprintf("pointer %#x is in no allocation", uint64(p)))
}

func (h *hostOps) f(p cu.Ptr, i int64) *float32 { return &h.mem[h.word(p, i)] }
func (h *hostOps) i32(p cu.Ptr, i int64) int    { return int(int32(math.Float32bits(*h.f(p, i)))) }

func (h *hostOps) alloc(bytes uint64) (cu.Ptr, error) {
	start := (int64(len(h.mem)) + 63) / 64 * 64
	end := start + int64(bytes+3)/4
	for int64(len(h.mem)) < end {
		h.mem = append(h.mem, float32(math.NaN()))
	}
	for i := 0; i < guardWords; i++ {
		h.mem = append(h.mem, math.Float32frombits(guardBits))
	}
	h.allocs = append(h.allocs, [2]int64{start, end})
	return cu.Ptr(hostBase + 4*start), nil
}

// poison sets every allocation but the first (the weights) to NaN.
func (h *hostOps) poison() {
	for _, a := range h.allocs[1:] {
		for i := a[0]; i < a[1]; i++ {
			h.mem[i] = float32(math.NaN())
		}
	}
}

func (h *hostOps) free(p cu.Ptr) error {
	h.word(p, 0)
	return nil
}

func (h *hostOps) htodF(dst cu.Ptr, src []float32) error {
	for i, v := range src {
		*h.f(dst, int64(i)) = v
	}
	return nil
}

func (h *hostOps) htodI(dst cu.Ptr, src []int32) error {
	for i, v := range src {
		*h.f(dst, int64(i)) = math.Float32frombits(uint32(v))
	}
	return nil
}

func (h *hostOps) dtohF(dst []float32, src cu.Ptr) error {
	for i := range dst {
		dst[i] = *h.f(src, int64(i))
	}
	return nil
}

func (h *hostOps) sync() error { return nil }

// sgemm is cublasSgemm's column-major contract (alpha 1, beta 0), leading-dimension checks
// included (cuBLAS answers CUBLAS_STATUS_INVALID_VALUE).
func (h *hostOps) sgemm(opA, opB bool, m, n, k int, A cu.Ptr, lda int, B cu.Ptr, ldb int, C cu.Ptr, ldc int) error {
	rowsA, rowsB := m, k
	if opA {
		rowsA = k
	}
	if opB {
		rowsB = n
	}
	if m < 0 || n < 0 || k < 0 || lda < max(1, rowsA) || ldb < max(1, rowsB) || ldc < max(1, m) {
		return fmt.Errorf("cublasSgemm: invalid value m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc)
	}
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float64
			for l := 0; l < k; l++ {
				ai := int64(i) + int64(l)*int64(lda)
				if opA {
					ai = int64(l) + int64(i)*int64(lda)
				}
				bi := int64(l) + int64(j)*int64(ldb)
				if opB {
					bi = int64(j) + int64(l)*int64(ldb)
				}
				s += float64(*h.f(A, ai)) * float64(*h.f(B, bi))
			}
			*h.f(C, int64(i)+int64(j)*int64(ldc)) = float32(s)
		}
	}
	return nil
}

func (h *hostOps) gemm(transA, transB bool, M, N, K int, A cu.Ptr, lda int, B cu.Ptr, ldb int, C cu.Ptr, ldc int) error {
	o1, o2, m, n, k := cu.RowMajor(transA, transB, M, N, K)
	return h.sgemm(o1, o2, m, n, k, B, ldb, A, lda, C, ldc)
}

func (h *hostOps) gemmBatched(transA, transB bool, M, N, K int, A cu.Ptr, lda int, sA int64, B cu.Ptr, ldb int,
	sB int64, C cu.Ptr, ldc int, sC int64, batch int) error {
	o1, o2, m, n, k := cu.RowMajor(transA, transB, M, N, K)
	for i := int64(0); i < int64(batch); i++ {
		if err := h.sgemm(o1, o2, m, n, k, B+cu.Ptr(4*i*sB), ldb, A+cu.Ptr(4*i*sA), lda, C+cu.Ptr(4*i*sC), ldc); err != nil {
			return err
		}
	}
	return nil
}

func (h *hostOps) fill(p cu.Ptr, v float32, n int64) error {
	if h.real {
		kemu.Fill(grid(n, threads), threads, h.ptr(p), v, n)
		h.checkGuards("tk_fill")
		return nil
	}
	for i := int64(0); i < n; i++ {
		*h.f(p, i) = v
	}
	return nil
}

func activate(v float32, act int) float32 {
	switch act {
	case actReLU:
		return max(v, 0)
	case actTanh:
		return float32(math.Tanh(float64(v)))
	}
	return v
}

func (h *hostOps) biasAct(y, bias cu.Ptr, rows int64, C, act int) error {
	if h.real {
		kemu.BiasAct(grid(rows*int64(C), threads), threads, h.ptr(y), h.ptr(bias), rows, C, act)
		h.checkGuards("tk_bias_act")
		return nil
	}
	for i := int64(0); i < rows*int64(C); i++ {
		*h.f(y, i) = activate(*h.f(y, i)+*h.f(bias, i%int64(C)), act)
	}
	return nil
}

func (h *hostOps) layerNorm(out, in, bias, res, w, b cu.Ptr, rows int64, C, act int) error {
	if h.real {
		kemu.LayerNorm(grid(rows, 1), rowThreads(C), h.ptr(out), h.ptr(in), h.ptr(bias), h.ptr(res), h.ptr(w), h.ptr(b),
			rows, C, act)
		h.checkGuards("tk_layernorm")
		return nil
	}
	v := make([]float32, C)
	for r := int64(0); r < rows; r++ {
		var s float64
		for c := 0; c < C; c++ {
			x := *h.f(in, r*int64(C)+int64(c))
			if bias != 0 {
				x += *h.f(bias, int64(c))
			}
			if res != 0 {
				x += *h.f(res, r*int64(C)+int64(c))
			}
			v[c] = x
			s += float64(x)
		}
		mu := s / float64(C)
		var ss float64
		for _, x := range v {
			ss += (float64(x) - mu) * (float64(x) - mu)
		}
		rstd := 1 / math.Sqrt(ss/float64(C)+1e-5)
		for c, x := range v {
			o := float32((float64(x)-mu)*rstd)**h.f(w, int64(c)) + *h.f(b, int64(c))
			*h.f(out, r*int64(C)+int64(c)) = activate(o, act)
		}
	}
	return nil
}

func sigm(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

func (h *hostOps) lstmStep(gin, rec, bias, hs, cs, out, order, lens cu.Ptr, B, Tp, H, dirs, s int) error {
	if h.real {
		kemu.LSTMStep(grid(int64(dirs)*int64(B)*int64(H), threads), threads, h.ptr(gin), h.ptr(rec), h.ptr(bias),
			h.ptr(hs), h.ptr(cs), h.ptr(out), h.iptr(order), h.iptr(lens), B, Tp, H, dirs, s)
		h.checkGuards("tk_lstm_step")
		return nil
	}
	G := int64(4 * H)
	for i := int64(0); i < int64(dirs)*int64(B)*int64(H); i++ {
		j := i % int64(H)
		rd := i / int64(H)
		r, d := rd%int64(B), rd/int64(B)
		b := h.i32(order, r)
		t := s
		if d == 1 {
			t = Tp - 1 - s
		}
		if t >= h.i32(lens, int64(b)) {
			continue
		}
		row := int64(b)*int64(Tp) + int64(t)
		gi := row*int64(dirs)*G + d*G
		gr := (d*int64(B) + r) * G
		bb := d * G
		pre := func(q int64) float32 {
			return *h.f(gin, gi+q*int64(H)+j) + *h.f(rec, gr+q*int64(H)+j) + *h.f(bias, bb+q*int64(H)+j)
		}
		ig, fg := sigm(pre(0)), sigm(pre(1))
		gg, og := float32(math.Tanh(float64(pre(2)))), sigm(pre(3))
		si := (d*int64(B)+r)*int64(H) + j
		c := fg**h.f(cs, si) + ig*gg
		hv := og * float32(math.Tanh(float64(c)))
		*h.f(cs, si) = c
		*h.f(hs, si) = hv
		*h.f(out, row*int64(dirs)*int64(H)+d*int64(H)+j) = hv
	}
	return nil
}

func (h *hostOps) qkvSplit(qkv, bias, q, k, v cu.Ptr, B, Tp, D, heads int, sqrtHd float32) error {
	if h.real {
		kemu.QKVSplit(grid(int64(B)*int64(Tp)*3*int64(D), threads), threads, h.ptr(qkv), h.ptr(bias), h.ptr(q), h.ptr(k),
			h.ptr(v), B, Tp, D, heads, sqrtHd)
		h.checkGuards("tk_qkv_split")
		return nil
	}
	hd := D / heads
	for i := int64(0); i < int64(B)*int64(Tp)*3*int64(D); i++ {
		col := int(i % int64(3*D))
		bt := i / int64(3*D)
		t, b := bt%int64(Tp), bt/int64(Tp)
		which, w := col/D, col%D
		hh, e := w/hd, w%hd
		val := *h.f(qkv, i) + *h.f(bias, int64(col))
		dst := ((b*int64(heads)+int64(hh))*int64(Tp)+t)*int64(hd) + int64(e)
		switch which {
		case 0:
			*h.f(q, dst) = val / sqrtHd
		case 1:
			*h.f(k, dst) = val
		default:
			*h.f(v, dst) = val
		}
	}
	return nil
}

func (h *hostOps) attnSoftmax(S, lens cu.Ptr, B, heads, Tp int, masked bool) error {
	if h.real {
		kemu.AttnSoftmax(grid(int64(B)*int64(heads)*int64(Tp), threads/32), threads, h.ptr(S), h.iptr(lens), B, heads,
			Tp, masked)
		h.checkGuards("tk_attn_softmax")
		return nil
	}
	for r := int64(0); r < int64(B)*int64(heads)*int64(Tp); r++ {
		b := r / (int64(heads) * int64(Tp))
		nk := Tp
		if masked {
			nk = h.i32(lens, b)
		}
		mx := float32(-math.MaxFloat32)
		for c := 0; c < nk; c++ {
			mx = max(mx, *h.f(S, r*int64(Tp)+int64(c)))
		}
		var sum float64
		for c := 0; c < nk; c++ {
			e := float32(math.Exp(float64(*h.f(S, r*int64(Tp)+int64(c)) - mx)))
			*h.f(S, r*int64(Tp)+int64(c)) = e
			sum += float64(e)
		}
		for c := 0; c < Tp; c++ {
			p := h.f(S, r*int64(Tp)+int64(c))
			if c < nk {
				*p = float32(float64(*p) / sum)
			} else {
				*p = 0
			}
		}
	}
	return nil
}

func (h *hostOps) mergeHeads(ctxh, ctx cu.Ptr, B, Tp, D, heads int) error {
	if h.real {
		kemu.MergeHeads(grid(int64(B)*int64(Tp)*int64(D), threads), threads, h.ptr(ctxh), h.ptr(ctx), B, Tp, D, heads)
		h.checkGuards("tk_merge_heads")
		return nil
	}
	hd := D / heads
	for i := int64(0); i < int64(B)*int64(Tp)*int64(D); i++ {
		col := int(i % int64(D))
		bt := i / int64(D)
		t, b := bt%int64(Tp), bt/int64(Tp)
		*h.f(ctx, i) = *h.f(ctxh, ((b*int64(heads)+int64(col/hd))*int64(Tp)+t)*int64(hd)+int64(col%hd))
	}
	return nil
}

func (h *hostOps) poolSoftmax(score, b4, w, lens cu.Ptr, B, Tp int, masked bool) error {
	if h.real {
		kemu.PoolSoftmax(grid(int64(B), 1), threads, h.ptr(score), h.ptr(b4), h.ptr(w), h.iptr(lens), B, Tp, masked)
		h.checkGuards("tk_pool_softmax")
		return nil
	}
	bias := *h.f(b4, 0)
	for b := int64(0); b < int64(B); b++ {
		n := Tp
		if masked {
			n = h.i32(lens, b)
		}
		mx := float32(-math.MaxFloat32)
		for t := 0; t < n; t++ {
			mx = max(mx, *h.f(score, b*int64(Tp)+int64(t))+bias)
		}
		var s float64
		for t := 0; t < n; t++ {
			s += math.Exp(float64(*h.f(score, b*int64(Tp)+int64(t)) + bias - mx))
		}
		for t := 0; t < Tp; t++ {
			v := float32(0)
			if t < n {
				v = float32(math.Exp(float64(*h.f(score, b*int64(Tp)+int64(t))+bias-mx)) / s)
			}
			*h.f(w, b*int64(Tp)+int64(t)) = v
		}
	}
	return nil
}

func (h *hostOps) poolSum(w, x, pooled, lens cu.Ptr, B, Tp, D int, masked bool) error {
	if h.real {
		kemu.PoolSum(grid(int64(B)*int64(D), threads), threads, h.ptr(w), h.ptr(x), h.ptr(pooled), h.iptr(lens), B, Tp, D,
			masked)
		h.checkGuards("tk_pool_sum")
		return nil
	}
	for i := int64(0); i < int64(B)*int64(D); i++ {
		j, b := i%int64(D), i/int64(D)
		n := Tp
		if masked {
			n = h.i32(lens, b)
		}
		var acc float32
		for t := 0; t < n; t++ {
			acc += *h.f(w, b*int64(Tp)+int64(t)) * *h.f(x, (b*int64(Tp)+int64(t))*int64(D)+j)
		}
		*h.f(pooled, i) = acc
	}
	return nil
}

// hostModel is a Model over the emulation: upload and forward exactly as on a device.
func hostModel(t *testing.T, m *core.Model, real bool) (*Model, *hostOps) {
	t.Helper()
	h := &hostOps{real: real}
	g := &Model{cfg: m.Config(), host: m, ops: h}
	if err := g.upload(); err != nil {
		t.Fatal(err)
	}
	return g, h
}

func hostForward(t *testing.T, g *Model, h *hostOps, x []float32, B, T int, lengths []int32, pad core.Padding,
	logits, fw []float32) {
	t.Helper()
	Tp, err := g.host.CheckForward(x, B, T, lengths, pad, logits, fw)
	if err != nil {
		t.Fatal(err)
	}
	if g.ws.base != 0 {
		h.poison()
	}
	if err := g.forward(x, B, T, Tp, lengths, pad, logits, fw); err != nil {
		t.Fatal(err)
	}
}

// compareHost checks the emulated forward against core's CPU forward (logits and frame
// weights, every element written, exact zeros where DESIGN §2 says).
func compareHost(t *testing.T, what string, m *core.Model, g *Model, h *hostOps, x []float32, B, T int,
	lengths []int32, pad core.Padding) {
	t.Helper()
	C := m.Config().NumClasses
	want, wantFW := make([]float32, B*C), make([]float32, B*T)
	if err := m.Forward(x, B, T, lengths, pad, want, wantFW); err != nil {
		t.Fatal(err)
	}
	got, gotFW := make([]float32, B*C), make([]float32, B*T)
	for i := range gotFW {
		gotFW[i] = float32(math.NaN())
	}
	hostForward(t, g, h, x, B, T, lengths, pad, got, gotFW)
	for i, v := range gotFW {
		if (wantFW[i] == 0) != (v == 0) {
			t.Fatalf("%s: frame weight %d = %g, CPU %g", what, i, v, wantFW[i])
		}
	}
	e, efw := relErr(got, want), relErr(gotFW, wantFW)
	if !(e <= 1e-5 && efw <= 1e-5) {
		t.Errorf("%s: ‖Δlogits‖/‖logits‖ = %.3g, frame weights %.3g", what, e, efw)
	}
}

// TestHostEmulationFixtures: the GPU forward over the host emulation equals the CPU forward on
// every parity fixture, in both padding modes.
func TestHostEmulationFixtures(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "go-kernels", true: "kernels.cu"}[real], func(t *testing.T) { hostFixtures(t, real) })
	}
}

func hostFixtures(t *testing.T, real bool) {
	if real && testing.Short() {
		t.Skip("kernels.cu emulation is slow (threads and barriers): not in -short")
	}
	names, _ := filepath.Glob(filepath.Join(fixtureDir, "*.io.safetensors"))
	if len(names) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range names {
		name := strings.TrimSuffix(filepath.Base(p), ".io.safetensors")
		io, err := core.ReadSafetensorsFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var cfg core.Config
		if err := json.Unmarshal([]byte(io.Metadata["config"]), &cfg); err != nil {
			t.Fatal(err)
		}
		m, err := core.LoadFile(filepath.Join(fixtureDir, name+".weights.safetensors"), core.LoadOptions{NumHeads: cfg.NumHeads})
		if err != nil {
			t.Fatal(err)
		}
		ft, _ := io.Tensor("features")
		B, T := ft.Shape[0], ft.Shape[1]
		x, _ := io.F32("features")
		var lengths []int32
		if _, ok := io.Tensor("lengths"); ok {
			lengths, _ = io.I32("lengths")
		}
		g, h := hostModel(t, m, real)
		for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
			compareHost(t, name+"/"+pad.String(), m, g, h, x, B, T, lengths, pad)
		}
	}
}

// TestHostEmulationShapes: odd sizes, one direction and two, lengths with max < T, no lengths,
// and one model across growing and shrinking batches (workspace reuse).
func TestHostEmulationShapes(t *testing.T) {
	for _, real := range []bool{false, true} {
		t.Run(map[bool]string{false: "go-kernels", true: "kernels.cu"}[real], func(t *testing.T) { hostShapes(t, real) })
	}
}

func hostShapes(t *testing.T, real bool) {
	rng := rand.New(rand.NewPCG(8, 9))
	if real && testing.Short() {
		t.Skip("kernels.cu emulation is slow (threads and barriers): not in -short")
	}
	for _, bi := range []bool{true, false} {
		cfg := smallConfig()
		cfg.Bidirectional = bi
		cfg.HiddenDim, cfg.NumHeads = 6, 3
		cfg.FeatureDim = 5
		m, err := core.NewModelInit(cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		// Random biases and LayerNorm affines, so that every tensor matters.
		for _, p := range m.Params() {
			if len(p.Shape) == 1 {
				for i := range p.Data {
					p.Data[i] += 0.3 * float32(rng.NormFloat64())
				}
			}
		}
		g, h := hostModel(t, m, real)
		for _, s := range [][2]int{{3, 7}, {1, 1}, {6, 5}, {2, 9}, {1, 4}} {
			x, lengths := randomBatch(rng, s[0], s[1], cfg.FeatureDim, s[1] > 4)
			for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
				compareHost(t, fmt.Sprintf("bi=%v B=%d T=%d lengths=%v %s", bi, s[0], s[1], lengths, pad), m, g, h, x,
					s[0], s[1], lengths, pad)
			}
			compareHost(t, fmt.Sprintf("bi=%v B=%d T=%d no lengths", bi, s[0], s[1]), m, g, h, x, s[0], s[1], nil,
				core.PaddingReference)
		}
	}
}

// TestHostPhaseHook: the stage hook of TestGPUPhaseTimes sees every stage, in order, and does
// not change the result.
func TestHostPhaseHook(t *testing.T) {
	m, err := core.NewModelInit(smallConfig(), 4)
	if err != nil {
		t.Fatal(err)
	}
	g, h := hostModel(t, m, false)
	var names []string
	g.phase = func(n string) { names = append(names, n) }
	x, lengths := randomBatch(rand.New(rand.NewPCG(1, 1)), 3, 6, m.Config().FeatureDim, true)
	compareHost(t, "with the phase hook", m, g, h, x, 3, 6, lengths, core.PaddingMasked)
	want := "upload,input projection,lstm,attention,pooling"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("stages %s, want %s", got, want)
	}
}
