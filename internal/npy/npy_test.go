package npy

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFloat32RoundTripAnyRank(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {5}, {2, 3}, {2, 1, 3}, {1, 2, 1, 2}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.5 - 1
		}
		var b bytes.Buffer
		if err := WriteFloat32(&b, data, shape); err != nil {
			t.Fatal(err)
		}
		if hl := binary.LittleEndian.Uint16(b.Bytes()[8:]); (10+int(hl))%64 != 0 {
			t.Fatalf("shape %v: data starts at %d, not a multiple of 64", shape, 10+hl)
		}
		a, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		got, err := a.Float32()
		if err != nil || len(a.Shape) != len(shape) || a.Len() != n {
			t.Fatalf("shape %v: got %v %v", shape, a.Shape, err)
		}
		for i := range data {
			if got[i] != data[i] {
				t.Fatalf("shape %v: [%d] = %v, want %v", shape, i, got[i], data[i])
			}
		}
	}
}

func TestIntVectors(t *testing.T) {
	for _, d := range []string{"<i4", "<i8"} {
		var b bytes.Buffer
		if err := WriteInts(&b, []int64{3, -1, 7}, d); err != nil {
			t.Fatal(err)
		}
		a, err := Parse(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		v, err := a.Ints()
		if err != nil || len(v) != 3 || v[0] != 3 || v[1] != -1 || v[2] != 7 {
			t.Fatalf("%s: %v %v", d, v, err)
		}
		if _, err := a.Float32(); err == nil {
			t.Fatalf("%s read as float32", d)
		}
	}
}

func mk(hdr string, data []byte) []byte {
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	return append(append(out, hdr...), data...)
}

func TestMalformedFilesAreRejected(t *testing.T) {
	f4 := make([]byte, 24)
	cases := map[string][]byte{
		"empty":           nil,
		"bad magic":       []byte("\x93NUMPX\x01\x00\x00\x00"),
		"header past end": append([]byte("\x93NUMPY\x01\x00"), 0xff, 0x00, '{'),
		"no newline":      mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4),
		"short data":      mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }\n", f4),
		"trailing data":   mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", f4),
		"big-endian":      mk("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4),
		"fortran":         mk("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", f4),
		"overflow":        mk("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }\n", f4),
		"negative":        mk("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, -3), }\n", f4),
		"repeated key":    mk("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", f4),
		"missing key":     mk("{'descr': '<f4', 'shape': (2, 3), }\n", f4),
		"v2 huge header":  append([]byte("\x93NUMPY\x02\x00"), 0, 0, 0, 0x40),
		"version 9":       append([]byte("\x93NUMPY\x09\x00"), 0, 0, 0, 0),
	}
	for name, data := range cases {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "npy: ") {
			t.Errorf("%s: error %q lacks the npy prefix", name, err)
		}
	}
	// Fortran order is the same layout for a vector: accept it.
	if _, err := Parse(mk("{'descr': '<f4', 'fortran_order': True, 'shape': (6,), }\n", f4)); err != nil {
		t.Errorf("1-D Fortran: %v", err)
	}
}

// TestNumPyWrittenFilesRead reads files written by numpy itself, when /usr/bin/python3 has it.
func TestNumPyWrittenFilesRead(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		t.Skip("numpy for /usr/bin/python3 not available:", err)
	}
	dir := t.TempDir()
	script := `import numpy as np, sys
d = sys.argv[1]
np.save(d + "/x.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8)
np.save(d + "/l32.npy", np.array([3, 1], dtype=np.int32))
np.save(d + "/l64.npy", np.array([3, 1], dtype=np.int64))
np.save(d + "/f.npy", np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
`
	if out, err := exec.Command("/usr/bin/python3", "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	a, err := ReadFile(filepath.Join(dir, "x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := a.Float32()
	if len(a.Shape) != 3 || a.Shape[2] != 4 || x[23] != 23.0/8 {
		t.Fatalf("x: %v %v", a.Shape, x)
	}
	for _, n := range []string{"l32.npy", "l64.npy"} {
		a, err := ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if v, err := a.Ints(); err != nil || v[0] != 3 || v[1] != 1 {
			t.Fatalf("%s: %v %v", n, v, err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "f.npy")); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Fatalf("Fortran-order 2-D array: %v", err)
	}
	// And numpy reads what we write.
	f, _ := os.Create(filepath.Join(dir, "ours.npy"))
	WriteFloat32(f, []float32{1, 2, 3, 4, 5, 6}, []int{3, 2})
	f.Close()
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a[2, 1])", filepath.Join(dir, "ours.npy")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "float32 (3, 2) 6.0" {
		t.Fatalf("numpy read ours: %v %s", err, out)
	}
}

// FuzzRead: no input panics or allocates beyond its own size; what parses writes back equal.
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	WriteFloat32(&b, []float32{1, 2, 3, 4, 5, 6}, []int{2, 3})
	f.Add(b.Bytes())
	b.Reset()
	WriteInts(&b, []int64{1, 2}, "<i8")
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			return
		}
		if a.Descr != "<f4" {
			return
		}
		v, err := a.Float32()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := WriteFloat32(&b, v, a.Shape); err != nil {
			t.Fatal(err)
		}
		a2, err := Parse(b.Bytes())
		if err != nil || !bytes.Equal(a2.Data, a.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func TestFloat32AliasesAlignedDataAndCopiesUnaligned(t *testing.T) {
	var b bytes.Buffer
	WriteFloat32(&b, []float32{1, 2, 3}, []int{3})
	buf := make([]byte, b.Len()+1)
	for _, off := range []int{0, 1} { // data at a 4-aligned and at an odd address
		data := buf[off : off+b.Len()]
		copy(data, b.Bytes())
		a, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		v, err := a.Float32()
		if err != nil || len(v) != 3 || v[0] != 1 || v[1] != 2 || v[2] != 3 {
			t.Fatalf("offset %d: %v %v", off, v, err)
		}
	}
}
