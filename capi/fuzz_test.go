package main

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"unsafe"

	"libtemporal/core"
)

// FuzzCAPI drives the C API's Go side (the tgo_* exports that shim.c wraps one to one) with
// sequences of calls whose arguments come from the fuzzer: handles (live, freed, 0, never
// issued), dimensions (zero, negative, huge, overflowing products), lengths, options structs with
// any struct_size and field values, config structs, checkpoint bytes, class-name counts and
// buffer capacities. Every buffer handed over is valid Go memory of the size the call's contract
// needs (wild pointers are the bad-input matrix's job, tests/reliability), so:
//   - no call may panic: TEMPORAL_ERR_INTERNAL (a recovered panic) fails the test;
//   - every status is one the header lists for that function, with a non-empty message;
//   - a successful predict writes finite values; a successful create/load returns a handle that
//     works; a freed handle is BAD_HANDLE everywhere afterwards.
//
// Run it as
//
//	go test ./capi -run '^$' -fuzz '^FuzzCAPI$' -fuzztime 300s -fuzzminimizetime 2s -parallel 1
func FuzzCAPI(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0, 2, 3, 5, 16, 0, 0, 0, 0, 64, 0})                     // a predict
	f.Add([]byte{1, 0, 0xff, 0x81, 5, 16, 1, 1, 2, 0, 64, 0, 0, 0})         // huge dims
	f.Add([]byte{0, 88, 0, 0, 0, 8, 2, 1, 2, 3, 0, 1, 1, 4, 0, 0, 0, 1, 0}) // a create
	f.Add([]byte{2, 7, 3, 0x10, 0, 1, 6, 0, 6, 0, 6, 0, 1, 1, 0, 3, 0, 4, 0, 5, 3})
	f.Add([]byte{6, 0, 1, 0, 2, 3, 5, 16, 0, 0, 0, 0, 64, 0, 6, 1, 3, 2, 4, 3})
	seed := smallCheckpoint(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &capiSession{t: t, r: &fuzzBytes{b: data}, ckpt: seed}
		defer s.freeAll()
		s.live = append(s.live, s.mustLoad(seed))
		for step := 0; step < 12 && len(s.r.b) > 0; step++ {
			s.op()
		}
	})
}

func smallCheckpoint(tb testing.TB) []byte {
	cfg := core.Config{FeatureDim: 5, HiddenDim: 4, NumLayers: 1, NumHeads: 2, NumClasses: 3,
		Bidirectional: true, ClassifierWidths: []int{4}, Dropout: 0.4}
	m, err := core.NewModelInit(cfg, 3)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := m.MarshalSafetensors()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

type fuzzBytes struct{ b []byte }

func (r *fuzzBytes) u8() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// dim decodes a dimension: mostly small, sometimes 0, negative, huge or extreme.
func (r *fuzzBytes) dim() int64 {
	b := r.u8()
	switch {
	case b < 0x80:
		return int64(b % 24)
	case b < 0xa0:
		return -int64(b & 0x1f)
	case b < 0xe0:
		return int64(1) << (b & 0x3f % 63)
	case b < 0xf0:
		return math.MaxInt64 - int64(b&0xf)
	default:
		return math.MinInt64 + int64(b&0xf)
	}
}

func (r *fuzzBytes) i32() int32 {
	return int32(binary.LittleEndian.Uint32([]byte{r.u8(), r.u8(), r.u8(), r.u8()}))
}

type capiSession struct {
	t     *testing.T
	r     *fuzzBytes
	ckpt  []byte
	live  []uint64
	freed []uint64
}

// ccall calls a tgo_* export through reflection, so the test needs no cgo types: numbers are
// converted to the parameter's type, unsafe.Pointers to the parameter's pointer type.
func ccall(fn any, args ...any) (int, string) {
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	var msg [1024]byte
	args = append(args, unsafe.Pointer(&msg[0]), uintptr(len(msg)))
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		pt := ft.In(i)
		if p, ok := a.(unsafe.Pointer); ok {
			if pt.Kind() == reflect.UnsafePointer {
				in[i] = reflect.ValueOf(p)
			} else {
				in[i] = reflect.NewAt(pt.Elem(), p)
			}
			continue
		}
		in[i] = reflect.ValueOf(a).Convert(pt)
	}
	st := int(fv.Call(in)[0].Int())
	n := 0
	for n < len(msg) && msg[n] != 0 {
		n++
	}
	return st, string(msg[:n])
}

