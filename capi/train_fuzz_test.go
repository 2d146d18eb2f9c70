package main

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
	"unsafe"

	"libtemporal/core"
)

// FuzzCAPITrain extends FuzzCAPI's rules to the trainer handle and the ensemble: fuzzed
// temporal_train_config structs (any struct_size, any field value), steps with fuzzed
// dimensions, labels and lengths on live/freed/0/foreign trainer handles, model frees while
// trainers live, and ensembles over live/freed handles with fuzzed options. No call may give
// TEMPORAL_ERR_INTERNAL; every status is documented for its function with a message; a freed
// trainer is BAD_HANDLE; a step that succeeds returns a finite loss.
//
//	go test ./capi -run '^$' -fuzz '^FuzzCAPITrain$' -fuzztime 120s -fuzzminimizetime 2s -parallel 1
func FuzzCAPITrain(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 2, 1, 0, 3, 4, 5, 0, 1, 1})
	f.Add([]byte{0, 0, 2, 1, 0, 3, 4, 5, 0, 1, 1, 3, 0, 1, 0, 1, 2, 3, 0})
	f.Add([]byte{4, 2, 0, 1, 3, 4, 5, 0, 1, 1, 0, 0, 0, 0, 5, 0, 0, 1})
	f.Add([]byte{0, 7, 9, 0xff, 0x40, 1, 5, 0x81, 0xe0, 5, 0, 6, 2, 1})
	seed := smallCheckpoint(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &trainSession{capiSession: capiSession{t: t, r: &fuzzBytes{b: data}, ckpt: seed}}
		defer s.freeAll()
		s.live = append(s.live, s.mustLoad(seed), s.mustLoad(seed))
		for i := 0; i < 10 && len(s.r.b) > 0; i++ {
			s.op()
		}
	})
}

type trainSession struct {
	capiSession
	trainers, deadTrainers []uint64
}

func (s *trainSession) freeAll() {
	for _, th := range s.trainers {
		ccall(tgo_trainer_free, th)
	}
	s.capiSession.freeAll()
}

func (s *trainSession) op() {
	switch s.r.u8() % 9 {
	case 0:
		s.trainerCreate()
	case 1, 2:
		s.trainerStep()
	case 3:
		s.trainerFree()
	case 4:
		s.ensemble()
	case 5:
		s.free()
	case 6:
		s.trainerLR()
	case 7:
		s.trainerState()
	case 8:
		s.trainerClassWeights()
	}
}

// trainerClassWeights sets fuzzed class weights (any count, any bits, or NULL) on any handle.
func (s *trainSession) trainerClassWeights() {
	th := s.trainer()
	n := int32(s.r.dim() % 8)
	w := make([]float32, 8)
	for i := range w {
		w[i] = math.Float32frombits(uint32(s.r.i32()))
	}
	p := unsafe.Pointer(&w[0])
	if s.r.u8()%4 == 0 {
		p = nil
	}
	st, msg := ccall(tgo_trainer_set_class_weights, th, p, n)
	s.check("trainer_set_class_weights", st, msg, stInvalidArgument, stBadHandle)
	if st == stOK && !s.isLiveTrainer(th) {
		s.t.Fatalf("set_class_weights OK on trainer %#x that is not live", th)
	}
}

