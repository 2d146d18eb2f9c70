package cu

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"libtemporal/core"
)

// The exact symbols of DESIGN §6, plus cuModuleUnload and cuStreamDestroy_v2 (so a device's
// module and stream go when its last model is freed, even when the host keeps the primary
// context). cuDevicePrimaryCtxRelease is resolved as _v2, the name cuda.h maps it to.
var wantDriver = []string{"cuInit", "cuDeviceGet", "cuDeviceGetCount", "cuDeviceGetName", "cuMemGetInfo_v2",
	"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuModuleLoadDataEx",
	"cuModuleUnload", "cuModuleGetFunction", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2",
	"cuLaunchKernel", "cuStreamCreate", "cuStreamDestroy_v2", "cuStreamSynchronize"}

var wantCublas = []string{"cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetMathMode",
	"cublasSgemm_v2", "cublasSgemmStridedBatched"}

func TestSymbolTables(t *testing.T) {
	if got := DriverSymbols(); !slices.Equal(got, wantDriver) {
		t.Errorf("driver symbols\n got %v\nwant %v", got, wantDriver)
	}
	if got := CublasSymbols(); !slices.Equal(got, wantCublas) {
		t.Errorf("cuBLAS symbols\n got %v\nwant %v", got, wantCublas)
	}
	// Not loaded in this process yet: nothing counts as resolved.
	for i := range wantDriver {
		if DriverSymbolResolved(i) && driver.err != nil {
			t.Errorf("driver symbol %d resolved without a driver", i)
		}
	}
}

// helper re-runs this test binary with one test and extra environment, since each library is
// loaded once per process.
func helper(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), append(env, "TC_HELPER=1")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

func TestDriverMissing(t *testing.T) { helper(t, "TestHelperDriverMissing") }

func TestHelperDriverMissing(t *testing.T) {
	if os.Getenv("TC_HELPER") == "" {
		t.Skip("run by TestDriverMissing")
	}
	setDriverName("libcuda-not-there.so.1")
	err := LoadDriver()
	if err == nil || core.KindOf(err) != core.KindDevice {
		t.Fatalf("LoadDriver = %v, want a device error", err)
	}
	if !strings.Contains(err.Error(), "libcuda-not-there.so.1") || !strings.Contains(err.Error(), "cannot open shared object file") {
		t.Errorf("message does not name the missing library: %v", err)
	}
	if err2 := LoadDriver(); err2 != err {
		t.Errorf("second LoadDriver = %v, want the first result", err2)
	}
	// Calls without a driver return CUDA_ERROR_NOT_INITIALIZED, never crash.
	if _, err := DeviceGetCount(); err == nil || !strings.Contains(err.Error(), "cuDeviceGetCount failed: CUDA_ERROR_NOT_INITIALIZED (3)") {
		t.Errorf("DeviceGetCount without a driver = %v", err)
	}
}

// TestDriverHere: on a host without libcuda.so.1 the message names it; with a driver but no GPU
// (e.g. Debian's libcuda1 pulled in by nvidia-cuda-toolkit) cuInit's failure is named.
func TestDriverHere(t *testing.T) { t.Log(helper(t, "TestHelperDriverHere")) }