func (s *capiSession) check(fn string, st int, msg string, allowed ...int) {
	s.t.Helper()
	if st == stOK {
		return
	}
	if st == stInternal {
		s.t.Fatalf("%s: TEMPORAL_ERR_INTERNAL (a panic or fault on valid memory): %s", fn, msg)
	}
	if msg == "" {
		s.t.Fatalf("%s: status %d with an empty message", fn, st)
	}
	for _, a := range allowed {
		if st == a {
			return
		}
	}
	s.t.Fatalf("%s: status %d is not documented for it: %s", fn, st, msg)
}

func (s *capiSession) mustLoad(b []byte) uint64 {
	var h uint64
	st, msg := ccall(tgo_model_load_memory, unsafe.Pointer(&b[0]), uintptr(len(b)), unsafe.Pointer(nil), unsafe.Pointer(&h))
	if st != stOK || h == 0 {
		s.t.Fatalf("load of the seed checkpoint: %d %s", st, msg)
	}
	return h
}

// handle picks a live, freed, zero or never-issued handle.
func (s *capiSession) handle() uint64 {
	b := s.r.u8()
	switch b % 8 {
	case 0, 1, 2, 3:
		if len(s.live) > 0 {
			return s.live[int(b/8)%len(s.live)]
		}
	case 4:
		if len(s.freed) > 0 {
			return s.freed[int(b/8)%len(s.freed)]
		}
	case 5:
		return 0
	case 6:
		return uint64(b) << 56
	}
	return 0x7e00_0000_0000_0000 | uint64(b)*0x1234567
}

func (s *capiSession) isLive(h uint64) bool {
	for _, v := range s.live {
		if v == h {
			return true
		}
	}
	return false
}

func (s *capiSession) freeAll() {
	for _, h := range s.live {
		ccall(tgo_model_free, h)
	}
}

func (s *capiSession) op() {
	switch s.r.u8() % 9 {
	case 0:
		s.create()
	case 1, 7:
		s.predict()
	case 2:
		s.loadMemory()
	case 3:
		s.info()
	case 4:
		s.className()
	case 5:
		s.setClassNames()
	case 6:
		s.free()
	case 8:
		s.precision()
	}
}

// precision sets a precision (valid or not) on some handle, then reads it back.
func (s *capiSession) precision() {
	h := s.handle()
	p := int32(s.r.u8()%4) - 1 // -1, 0, 1, 2
	st, msg := ccall(tgo_model_set_precision, h, p)
	s.check("set_precision", st, msg, stInvalidArgument, stBadHandle)
	live := s.isLive(h)
	valid := p == 0 || p == 1
	if (st == stOK) != (live && valid) {
		s.t.Fatalf("set_precision(%#x, %d) = %d (live %v): %s", h, p, st, live, msg)
	}
	got := int32(-7)
	st, msg = ccall(tgo_model_get_precision, h, unsafe.Pointer(&got))
	s.check("get_precision", st, msg, stBadHandle)
	if (st == stOK) != live || (live && valid && got != p) || (live && got != 0 && got != 1) {
		s.t.Fatalf("get_precision(%#x) = %d, %d after setting %d: %s", h, st, got, p, msg)
	}
}

func (s *capiSession) create() {
	var cfg [configV1Size]byte
	for i := range cfg {
		cfg[i] = s.r.u8()
	}
	// Small sizes by default, so that a valid config is cheap to build.
	binary.LittleEndian.PutUint32(cfg[0:], uint32(cfg[0])) // struct_size: 0..255
	if cfg[0]%4 == 0 {
		binary.LittleEndian.PutUint32(cfg[0:], configV1Size)
	}
	for i := 4; i < 24; i += 4 { // feature_dim .. num_classes
		if cfg[i+3] < 0xf0 {
			binary.LittleEndian.PutUint32(cfg[i:], uint32(cfg[i]%9))
		}
	}
	binary.LittleEndian.PutUint64(cfg[24:], math.Float64bits(float64(cfg[24]%5)/4)) // dropout
	if cfg[36]%4 != 0 {
		binary.LittleEndian.PutUint32(cfg[36:], uint32(cfg[36]%10)) // num_classifier_widths
	}
	for i := 40; i < 72; i += 4 {
		if cfg[i+3] < 0xf0 {
			binary.LittleEndian.PutUint32(cfg[i:], uint32(cfg[i]%9))
		}
	}
	if c, err := readConfig(unsafe.Pointer(&cfg[0])); err == nil && c.Validate() == nil && c.NumParams() > 1<<18 {
		return // valid but too large to build in a fuzz iteration
	}
	var h uint64 = 77
	st, msg := ccall(tgo_model_create, unsafe.Pointer(&cfg[0]), uint64(s.r.u8()), unsafe.Pointer(&h))
	s.check("create", st, msg, stInvalidArgument)
	if st == stOK {
		if h == 0 {
			s.t.Fatal("create: OK with handle 0")
		}
		s.live = append(s.live, h)
	} else if h != 0 {
		s.t.Fatalf("create failed but *out = %#x", h)
	}
}