// trainerState saves a trainer's state and loads a file back into a trainer: its own state,
// a model checkpoint (not a trainer state) or fuzzed bytes. A state saved by a live trainer
// loads back into it.
func (s *trainSession) trainerState() {
	th := s.trainer()
	dir := s.t.TempDir()
	cpath := func(p string) unsafe.Pointer { return unsafe.Pointer(&append([]byte(p), 0)[0]) }
	path := dir + "/state.safetensors"
	st, msg := ccall(tgo_trainer_save_state, th, cpath(path))
	s.check("trainer_save_state", st, msg, stBadHandle)
	if (st == stOK) != s.isLiveTrainer(th) {
		s.t.Fatalf("save_state on trainer %#x (live %v): %d %s", th, s.isLiveTrainer(th), st, msg)
	}
	src := path
	switch s.r.u8() % 3 {
	case 1:
		src = dir + "/model.safetensors"
		if err := os.WriteFile(src, s.ckpt, 0o644); err != nil {
			s.t.Fatal(err)
		}
	case 2:
		src = dir + "/fuzzed"
		n := min(int(s.r.u8()), len(s.r.b))
		junk := s.r.b[:n]
		s.r.b = s.r.b[n:]
		if err := os.WriteFile(src, junk, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	target := s.trainer()
	st, msg = ccall(tgo_trainer_load_state, target, cpath(src))
	s.check("trainer_load_state", st, msg, stBadHandle, stIO, stFormat)
	if src == path && target == th && s.isLiveTrainer(th) && st != stOK {
		s.t.Fatalf("a trainer's own state does not load back: %d %s", st, msg)
	}
}

// trainer picks a live, freed, zero, model or never-issued trainer handle.
func (s *trainSession) trainer() uint64 {
	b := s.r.u8()
	switch b % 6 {
	case 0, 1, 2:
		if len(s.trainers) > 0 {
			return s.trainers[int(b/8)%len(s.trainers)]
		}
	case 3:
		if len(s.deadTrainers) > 0 {
			return s.deadTrainers[int(b/8)%len(s.deadTrainers)]
		}
	case 4:
		return s.handle() // a model handle (or another kind of bad one)
	}
	return 0x7d00_0000_0000_0000 | uint64(b)*0x1234567
}

func (s *trainSession) isLiveTrainer(th uint64) bool {
	for _, v := range s.trainers {
		if v == th {
			return true
		}
	}
	return false
}

func (s *trainSession) trainerCreate() {
	h := s.handle()
	var cfg [trainConfigV1Size + 8]byte
	le := binary.LittleEndian
	le.PutUint32(cfg[0:], trainConfigV1Size)
	le.PutUint32(cfg[4:], 150)
	le.PutUint32(cfg[8:], 48)
	le.PutUint32(cfg[12:], 25)
	le.PutUint64(cfg[16:], math.Float64bits(1e-3))
	le.PutUint64(cfg[24:], math.Float64bits(5e-4))
	le.PutUint64(cfg[32:], 42)
	le.PutUint64(cfg[48:], math.Float64bits(2))
	le.PutUint64(cfg[56:], math.Float64bits(0.1))
	le.PutUint32(cfg[64:], 1)
	le.PutUint32(cfg[68:], 1)
	le.PutUint32(cfg[84:], 1)
	le.PutUint64(cfg[88:], math.Float64bits(1))
	// Mutate: struct_size, then a few fields with fuzzed values.
	switch b := s.r.u8(); b % 4 {
	case 1:
		le.PutUint32(cfg[0:], uint32(b))
	case 2:
		le.PutUint32(cfg[0:], trainConfigV1Size+8)
	}
	for n := s.r.u8() % 3; n > 0; n-- {
		off := int(s.r.u8()%24) * 4
		switch s.r.u8() % 4 {
		case 0:
			le.PutUint32(cfg[off:], uint32(s.r.i32()))
		case 1:
			le.PutUint64(cfg[off&^7:], math.Float64bits([]float64{math.NaN(), math.Inf(1), -1, 0, 0.5, 1e300}[s.r.u8()%6]))
		default:
			cfg[off] = s.r.u8()
		}
	}
	cp := unsafe.Pointer(&cfg[0])
	if s.r.u8()%8 == 7 {
		cp = nil
	}
	var th uint64 = 99
	st, msg := ccall(tgo_trainer_create, h, cp, unsafe.Pointer(&th))
	s.check("trainer_create", st, msg, stInvalidArgument, stBadHandle, stUnsupported)
	if st == stOK {
		if th == 0 || !s.isLive(h) {
			s.t.Fatalf("trainer_create OK: trainer %#x on model %#x (live %v)", th, h, s.isLive(h))
		}
		s.trainers = append(s.trainers, th)
	} else if th != 0 {
		s.t.Fatalf("trainer_create failed but *out = %#x", th)
	}
}

func (s *trainSession) trainerStep() {
	th := s.trainer()
	B, T, F := s.r.dim(), s.r.dim(), s.r.dim()
	if s.r.u8()%4 != 0 {
		B, T, F = B%6+1, T%6+1, 5 // mostly a valid batch for the seed model
	}
	nx := int64(1)
	if p, ok := mulChecked(B, T, F); ok && B <= core.MaxBatch && T <= core.MaxFrames {
		if p > 1<<14 && F == 5 {
			return
		}
		if p <= 1<<14 {
			nx = p
		}
	}
	x := make([]float32, nx)
	for i := range x {
		x[i] = float32(i%5)*0.3 - 0.5
	}
	if b := s.r.u8(); b%16 == 15 {
		x[int(b)%len(x)] = float32(math.NaN())
	}
	nb := int64(1)
	if B >= 1 && B <= 1<<14 {
		nb = B
	}
	labels := make([]int64, nb)
	lengths := make([]int32, nb)
	for i := range labels {
		labels[i] = int64(i % 3)
		lengths[i] = int32(max(min(T, 1<<20), 1))
	}
	if b := s.r.u8(); b%4 == 3 {
		labels[int(b)%len(labels)] = int64(int8(s.r.u8())) // may be out of range
	}
	if b := s.r.u8(); b%4 == 3 {
		lengths[int(b)%len(lengths)] = int32(int8(s.r.u8()))
	}
	var lp, yp unsafe.Pointer
	if s.r.u8()%2 == 1 {
		lp = unsafe.Pointer(&lengths[0])
	}
	if s.r.u8()%16 != 15 {
		yp = unsafe.Pointer(&labels[0])
	}
	loss := float32(-7)
	st, msg := ccall(tgo_trainer_step, th, unsafe.Pointer(&x[0]), B, T, F, lp, yp, unsafe.Pointer(&loss))
	s.check("trainer_step", st, msg, stInvalidArgument, stBadHandle, stShape, stOutOfMemory, stNumeric)
	if st == stOK {
		if !s.isLiveTrainer(th) {
			s.t.Fatalf("step on a dead trainer %#x succeeded", th)
		}
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) || loss < 0 {
			s.t.Fatalf("step OK with loss %v", loss)
		}
	}
}

func (s *trainSession) trainerLR() {
	th := s.trainer()
	var lr float64
	st, msg := ccall(tgo_trainer_lr, th, unsafe.Pointer(&lr))
	s.check("trainer_lr", st, msg, stInvalidArgument, stBadHandle)
	if st == stOK && !(lr > 0) {
		s.t.Fatalf("trainer_lr OK with %v", lr)
	}
}

func (s *trainSession) trainerFree() {
	th := s.trainer()
	st, msg := ccall(tgo_trainer_free, th)
	s.check("trainer_free", st, msg, stBadHandle)
	if st == stOK {
		if !s.isLiveTrainer(th) {
			s.t.Fatalf("free of trainer %#x that is not live succeeded", th)
		}
		for i, v := range s.trainers {
			if v == th {
				s.trainers = append(s.trainers[:i], s.trainers[i+1:]...)
				break
			}
		}
		s.deadTrainers = append(s.deadTrainers, th)
		var lr float64
		if st, _ := ccall(tgo_trainer_lr, th, unsafe.Pointer(&lr)); st != stBadHandle {
			s.t.Fatalf("lr on a freed trainer: %d", st)
		}
	} else if s.isLiveTrainer(th) {
		s.t.Fatalf("free of live trainer %#x failed: %s", th, msg)
	}
}

func (s *trainSession) ensemble() {
	n := int(s.r.u8() % 5)
	hs := make([]uint64, max(n, 1))
	allLive := true
	for i := range hs {
		hs[i] = s.handle()
		allLive = allLive && s.isLive(hs[i])
	}
	B, T := int64(s.r.u8()%4), int64(s.r.u8()%13)
	F := int64(5)
	if s.r.u8()%8 == 7 {
		F = s.r.dim()
	}
	nx := int64(1)
	if p, ok := mulChecked(B, T, F); ok && p <= 1<<14 {
		nx = p
	}
	x := make([]float32, nx)
	for i := range x {
		x[i] = float32(i%7)*0.2 - 0.6
	}
	var opt [predictV1Size]byte
	binary.LittleEndian.PutUint32(opt[0:], predictV1Size)
	binary.LittleEndian.PutUint32(opt[4:], uint32(s.r.i32()%3))
	binary.LittleEndian.PutUint32(opt[8:], uint32(s.r.i32()%3))
	binary.LittleEndian.PutUint32(opt[12:], uint32(s.r.i32()%3))
	outLen := int(s.r.u8() % 16)
	out := make([]float32, outLen+1)
	var fw []float32
	var fp unsafe.Pointer
	fwLen := 0
	if b := s.r.u8(); b%2 == 1 {
		fwLen = int(b % 40)
		fw = make([]float32, fwLen+1)
		fp = unsafe.Pointer(&fw[0])
	}
	st, msg := ccall(tgo_ensemble_predict, unsafe.Pointer(&hs[0]), uintptr(n), unsafe.Pointer(&x[0]), B, T, F,
		unsafe.Pointer(nil), unsafe.Pointer(&opt[0]), unsafe.Pointer(&out[0]), uintptr(outLen), fp, uintptr(fwLen))
	s.check("ensemble_predict", st, msg, stInvalidArgument, stBadHandle, stShape, stOutOfMemory, stNumeric)
	if st == stOK {
		if !allLive {
			s.t.Fatal("ensemble over a dead handle succeeded")
		}
		for b := int64(0); b < B; b++ {
			sum := 0.0
			for c := int64(0); c < 3; c++ {
				v := float64(out[b*3+c])
				if !(v >= 0 && v <= 1) {
					s.t.Fatalf("ensemble OK but probability %v", v)
				}
				sum += v
			}
			if math.Abs(sum-1) > 1e-5 {
				s.t.Fatalf("ensemble OK but clip %d sums to %v", b, sum)
			}
		}
	}
}
