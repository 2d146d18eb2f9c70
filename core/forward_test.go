package core

import (
	"math"
	"strings"
	"testing"
)

func tinyConfig() Config {
	return Config{FeatureDim: 5, HiddenDim: 6, NumLayers: 2, NumHeads: 3, NumClasses: 3, Dropout: 0.4,
		Bidirectional: true, ClassifierWidths: []int{8, 4}}
}

func TestDefaultConfigSize(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := cfg.NumParams(); n != 65277701 {
		t.Errorf("default config has %d parameters, want 65,277,701", n)
	}
	if n := len(cfg.ParamSpecs()); n != 62 {
		t.Errorf("default config has %d tensors, want 62", n)
	}
	var sum int64
	for _, s := range cfg.ParamSpecs() {
		sum += s.Size()
	}
	if sum != cfg.NumParams() {
		t.Errorf("specs sum to %d, NumParams says %d", sum, cfg.NumParams())
	}
}

func TestConfigValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"num_heads = 5 does not divide D = 12": func(c *Config) { c.NumHeads = 5 },
		"num_classes = 1":                      func(c *Config) { c.NumClasses = 1 },
		"D = 1":                                func(c *Config) { c.HiddenDim, c.Bidirectional, c.NumHeads = 1, false, 1 },
		"dropout":                              func(c *Config) { c.Dropout = math.NaN() },
		"classifier_widths needs":              func(c *Config) { c.ClassifierWidths = nil },
		"feature_dim = 0":                      func(c *Config) { c.FeatureDim = 0 },
	}
	for want, mutate := range bad {
		c := tinyConfig()
		mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want error containing %q, got %v", want, err)
		}
	}
}

// TestForwardBadInput: every malformed call is an error of the documented kind naming the
// problem, never a panic.
func TestForwardBadInput(t *testing.T) {
	m, err := NewModelInit(tinyConfig(), 7)
	if err != nil {
		t.Fatal(err)
	}
	B, T, F, C := 2, 4, 5, 3
	x := make([]float32, B*T*F)
	logits := make([]float32, B*C)
	nan := make([]float32, B*T*F)
	nan[17] = float32(math.NaN())
	cases := []struct {
		name    string
		x       []float32
		B, T    int
		lengths []int32
		logits  []float32
		fw      []float32
		kind    Kind
		msg     string
	}{
		{"wrong feature_dim", make([]float32, B*T*(F+1)), B, T, nil, logits, nil, KindShape, "feature_dim"},
		{"B = 0", nil, 0, T, nil, logits, nil, KindInvalidArgument, "batch = 0"},
		{"T = 0", nil, B, 0, nil, logits, nil, KindInvalidArgument, "frames = 0"},
		{"negative B", x, -1, T, nil, logits, nil, KindInvalidArgument, "batch = -1"},
		{"length 0", x, B, T, []int32{4, 0}, logits, nil, KindInvalidArgument, "lengths[1] = 0"},
		{"length > T", x, B, T, []int32{5, 1}, logits, nil, KindInvalidArgument, "lengths[0] = 5"},
		{"lengths count", x, B, T, []int32{4}, logits, nil, KindShape, "lengths hold 1"},
		{"logits too small", x, B, T, nil, logits[:B*C-1], nil, KindShape, "logits buffer"},
		{"frame weights too small", x, B, T, nil, logits, make([]float32, B*T-1), KindShape, "frame_weights"},
		{"NaN feature", nan, B, T, nil, logits, nil, KindNumeric, "features[17]"},
		{"huge batch", x, MaxBatch + 1, T, nil, logits, nil, KindInvalidArgument, "batch"},
		{"huge workspace", make([]float32, 1*70000*F), 1, 70000, nil, logits, nil, KindOutOfMemory, "workspace"},
	}
	for _, c := range cases {
		err := m.Forward(c.x, c.B, c.T, c.lengths, PaddingMasked, c.logits, c.fw)
		if err == nil || KindOf(err) != c.kind || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v (kind %v), want kind %v containing %q", c.name, err, KindOf(err), c.kind, c.msg)
		}
	}
	if err := m.Forward(x, B, T, nil, Padding(9), logits, nil); KindOf(err) != KindInvalidArgument {
		t.Errorf("unknown padding: got %v", err)
	}
}

// TestForwardZeroAllocs: steady-state predict allocates nothing (workspaces from the free list).
func TestForwardZeroAllocs(t *testing.T) {
	m, _ := NewModelInit(tinyConfig(), 3)
	B, T := 3, 6
	x := make([]float32, B*T*5)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	lengths := []int32{6, 2, 4}
	logits := make([]float32, B*3)
	fw := make([]float32, B*T)
	for _, pad := range []Padding{PaddingMasked, PaddingReference} {
		allocs := testing.AllocsPerRun(20, func() {
			if err := m.Forward(x, B, T, lengths, pad, logits, fw); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Forward, want 0", pad, allocs)
		}
	}
}

// TestForwardConcurrentDeterministic: results do not depend on how many calls run at once.
func TestForwardConcurrentDeterministic(t *testing.T) {
	m, _ := NewModelInit(tinyConfig(), 5)
	B, T := 4, 7
	x := make([]float32, B*T*5)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	lengths := []int32{7, 3, 1, 5}
	want := make([]float32, B*3)
	if err := m.Forward(x, B, T, lengths, PaddingMasked, want, nil); err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 16)
	done := make(chan bool)
	for g := 0; g < 16; g++ {
		go func() {
			got := make([]float32, B*3)
			for i := 0; i < 50; i++ {
				if err := m.Forward(x, B, T, lengths, PaddingMasked, got, nil); err != nil {
					errs <- err.Error()
					break
				}
				for j := range got {
					if got[j] != want[j] {
						errs <- "concurrent result differs from serial"
						break
					}
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 16; g++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