func (s *capiSession) predict() {
	h := s.handle()
	B, T, F := s.r.dim(), s.r.dim(), s.r.dim()
	if s.r.u8()%2 == 0 && isSmall(F) {
		F = 5 // the seed model's feature_dim, mostly
	}
	var opt [predictV1Size]byte
	useOpt := s.r.u8()
	if useOpt%2 == 1 {
		binary.LittleEndian.PutUint32(opt[0:], predictV1Size)
		if useOpt%8 == 7 {
			binary.LittleEndian.PutUint32(opt[0:], uint32(s.r.u8()))
		}
		binary.LittleEndian.PutUint32(opt[4:], uint32(s.r.i32()%3))
		binary.LittleEndian.PutUint32(opt[8:], uint32(s.r.i32()%3))
		binary.LittleEndian.PutUint32(opt[12:], uint32(s.r.i32()%2))
	}
	outLen := int(s.r.u8()) * 2
	fwLen := -1
	if b := s.r.u8(); b%2 == 1 {
		fwLen = int(b) * 4
	}
	useLengths := s.r.u8()
	// Buffers: exactly the contract's sizes when the call can get as far as reading them.
	// A valid-looking request too large to run here is skipped.
	nx := int64(1)
	if B >= 1 && T >= 1 && F >= 1 && B <= core.MaxBatch && T <= core.MaxFrames {
		if p, ok := mulChecked(B, T, F); ok {
			if p > 1<<16 && F == 5 && s.isLive(h) {
				return
			}
			if p <= 1<<16 {
				nx = p
			}
		}
	}
	x := make([]float32, nx)
	for i := range x {
		x[i] = float32(i%7) * 0.25
	}
	if b := s.r.u8(); b%16 == 15 && len(x) > 1 {
		x[int(b)%len(x)] = float32(math.Inf(1)) // a non-finite feature
	}
	var lengths []int32
	if useLengths%2 == 1 {
		n := int64(1)
		if B >= 1 && B <= 1<<16 {
			n = B
		}
		lengths = make([]int32, n)
		for i := range lengths {
			lengths[i] = int32(max(T, 1))
			if i == int(useLengths/2)%len(lengths) {
				lengths[i] = int32(int8(useLengths)) // may be 0, negative or > T
			}
		}
	}
	out := make([]float32, outLen+1)
	var fw []float32
	if fwLen >= 0 {
		fw = make([]float32, fwLen+1)
	}
	ptr := func(p *float32) unsafe.Pointer { return unsafe.Pointer(p) }
	var lp, op, fp unsafe.Pointer
	if lengths != nil {
		lp = unsafe.Pointer(&lengths[0])
	}
	if useOpt%2 == 1 {
		op = unsafe.Pointer(&opt[0])
	}
	if fw != nil {
		fp = ptr(&fw[0])
	}
	st, msg := ccall(tgo_predict, h, ptr(&x[0]), B, T, F, lp, op, ptr(&out[0]), uintptr(outLen), fp, uintptr(max(fwLen, 0)))
	s.check("predict", st, msg, stInvalidArgument, stBadHandle, stShape, stOutOfMemory, stNumeric, stUnsupported)
	if st == stOK {
		n := int(B) * 3
		for _, v := range out[:n] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				s.t.Fatalf("predict OK but wrote %v", v)
			}
		}
	}
	if st != stBadHandle && !s.isLive(h) && st == stOK {
		s.t.Fatalf("predict on a dead handle %#x succeeded", h)
	}
}

func isSmall(v int64) bool { return v >= 0 && v < 24 }

