//go:build !nocuda

package cuda

import (
	_ "embed"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"

	"libtemporal/core"
	"libtemporal/cuda/cu"
)

// kernelsFatbin is kernels.cu compiled by scripts/build-fatbin.sh: SASS sm_80 and sm_90, PTX
// compute_90 (nvcc 11.8: PTX ISA 7.8, so a driver of CUDA 11.8 or newer, R520+).
//
//go:embed kernels.fatbin
var kernelsFatbin []byte

// Available reports that this build has the CUDA backend (false under the nocuda tag).
const Available = true

var cublasPath struct {
	sync.Mutex
	path string
	set  bool
}

// SetCublasPath chooses the cuBLAS library (a path or a soname) for the process, overriding
// TEMPORAL_CUBLAS; "" restores the default search. It takes effect only before the first CUDA
// model loads cuBLAS; after that the loaded library stays, and it returns an error naming it.
func SetCublasPath(path string) error {
	if from := cu.CublasLoadedFrom(); from != "" {
		if from == path {
			return nil
		}
		return core.Errf(core.KindInvalidArgument, "cuBLAS is already loaded from %s for this process", from)
	}
	cublasPath.Lock()
	cublasPath.path, cublasPath.set = path, path != ""
	cublasPath.Unlock()
	return nil
}

// cublasChoice is the API setting, else TEMPORAL_CUBLAS (the Go runtime's copy of the
// environment, taken when the library was loaded), else "" (the sonames).
func cublasChoice() string {
	cublasPath.Lock()
	defer cublasPath.Unlock()
	if cublasPath.set {
		return cublasPath.path
	}
	return os.Getenv("TEMPORAL_CUBLAS")
}

// DeviceCount is the number of visible CUDA devices; an error (kind Device) says why there are
// none usable (no driver, cuInit failed). It loads the driver on first use, nothing else.
func DeviceCount() (int, error) {
	if err := cu.LoadDriver(); err != nil {
		return 0, err
	}
	return cu.DeviceGetCount()
}

func deviceHandle(ordinal int) (cu.Device, error) {
	n, err := DeviceCount()
	if err != nil {
		return 0, err
	}
	if ordinal < 0 || ordinal >= n {
		return 0, core.Errf(core.KindDevice, "cuda:%d: %d CUDA device(s) visible", ordinal, n)
	}
	return cu.DeviceGet(ordinal)
}

// DeviceName is the name of device ordinal ("NVIDIA H200").
func DeviceName(ordinal int) (string, error) {
	d, err := deviceHandle(ordinal)
	if err != nil {
		return "", err
	}
	return cu.DeviceGetName(d)
}

// MemInfo is the free and total memory of device ordinal, in bytes. It needs the device's
// primary context: retained for the query (on a thread of its own) unless a model already
// holds it.
func MemInfo(ordinal int) (free, total uint64, err error) {
	q := func() error {
		var e error
		free, total, e = cu.MemGetInfo()
		return e
	}
	devices.Lock() // held while d runs q, so d cannot be torn down meanwhile
	d := devices.m[ordinal]
	if d != nil {
		err = d.run(q)
	}
	devices.Unlock()
	if d != nil {
		return free, total, err
	}
	h, err := deviceHandle(ordinal)
	if err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		ctx, err := cu.PrimaryCtxRetain(h)
		if err != nil {
			done <- err
			return
		}
		err = cu.CtxSetCurrent(ctx)
		if err == nil {
			err = q()
		}
		_ = cu.CtxSetCurrent(nil)
		if e := cu.PrimaryCtxRelease(h); err == nil {
			err = e
		}
		done <- err
	}()
	err = <-done
	return free, total, err
}

// device is one GPU in use: a goroutine locked to one OS thread owns its retained primary
// context, stream, cuBLAS handle and kernels, and runs every CUDA call for it, so concurrent
// work on one device serialises (DESIGN §5, §6). It lives while models use it.
type device struct {
	ordinal int
	dev     cu.Device
	ctx     cu.Context
	stream  cu.Stream
	blas    cu.Blas
	mod     cu.Module
	k       kernels
	jobs    chan func()
	models  int // guarded by devices
}

var devices struct {
	sync.Mutex
	m map[int]*device
}

