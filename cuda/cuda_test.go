//go:build !nocuda

package cuda

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"libtemporal/core"
)

// ---- what needs no GPU ----

// TestNoGPUHere: asking for a device on a host without a usable one is a device error naming
// the cause (no libcuda.so.1, or cuInit's failure), and the process carries on.
func TestNoGPUHere(t *testing.T) {
	if n, err := DeviceCount(); err == nil && n > 0 {
		t.Skipf("%d CUDA device(s) here: the GPU tests run instead", n)
	}
	m, err := core.NewModelInit(smallConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ord := range []int{0, 3} {
		g, err := NewModel(m, ord)
		if err == nil {
			g.Close()
			t.Fatalf("NewModel(cuda:%d) succeeded without a GPU", ord)
		}
		if core.KindOf(err) != core.KindDevice {
			t.Errorf("kind %v, want device: %v", core.KindOf(err), err)
		}
		if msg := err.Error(); !strings.Contains(msg, "libcuda.so.1") {
			t.Errorf("message does not name the driver: %s", msg)
		}
		t.Logf("cuda:%d: %v", ord, err)
	}
	if _, err := DeviceCount(); err == nil || core.KindOf(err) != core.KindDevice {
		t.Errorf("DeviceCount: %v", err)
	}
	if _, err := DeviceName(0); err == nil {
		t.Error("DeviceName(0) succeeded")
	}
	if _, _, err := MemInfo(0); err == nil {
		t.Error("MemInfo(0) succeeded")
	}
	// The CPU path is untouched.
	x := make([]float32, 2*3*m.Config().FeatureDim)
	logits := make([]float32, 2*m.Config().NumClasses)
	if err := m.Forward(x, 2, 3, nil, core.PaddingMasked, logits, nil); err != nil {
		t.Fatal(err)
	}
}

// fatbinEntry is one image in a CUDA fatbin container: kind 1 = PTX, 2 = ELF (SASS); arch as
// the compute capability × 10.
type fatbinEntry struct{ kind, arch int }

// parseFatbin reads the container's entry headers (layout as written by nvcc's fatbinary:
// magic 0xBA55ED50, u16 version, u16 header size, u64 payload size; then per entry u16 kind,
// u16 version, u32 header size, u64 payload size, …, u32 arch at +0x1c).
func parseFatbin(b []byte) ([]fatbinEntry, error) {
	le := binary.LittleEndian
	if len(b) < 16 || le.Uint32(b) != 0xBA55ED50 {
		return nil, fmt.Errorf("not a fatbin (magic %#x)", le.Uint32(b))
	}
	hs := int(le.Uint16(b[6:]))
	end := hs + int(le.Uint64(b[8:]))
	if end > len(b) {
		return nil, fmt.Errorf("fatbin size %d > file %d", end, len(b))
	}
	var out []fatbinEntry
	for off := hs; off < end; {
		if off+0x20 > end {
			return nil, fmt.Errorf("truncated entry at %d", off)
		}
		e := b[off:]
		ehs, size := int(le.Uint32(e[4:])), int(le.Uint64(e[8:]))
		out = append(out, fatbinEntry{int(le.Uint16(e)), int(le.Uint32(e[0x1c:]))})
		off += ehs + size
	}
	return out, nil
}

func TestFatbinArchitectures(t *testing.T) {
	got, err := parseFatbin(kernelsFatbin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[fatbinEntry]bool{{2, 80}: true, {2, 90}: true, {1, 90}: true}
	if len(got) != len(want) {
		t.Errorf("entries %v, want SASS sm_80, SASS sm_90, PTX compute_90", got)
	}
	for _, e := range got {
		if !want[e] {
			t.Errorf("unexpected entry %+v", e)
		}
	}
	if path, err := exec.LookPath("cuobjdump"); err == nil {
		out, err := exec.Command(path, "--list-elf", "--list-ptx", "kernels.fatbin").CombinedOutput()
		if err != nil {
			t.Fatalf("cuobjdump: %v\n%s", err, out)
		}
		s := string(out)
		for _, w := range []string{"sm_80.cubin", "sm_90.cubin", "sm_90.ptx"} {
			if !strings.Contains(s, w) {
				t.Errorf("cuobjdump does not list %s:\n%s", w, s)
			}
		}
		t.Logf("cuobjdump:\n%s", s)
	}
	for _, name := range kernelNames {
		if !strings.Contains(string(kernelsFatbin), name) {
			t.Errorf("kernel %s not in the fatbin", name)
		}
	}
}

// TestFatbinMatchesSources rebuilds the fatbin with nvcc 11.8 (Debian's nvidia-cuda-toolkit)
// and compares; other nvcc versions (or none) skip.
func TestFatbinMatchesSources(t *testing.T) {
	out, err := exec.Command("nvcc", "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "release 11.8") {
		t.Skip("nvcc 11.8 not installed (Debian nvidia-cuda-toolkit)")
	}
	cmd := exec.Command("../scripts/build-fatbin.sh", "--check")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// ---- on a GPU ----

func smallConfig() core.Config {
	c := core.DefaultConfig()
	c.FeatureDim, c.HiddenDim, c.NumLayers, c.NumHeads, c.NumClasses = 24, 16, 2, 4, 5
	c.ClassifierWidths = []int{24, 12}
	return c
}

func needGPU(t *testing.T) {
	t.Helper()
	n, err := DeviceCount()
	if err != nil || n == 0 {
		t.Skipf("no CUDA device: %v", err)
	}
}

// relErr is ‖a−b‖/‖b‖ (DESIGN §8's CPU-vs-CUDA measure).
func relErr(a, b []float32) float64 {
	var num, den float64
	for i := range b {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

const relTol = 1e-5

// compare runs m on the CPU and g on the GPU and checks logits and frame weights.
func compare(t *testing.T, what string, m *core.Model, g *Model, x []float32, B, T int, lengths []int32, pad core.Padding) {
	t.Helper()
	C := m.Config().NumClasses
	want, wantFW := make([]float32, B*C), make([]float32, B*T)
	if err := m.Forward(x, B, T, lengths, pad, want, wantFW); err != nil {
		t.Fatalf("%s: CPU: %v", what, err)
	}
	got, gotFW := make([]float32, B*C), make([]float32, B*T)
	for i := range got {
		got[i] = float32(math.NaN()) // poison: every element must be written
	}
	for i := range gotFW {
		gotFW[i] = float32(math.NaN())
	}
	if err := g.Forward(x, B, T, lengths, pad, got, gotFW); err != nil {
		t.Fatalf("%s: GPU: %v", what, err)
	}
	for i, v := range gotFW {
		if math.IsNaN(float64(v)) {
			t.Fatalf("%s: frame weight %d not written", what, i)
		}
		if wantFW[i] == 0 && v != 0 {
			t.Fatalf("%s: frame weight %d = %g, want exactly 0", what, i, v)
		}
	}
	e, efw := relErr(got, want), relErr(gotFW, wantFW)
	if e > relTol || efw > relTol || math.IsNaN(e) || math.IsNaN(efw) {
		t.Errorf("%s: ‖Δlogits‖/‖logits‖ = %.3g, frame weights %.3g (limit %g)", what, e, efw, relTol)
	} else {
		t.Logf("%s: ‖Δlogits‖/‖logits‖ = %.3g, frame weights %.3g", what, e, efw)
	}
}

const fixtureDir = "../tests/parity/fixtures"

func TestGPUParityFixtures(t *testing.T) {
	needGPU(t)
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
		g, err := NewModel(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
			compare(t, name+"/"+pad.String(), m, g, x, B, T, lengths, pad)
			// And PyTorch's own answer, with DESIGN §8's per-tensor bound.
			want, _ := io.F32("logits." + pad.String())
			got := make([]float32, len(want))
			if err := g.Forward(x, B, T, lengths, pad, got, nil); err != nil {
				t.Fatal(err)
			}
			var worst, mb float64
			for i := range want {
				worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
				mb = math.Max(mb, math.Abs(float64(want[i])))
			}
			if worst > 1e-4*mb+1e-6 {
				t.Errorf("%s/%s vs PyTorch: max|Δ| = %.3g", name, pad, worst)
			}
		}
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	}
}

// randomBatch is x [B, T, F] ~ N(0, 1) and lengths mixing 1, T and values between, with
// max(lengths) < T when short (reference mode then cuts to T′ < T).
func randomBatch(rng *rand.Rand, B, T, F int, short bool) ([]float32, []int32) {
	x := make([]float32, B*T*F)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	lengths := make([]int32, B)
	top := T
	if short {
		top = T - T/4
	}
	for b := range lengths {
		switch b % 4 {
		case 0:
			lengths[b] = int32(top)
		case 1:
			lengths[b] = 1
		default:
			lengths[b] = 1 + int32(rng.IntN(top))
		}
	}
	return x, lengths
}

func TestGPURandomDefaultConfig(t *testing.T) {
	needGPU(t)
	m, err := core.NewModelInit(core.DefaultConfig(), 7)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewModel(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	F := m.Config().FeatureDim
	for _, c := range []struct {
		B, T  int
		short bool
	}{{1, 64, false}, {5, 64, true}, {8, 64, false}, {3, 17, false}} {
		x, lengths := randomBatch(rng, c.B, c.T, F, c.short)
		for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
			compare(t, fmt.Sprintf("default B=%d T=%d lengths=%v %s", c.B, c.T, lengths, pad), m, g, x, c.B, c.T, lengths, pad)
		}
		compare(t, fmt.Sprintf("default B=%d T=%d no lengths", c.B, c.T), m, g, x, c.B, c.T, nil, core.PaddingMasked)
	}
}

// TestGPUShapes: many small shapes, unidirectional and bidirectional, heads with odd head_dim,
// growing and shrinking batches on one model (workspace reuse).
func TestGPUShapes(t *testing.T) {
	needGPU(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bi := range []bool{true, false} {
		cfg := smallConfig()
		cfg.Bidirectional = bi
		cfg.NumHeads = 2
		cfg.HiddenDim = 13 // D = 26 with 2 heads, or 13 with 1: head_dim 13
		if !bi {
			cfg.NumHeads = 1
		}
		m, err := core.NewModelInit(cfg, 11)
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewModel(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range [][2]int{{1, 1}, {3, 7}, {40, 5}, {2, 33}, {1, 200}, {17, 9}} {
			x, lengths := randomBatch(rng, s[0], s[1], cfg.FeatureDim, s[1] > 4)
			for _, pad := range []core.Padding{core.PaddingMasked, core.PaddingReference} {
				compare(t, fmt.Sprintf("bi=%v B=%d T=%d %s", bi, s[0], s[1], pad), m, g, x, s[0], s[1], lengths, pad)
			}
		}
		g.Close()
	}
}

// TestGPUConcurrent: several goroutines on two models of one device give bitwise the serial
// results (one stream, one thread per device).
func TestGPUConcurrent(t *testing.T) {
	needGPU(t)
	cfg := smallConfig()
	m, _ := core.NewModelInit(cfg, 5)
	g1, err := NewModel(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g1.Close()
	g2, err := NewModel(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const B, T = 6, 20
	x, lengths := randomBatch(rng, B, T, cfg.FeatureDim, true)
	want := make([]float32, B*cfg.NumClasses)
	if err := g1.Forward(x, B, T, lengths, core.PaddingMasked, want, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(g *Model) {
			defer wg.Done()
			got := make([]float32, len(want))
			for k := 0; k < 20; k++ {
				if err := g.Forward(x, B, T, lengths, core.PaddingMasked, got, nil); err != nil {
					errs <- err
					return
				}
				for j := range got {
					if got[j] != want[j] {
						errs <- fmt.Errorf("call %d: logits[%d] = %v, want %v", k, j, got[j], want[j])
						return
					}
				}
			}
		}([]*Model{g1, g2}[i%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := g2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g2.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := g2.Forward(x, B, T, lengths, core.PaddingMasked, want, nil); err == nil {
		t.Error("Forward after Close succeeded")
	}
}

// TestGPUDeviceLifecycle: the device goes when its last model does and comes back on demand;
// queries work with and without a model; bad calls fail before the device.
func TestGPUDeviceLifecycle(t *testing.T) {
	needGPU(t)
	n, _ := DeviceCount()
	name, err := DeviceName(0)
	if err != nil {
		t.Fatal(err)
	}
	free, total, err := MemInfo(0)
	if err != nil || total == 0 || free > total {
		t.Fatalf("MemInfo: %d/%d %v", free, total, err)
	}
	t.Logf("%d device(s); cuda:0 %s, %.1f of %.1f GiB free", n, name, float64(free)/(1<<30), float64(total)/(1<<30))
	if _, err := NewModel(nil, n); err == nil || core.KindOf(err) != core.KindDevice {
		t.Errorf("cuda:%d (past the last device): %v", n, err)
	}
	m, _ := core.NewModelInit(smallConfig(), 9)
	for round := 0; round < 3; round++ {
		g, err := NewModel(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := MemInfo(0); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, 2*3*m.Config().FeatureDim)
		x[5] = float32(math.Inf(1))
		out := make([]float32, 2*m.Config().NumClasses)
		if err := g.Forward(x, 2, 3, nil, core.PaddingMasked, out, nil); core.KindOf(err) != core.KindNumeric {
			t.Errorf("Inf feature: %v", err)
		}
		if err := g.Forward(x[:5], 2, 3, nil, core.PaddingMasked, out, nil); core.KindOf(err) != core.KindShape {
			t.Errorf("short features: %v", err)
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		devices.Lock()
		live := len(devices.m)
		devices.Unlock()
		if live != 0 {
			t.Fatalf("round %d: %d device(s) still held after the last Close", round, live)
		}
	}
}

func TestMain(m *testing.M) {
	if os.Getenv("TEMPORAL_TEST_REQUIRE_GPU") != "" {
		if n, err := DeviceCount(); err != nil || n == 0 {
			fmt.Fprintf(os.Stderr, "TEMPORAL_TEST_REQUIRE_GPU is set but no CUDA device is usable: %v\n", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// TestKernelSignatures: every launcher in cu/shim.h passes exactly the parameters its kernel
// declares (PTX types from cuobjdump -ptx; skipped without cuobjdump). A mismatch would be
// undefined behaviour on the device that no compiler sees.
func TestKernelSignatures(t *testing.T) {
	path, err := exec.LookPath("cuobjdump")
	if err != nil {
		t.Skip("cuobjdump not installed")
	}
	ptx, err := exec.Command(path, "-ptx", "kernels.fatbin").Output()
	if err != nil {
		t.Fatal(err)
	}
	kernelParams := map[string][]string{}
	entry := regexp.MustCompile(`\.entry (\w+)\(([^)]*)\)`)
	param := regexp.MustCompile(`\.param \.(\w+) `)
	for _, m := range entry.FindAllStringSubmatch(string(ptx), -1) {
		for _, p := range param.FindAllStringSubmatch(m[2], -1) {
			kernelParams[m[1]] = append(kernelParams[m[1]], p[1])
		}
	}
	hdr, err := os.ReadFile("cu/shim.h")
	if err != nil {
		t.Fatal(err)
	}
	launcher := regexp.MustCompile(`tc_result tc_launch_(\w+)\(tc_function f, unsigned grid, unsigned block, tc_stream s,([^;]*)\);`)
	ptxType := map[string]string{"tc_ptr": "u64", "float": "f32", "long long": "u64", "int": "u32"}
	seen := 0
	for _, m := range launcher.FindAllStringSubmatch(string(hdr), -1) {
		kernel := "tk_" + m[1]
		var got []string
		for _, a := range strings.Split(m[2], ",") {
			f := strings.Fields(a)
			typ := strings.Join(f[:len(f)-1], " ")
			pt, ok := ptxType[typ]
			if !ok {
				t.Fatalf("%s: unknown C type %q", kernel, typ)
			}
			got = append(got, pt)
		}
		want, ok := kernelParams[kernel]
		if !ok {
			t.Errorf("launcher for %s, which the fatbin lacks", kernel)
			continue
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: launcher passes %v, kernel takes %v", kernel, got, want)
		}
		seen++
	}
	if seen != len(kernelNames) || len(kernelParams) != len(kernelNames) {
		t.Errorf("%d launchers, %d kernels in the PTX, %d names in Go", seen, len(kernelParams), len(kernelNames))
	}
}

// TestGPUPhaseTimes logs where a forward's time goes at the default config (T = 64): the host
// checks and upload, each stage with the device synchronised after it, and the plain call
// without those synchronisations. Informative (no assertions beyond success): it is what the
// first GPU run should show next to gpu_timings.md.
func TestGPUPhaseTimes(t *testing.T) {
	needGPU(t)
	m, err := core.NewModelInit(core.DefaultConfig(), 3)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewModel(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(7, 8))
	const T, reps = 64, 5
	C, F := m.Config().NumClasses, m.Config().FeatureDim
	for _, B := range []int{1, 8, 64, 256} {
		x, _ := randomBatch(rng, B, T, F, false)
		logits := make([]float32, B*C)
		for i := 0; i < 2; i++ { // warm-up: workspace, cuBLAS heuristics
			if err := g.Forward(x, B, T, nil, core.PaddingMasked, logits, nil); err != nil {
				t.Fatal(err)
			}
		}
		plain := make([]float64, reps)
		for i := range plain {
			t0 := time.Now()
			if err := g.Forward(x, B, T, nil, core.PaddingMasked, logits, nil); err != nil {
				t.Fatal(err)
			}
			plain[i] = float64(time.Since(t0).Microseconds()) / 1e3
		}
		phases := map[string][]float64{}
		var names []string
		for i := 0; i < reps; i++ {
			last := time.Now()
			g.phase = func(name string) {
				now := time.Now()
				if i == 0 {
					names = append(names, name)
				}
				phases[name] = append(phases[name], float64(now.Sub(last).Microseconds())/1e3)
				last = now
			}
			err := g.Forward(x, B, T, nil, core.PaddingMasked, logits, nil)
			g.phase(`classifier + download`)
			g.phase = nil
			if err != nil {
				t.Fatal(err)
			}
		}
		line := fmt.Sprintf("B=%3d T=%d: call %.2f ms (median of %d);", B, T, median(plain), reps)
		for _, n := range names {
			line += fmt.Sprintf(" %s %.2f", n, median(phases[n]))
		}
		t.Log(line + " ms")
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