func (s *capiSession) loadMemory() {
	b := append([]byte(nil), s.ckpt...)
	for k := int(s.r.u8() % 4); k > 0; k-- {
		i := int(binary.LittleEndian.Uint16([]byte{s.r.u8(), s.r.u8()})) % len(b)
		b[i] ^= s.r.u8()
	}
	if c := s.r.u8(); c%4 == 3 {
		b = b[:int(c)*int(s.r.u8())%len(b)+1]
	}
	var opt [loadV1Size]byte
	var op unsafe.Pointer
	if o := s.r.u8(); o%2 == 1 {
		binary.LittleEndian.PutUint32(opt[0:], loadV1Size)
		if o%8 == 7 {
			binary.LittleEndian.PutUint32(opt[0:], uint32(s.r.u8()))
		}
		binary.LittleEndian.PutUint32(opt[4:], uint32(int32(int8(s.r.u8()))))
		op = unsafe.Pointer(&opt[0]) // device NULL: "cpu"
	}
	var h uint64 = 5
	st, msg := ccall(tgo_model_load_memory, unsafe.Pointer(&b[0]), uintptr(len(b)), op, unsafe.Pointer(&h))
	s.check("load_memory", st, msg, stInvalidArgument, stFormat, stNumeric, stOutOfMemory, stUnsupported)
	if st == stOK {
		s.live = append(s.live, h)
	} else if h != 0 {
		s.t.Fatalf("load_memory failed but *out = %#x", h)
	}
}

func (s *capiSession) info() {
	h := s.handle()
	var c [configV1Size + 16]byte
	for i := range c {
		c[i] = 0xa5
	}
	size := uint32(s.r.u8())
	if size%4 == 0 {
		size = configV1Size
	}
	binary.LittleEndian.PutUint32(c[0:], size)
	st, msg := ccall(tgo_model_info, h, unsafe.Pointer(&c[0]))
	s.check("info", st, msg, stInvalidArgument, stBadHandle, stUnsupported)
	for i := int(min(size, configV1Size)); i < len(c) && st == stOK; i++ {
		if i >= 4 && c[i] != 0xa5 {
			s.t.Fatalf("info wrote byte %d past struct_size %d", i, size)
		}
	}
}

func (s *capiSession) className() {
	h := s.handle()
	idx := int32(int8(s.r.u8()))
	capacity := int(s.r.u8() % 16)
	buf := make([]byte, capacity+1)
	var bp unsafe.Pointer
	if capacity > 0 || s.r.u8()%2 == 0 {
		bp = unsafe.Pointer(&buf[0])
	}
	var n uintptr
	st, msg := ccall(tgo_model_class_name, h, idx, bp, uintptr(capacity), unsafe.Pointer(&n))
	s.check("class_name", st, msg, stInvalidArgument, stBadHandle)
	if st == stOK && capacity > 0 && buf[min(int(n), capacity-1)] != 0 {
		s.t.Fatal("class_name: result not NUL-terminated")
	}
}

func (s *capiSession) setClassNames() {
	h := s.handle()
	n := int32(int8(s.r.u8()))
	if n > 8 {
		n %= 8
	}
	cnt := max(int(n), 1)
	store := make([][]byte, cnt)
	ptrs := make([]unsafe.Pointer, cnt)
	for i := range store {
		l := int(s.r.u8() % 6)
		if s.r.u8() == 0xff {
			l = 4097 // too long
		}
		store[i] = make([]byte, l+1)
		for j := 0; j < l; j++ {
			store[i][j] = 'a' + byte(j%26)
		}
		ptrs[i] = unsafe.Pointer(&store[i][0])
		if s.r.u8() == 0xfe {
			ptrs[i] = nil
		}
	}
	np := unsafe.Pointer(&ptrs[0])
	if s.r.u8()%16 == 15 {
		np = nil
	}
	st, msg := ccall(tgo_model_set_class_names, h, np, n)
	s.check("set_class_names", st, msg, stInvalidArgument, stBadHandle)
}

func (s *capiSession) free() {
	h := s.handle()
	st, msg := ccall(tgo_model_free, h)
	s.check("free", st, msg, stBadHandle)
	if st == stOK {
		if !s.isLive(h) {
			s.t.Fatalf("free of a handle %#x that is not live succeeded", h)
		}
		for i, v := range s.live {
			if v == h {
				s.live = append(s.live[:i], s.live[i+1:]...)
				break
			}
		}
		s.freed = append(s.freed, h)
		// Freed handles are dead for every call.
		var c [configV1Size]byte
		binary.LittleEndian.PutUint32(c[0:], configV1Size)
		if st, _ := ccall(tgo_model_info, h, unsafe.Pointer(&c[0])); st != stBadHandle {
			s.t.Fatalf("info on a freed handle: %d", st)
		}
	} else if s.isLive(h) {
		s.t.Fatalf("free of live handle %#x failed: %s", h, msg)
	}
}