// acquireDevice returns device ordinal, set up on first use, counting one more model on it.
func acquireDevice(ordinal int) (*device, error) {
	devices.Lock()
	defer devices.Unlock()
	if d := devices.m[ordinal]; d != nil {
		d.models++
		return d, nil
	}
	h, err := deviceHandle(ordinal)
	if err != nil {
		return nil, err
	}
	if err := cu.LoadCublas(cublasChoice()); err != nil {
		return nil, err
	}
	d := &device{ordinal: ordinal, dev: h, jobs: make(chan func())}
	started := make(chan error, 1)
	go d.loop(started)
	if err := <-started; err != nil {
		return nil, core.Wrap(core.KindDevice, err, "cuda:%d", ordinal)
	}
	if devices.m == nil {
		devices.m = make(map[int]*device)
	}
	d.models = 1
	devices.m[ordinal] = d
	return d, nil
}

// releaseDevice counts one model less; the last one tears the device down on its thread and
// ends the thread (the primary context is released, never reset).
func releaseDevice(d *device) {
	devices.Lock()
	defer devices.Unlock()
	d.models--
	if d.models > 0 {
		return
	}
	delete(devices.m, d.ordinal)
	_ = d.run(func() error { d.teardown(); return nil })
	close(d.jobs)
}

// loop is the device thread: set up, report, then run jobs until jobs is closed.
func (d *device) loop(started chan<- error) {
	runtime.LockOSThread() // never unlocked: when the loop ends, so does the thread
	debug.SetPanicOnFault(true)
	if err := d.setup(); err != nil {
		d.teardown()
		started <- err
		return
	}
	started <- nil
	for job := range d.jobs {
		job()
	}
}

func (d *device) setup() error {
	ctx, err := cu.PrimaryCtxRetain(d.dev)
	if err != nil {
		return err
	}
	d.ctx = ctx
	if err := cu.CtxSetCurrent(ctx); err != nil {
		return err
	}
	if d.stream, err = cu.StreamCreate(); err != nil {
		return err
	}
	if d.blas, err = cu.BlasCreate(); err != nil {
		return err
	}
	if err := cu.BlasSetStream(d.blas, d.stream); err != nil {
		return err
	}
	// Full float32 products (no TF32) for parity with the CPU (DESIGN §6). The environment
	// variable NVIDIA_TF32_OVERRIDE=1 would still force TF32 inside cuBLAS.
	if err := cu.BlasSetMathMode(d.blas, cu.DefaultMath); err != nil {
		return err
	}
	if d.mod, err = cu.ModuleLoad(kernelsFatbin); err != nil {
		return err
	}
	return d.k.load(d.mod)
}

// teardown frees what setup made, in reverse, ignoring errors (nothing could act on them).
func (d *device) teardown() {
	if d.mod != nil {
		_ = cu.ModuleUnload(d.mod)
		d.mod = nil
	}
	if d.blas != nil {
		_ = cu.BlasDestroy(d.blas)
		d.blas = nil
	}
	if d.stream != nil {
		_ = cu.StreamDestroy(d.stream)
		d.stream = nil
	}
	if d.ctx != nil {
		_ = cu.CtxSetCurrent(nil)
		_ = cu.PrimaryCtxRelease(d.dev)
		d.ctx = nil
	}
}

// run executes f on the device thread and returns its error; a panic in f (a Go bug, or a fault
// on caller memory) comes back as an internal error instead of killing the thread.
func (d *device) run(f func() error) error {
	done := make(chan error, 1)
	d.jobs <- func() {
		defer func() {
			if r := recover(); r != nil {
				done <- core.Errf(core.KindInternal, "cuda:%d: panic on the device thread: %v\n%s", d.ordinal, r, debug.Stack())
			}
		}()
		done <- f()
	}
	return <-done
}

// kernels are the functions of kernels.fatbin.
type kernels struct {
	fill, biasAct, layerNorm, lstmStep, qkvSplit, attnSoftmax, mergeHeads, poolSoftmax, poolSum cu.Function
}

// kernelNames are kernels.cu's extern "C" names, in the order of the kernels struct.
var kernelNames = []string{"tk_fill", "tk_bias_act", "tk_layernorm", "tk_lstm_step", "tk_qkv_split",
	"tk_attn_softmax", "tk_merge_heads", "tk_pool_softmax", "tk_pool_sum"}

func (k *kernels) load(m cu.Module) error {
	dst := []*cu.Function{&k.fill, &k.biasAct, &k.layerNorm, &k.lstmStep, &k.qkvSplit, &k.attnSoftmax,
		&k.mergeHeads, &k.poolSoftmax, &k.poolSum}
	if len(dst) != len(kernelNames) {
		panic(fmt.Sprintf("cuda: %d kernels, %d names", len(dst), len(kernelNames)))
	}
	for i, name := range kernelNames {
		f, err := cu.ModuleGetFunction(m, name)
		if err != nil {
			return err
		}
		*dst[i] = f
	}
	return nil
}