func TestHelperDriverHere(t *testing.T) {
	if os.Getenv("TC_HELPER") == "" {
		t.Skip("run by TestDriverHere")
	}
	err := LoadDriver()
	if err == nil {
		n, err := DeviceGetCount()
		t.Logf("CUDA driver loaded: %d device(s) (%v)", n, err)
		for i := range wantDriver {
			if !DriverSymbolResolved(i) {
				t.Errorf("%s not resolved", wantDriver[i])
			}
		}
		return
	}
	if core.KindOf(err) != core.KindDevice {
		t.Fatalf("kind %v: %v", core.KindOf(err), err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "libcuda.so.1") {
		t.Errorf("message does not name libcuda.so.1: %s", msg)
	}
	var ce *Error
	if errors.As(err, &ce) {
		if ce.Call != "cuInit" {
			t.Errorf("failed call %q, want cuInit", ce.Call)
		}
		// The driver library itself loaded: every symbol must have resolved.
		for i := range wantDriver {
			if !DriverSymbolResolved(i) {
				t.Errorf("%s not resolved", wantDriver[i])
			}
		}
	}
	t.Logf("no usable driver here: %v", err)
}

func TestCublasBadPath(t *testing.T) { helper(t, "TestHelperCublasBadPath") }

func TestHelperCublasBadPath(t *testing.T) {
	if os.Getenv("TC_HELPER") == "" {
		t.Skip("run by TestCublasBadPath")
	}
	const p = "/nonexistent/dir/libcublas.so.13"
	err := LoadCublas(p)
	if err == nil || core.KindOf(err) != core.KindDevice {
		t.Fatalf("LoadCublas(%q) = %v, want a device error", p, err)
	}
	if !strings.Contains(err.Error(), p) {
		t.Errorf("message does not name the path: %v", err)
	}
	// An explicit path is used alone: no fall-back to the sonames.
	if CublasLoadedFrom() != "" {
		t.Errorf("loaded from %q after a failed explicit path", CublasLoadedFrom())
	}
	t.Log(err)
	// A failed attempt can be retried, e.g. with the default search.
	if err := LoadCublas(""); err == nil {
		t.Logf("retry with the sonames: loaded %s", CublasLoadedFrom())
		if err := LoadCublas("/other/path"); err != nil {
			t.Errorf("LoadCublas after a load = %v, want nil (the loaded library stays)", err)
		}
	}
}

func TestCublasNotALibrary(t *testing.T) { helper(t, "TestHelperCublasNotALibrary") }

func TestHelperCublasNotALibrary(t *testing.T) {
	if os.Getenv("TC_HELPER") == "" {
		t.Skip("run by TestCublasNotALibrary")
	}
	err := LoadCublas("libc.so.6") // loads, but has no cuBLAS symbols
	if err == nil || !strings.Contains(err.Error(), "libc.so.6 has no symbol cublasCreate_v2") {
		t.Fatalf("LoadCublas(libc.so.6) = %v", err)
	}
}

// TestCublasSonames: where some libcublas.so.13/.12/.11 is installed (Debian's libcublas11 comes
// with nvidia-cuda-toolkit), every symbol resolves — no GPU needed for that.
func TestCublasSonames(t *testing.T) { t.Log(helper(t, "TestHelperCublasSonames")) }

func TestHelperCublasSonames(t *testing.T) {
	if os.Getenv("TC_HELPER") == "" {
		t.Skip("run by TestCublasSonames")
	}
	if err := LoadCublas(""); err != nil {
		if !strings.Contains(err.Error(), "libcublas.so.13") || !strings.Contains(err.Error(), "libcublas.so.11") {
			t.Errorf("message does not name the sonames tried: %v", err)
		}
		t.Skipf("no cuBLAS here: %v", err)
	}
	t.Logf("cuBLAS loaded from %s", CublasLoadedFrom())
	for i, s := range wantCublas {
		if !CublasSymbolResolved(i) {
			t.Errorf("%s not resolved", s)
		}
	}
	// cuBLAS without a driver or GPU: creating a handle fails with a status, not a crash.
	if _, err := BlasCreate(); err != nil {
		t.Logf("cublasCreate_v2 without a GPU: %v", err)
	}
}

func TestErrorMessages(t *testing.T) {
	e := check("cuMemAlloc_v2", 2)
	if core.KindOf(e) != core.KindDevice || e.Error() != "cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2)" {
		t.Errorf("%v (%v)", e, core.KindOf(e))
	}
	e = checkBlas("cublasSgemm_v2", 13)
	if core.KindOf(e) != core.KindDevice || e.Error() != "cublasSgemm_v2 failed: CUBLAS_STATUS_EXECUTION_FAILED (13)" {
		t.Errorf("%v", e)
	}
	var ce *Error
	if !errors.As(check("cuLaunchKernel(tk_fill)", 719), &ce) || ce.Code != 719 || ce.OutOfMemory() {
		t.Errorf("%+v", ce)
	}
	if check("x", 0) != nil || checkBlas("x", 0) != nil {
		t.Error("success is an error")
	}
}
