package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"libtemporal/core"
)

// TestCommittedFixture checks that the committed tests/data files are what this generator makes
// today: the checkpoint loads, and the stored outputs equal the core's within 1e-6.
func TestCommittedFixture(t *testing.T) {
	dir := filepath.Join("..", "data")
	m, err := core.LoadFile(filepath.Join(dir, "small.safetensors"), core.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := caseBytes(m)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "small.case.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("case file has %d bytes, generator makes %d", len(want), len(got))
	}
	head := 8 + 4*4 + 4*B + 4*B*T*fixtureConfig.FeatureDim
	if !bytes.Equal(got[:head], want[:head]) {
		t.Fatal("header, lengths or features differ from the generator's")
	}
	g, w := floatsLE(got[head:]), floatsLE(want[head:])
	for i := range g {
		if d := g[i] - w[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("output %d: core gives %v, file has %v", i, g[i], w[i])
		}
	}
}

// TestCreateMatchesFile checks that NewModelInit with the fixture's config and seed gives the
// committed weights bit for bit (the C/C++ tests rely on temporal_model_create doing the same).
func TestCreateMatchesFile(t *testing.T) {
	m, err := core.LoadFile(filepath.Join("..", "data", "small.safetensors"), core.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := core.NewModelInit(fixtureConfig, fixtureSeed)
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Slab(), fresh.Slab()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d parameters", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d: file %v, fresh %v", i, a[i], b[i])
		}
	}
}

func floatsLE(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		u := uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24
		f[i] = float32frombits(u)
	}
	return f
}

func float32frombits(u uint32) float32 { return math.Float32frombits(u) }
