package core

// Our own safetensors reader and writer, rather than github.com/nlpodyssey/safetensors, because
// a checkpoint is untrusted input that we must reject precisely and load cheaply:
//   - the header is validated fully before anything is allocated from it: length limit, JSON
//     duplicate keys and unknown fields rejected, dtypes known, every size = dtype × shape
//     computed without overflow, offsets in range and the tensors contiguous in the data section
//     with no overlap, no gap and no trailing bytes (DESIGN §4);
//   - the header parser works on the header alone, so LoadFile can read each tensor's bytes with
//     ReadAt straight into the model's parameter slab (no second copy of a 260 MB file);
//   - the data section's SHA-256 travels in our metadata and is checked on load.
// The format: 8-byte little-endian header length n, n bytes of JSON header
// {"__metadata__": {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}},
// then the data section; offsets are relative to its start. Little-endian data only.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"unsafe"
)

// MaxSafetensorsHeader bounds the JSON header (the reference format's own readers use 100 MB).
const MaxSafetensorsHeader = 100 << 20

// dtypeSizes are the element sizes of the safetensors dtypes we can describe.
var dtypeSizes = map[string]int64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// hostLittleEndian: tensor bytes are copied into Go slices as they are, which needs a
// little-endian host (amd64, arm64).
var hostLittleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Tensor is one named tensor of a safetensors file. Data holds its raw little-endian bytes.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// stEntry is one validated header entry: Begin/End are offsets into the data section.
type stEntry struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64
}

// stHeader is a validated header; Entries are sorted by Begin (data-section order).
type stHeader struct {
	Metadata map[string]string // nil when the file has no __metadata__
	Entries  []stEntry
	index    map[string]int
}

func (h *stHeader) entry(name string) (*stEntry, bool) {
	i, ok := h.index[name]
	if !ok {
		return nil, false
	}
	return &h.Entries[i], true
}

// parseSafetensorsHeader validates a JSON header against a data section of dataLen bytes.
func parseSafetensorsHeader(hdr []byte, dataLen int64) (*stHeader, error) {
	if err := checkJSONDuplicateKeys(hdr); err != nil {
		return nil, Wrap(KindFormat, err, "safetensors header")
	}
	var raw map[string]json.RawMessage
	if t := bytes.TrimLeft(hdr, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, Errf(KindFormat, "safetensors header is not a JSON object")
	}
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, Wrap(KindFormat, err, "safetensors header is not a JSON object")
	}
	h := &stHeader{index: make(map[string]int, len(raw))}
	for name, v := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(v, &h.Metadata); err != nil {
				return nil, Wrap(KindFormat, err, "safetensors __metadata__ must map strings to strings")
			}
			if h.Metadata == nil {
				h.Metadata = map[string]string{}
			}
			continue
		}
		var e struct {
			DType       *string  `json:"dtype"`
			Shape       *[]int64 `json:"shape"`
			DataOffsets *[]int64 `json:"data_offsets"`
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, Wrap(KindFormat, err, "safetensors tensor %q", name)
		}
		if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
			return nil, Errf(KindFormat, "safetensors tensor %q lacks dtype, shape or data_offsets", name)
		}
		esz, ok := dtypeSizes[*e.DType]
		if !ok {
			return nil, Errf(KindFormat, "safetensors tensor %q has unknown dtype %q", name, *e.DType)
		}
		if len(*e.DataOffsets) != 2 {
			return nil, Errf(KindFormat, "safetensors tensor %q: data_offsets needs 2 entries", name)
		}
		size, shape := esz, make([]int, len(*e.Shape))
		for i, d := range *e.Shape {
			if d < 0 || d > math.MaxInt32 {
				return nil, Errf(KindFormat, "safetensors tensor %q: dimension %d out of range", name, d)
			}
			shape[i] = int(d)
			// size stays ≤ dataLen (checked below), so the product never overflows int64.
			if d != 0 && size > math.MaxInt64/d {
				return nil, Errf(KindFormat, "safetensors tensor %q: size overflows", name)
			}
			size *= d
		}
		b, end := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
		if b < 0 || end < b || end > dataLen {
			return nil, Errf(KindFormat, "safetensors tensor %q: data_offsets [%d, %d] outside the data section of %d bytes", name, b, end, dataLen)
		}
		if end-b != size {
			return nil, Errf(KindFormat, "safetensors tensor %q: %d bytes for %s%v (needs %d)", name, end-b, *e.DType, shape, size)
		}
		h.Entries = append(h.Entries, stEntry{Name: name, DType: *e.DType, Shape: shape, Begin: b, End: end})
	}
	sort.Slice(h.Entries, func(i, j int) bool {
		a, b := h.Entries[i], h.Entries[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End // empty tensors first at a shared offset
	})
	pos := int64(0)
	for i, e := range h.Entries {
		if e.Begin != pos {
			if e.Begin < pos {
				return nil, Errf(KindFormat, "safetensors tensor %q overlaps the tensor before it (offset %d < %d)", e.Name, e.Begin, pos)
			}
			return nil, Errf(KindFormat, "safetensors tensor %q leaves a gap in the data section (offset %d, expected %d)", e.Name, e.Begin, pos)
		}
		pos = e.End
		h.index[e.Name] = i
	}
	if pos != dataLen {
		return nil, Errf(KindFormat, "safetensors data section has %d bytes, tensors cover %d", dataLen, pos)
	}
	return h, nil
}

// checkJSONDuplicateKeys rejects a JSON text with a repeated key in any object: encoding/json
// silently keeps the last, so two entries for one tensor would otherwise pass unseen.
func checkJSONDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth > 64 {
			return fmt.Errorf("JSON nested too deeply")
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if seen[k] {
					return fmt.Errorf("duplicate key %q", k)
				}
				seen[k] = true
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // closing delimiter
		return err
	}
	return walk(0)
}

// readSafetensorsPrefix reads the 8-byte length and the header from r, for a file of size
// bytes, and returns the validated header and where the data section starts.
func readSafetensorsPrefix(r io.ReaderAt, size int64) (*stHeader, int64, error) {
	if !hostLittleEndian {
		return nil, 0, Errf(KindUnsupported, "safetensors: big-endian hosts are not supported")
	}
	var lenBuf [8]byte
	if size < 8 {
		return nil, 0, Errf(KindFormat, "safetensors: file of %d bytes is too short for a header", size)
	}
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, 0, Wrap(KindIO, err, "safetensors: reading header length")
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, 0, Errf(KindFormat, "safetensors: header length %d runs past the end of the %d-byte file", n, size)
	}
	if n > MaxSafetensorsHeader {
		return nil, 0, Errf(KindOutOfMemory, "safetensors: header of %d bytes exceeds the limit of %d", n, MaxSafetensorsHeader)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, 0, Wrap(KindIO, err, "safetensors: reading header")
	}
	start := 8 + int64(n)
	h, err := parseSafetensorsHeader(hdr, size-start)
	return h, start, err
}

// Safetensors is a whole safetensors file read into memory: its metadata and its tensors in
// data-section order. For tests, fixtures and training state; checkpoints use LoadFile.
type Safetensors struct {
	Metadata map[string]string
	Tensors  []Tensor
	index    map[string]int
}

// ReadSafetensors parses a safetensors file held in data; tensor Data alias data. When the
// metadata carries "sha256" (files from WriteSafetensorsFile and checkpoints) the data section
// must match it.
func ReadSafetensors(data []byte) (*Safetensors, error) {
	h, start, err := readSafetensorsPrefix(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	if want, ok := h.Metadata["sha256"]; ok {
		sum := sha256.Sum256(data[start:])
		if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
			return nil, Errf(KindFormat, "safetensors: data section SHA-256 %s does not match the recorded %s (file corrupted)", got, want)
		}
	}
	s := &Safetensors{Metadata: h.Metadata, index: h.index}
	for _, e := range h.Entries {
		s.Tensors = append(s.Tensors, Tensor{Name: e.Name, DType: e.DType, Shape: e.Shape,
			Data: data[start+e.Begin : start+e.End : start+e.End]})
	}
	return s, nil
}

// ReadSafetensorsFile reads and parses a safetensors file.
func ReadSafetensorsFile(path string) (*Safetensors, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Wrap(KindIO, err, "safetensors: reading %s", path)
	}
	s, err := ReadSafetensors(data)
	if err != nil {
		return nil, Wrap(KindOf(err), err, "%s", path)
	}
	return s, nil
}

// Tensor returns the named tensor.
func (s *Safetensors) Tensor(name string) (*Tensor, bool) {
	i, ok := s.index[name]
	if !ok {
		return nil, false
	}
	return &s.Tensors[i], true
}

func (s *Safetensors) typed(name, dtype string) (*Tensor, error) {
	t, ok := s.Tensor(name)
	if !ok {
		return nil, Errf(KindFormat, "safetensors: no tensor %q", name)
	}
	if t.DType != dtype {
		return nil, Errf(KindFormat, "safetensors: tensor %q is %s, not %s", name, t.DType, dtype)
	}
	return t, nil
}

// F32 returns a copy of the named F32 tensor's values.
func (s *Safetensors) F32(name string) ([]float32, error) {
	t, err := s.typed(name, "F32")
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Data)/4)
	copy(bytesOf(out), t.Data)
	return out, nil
}

// F64 returns a copy of the named F64 tensor's values.
func (s *Safetensors) F64(name string) ([]float64, error) {
	t, err := s.typed(name, "F64")
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(t.Data)/8)
	copy(bytesOf(out), t.Data)
	return out, nil
}

// I32 returns a copy of the named I32 tensor's values.
func (s *Safetensors) I32(name string) ([]int32, error) {
	t, err := s.typed(name, "I32")
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(t.Data)/4)
	copy(bytesOf(out), t.Data)
	return out, nil
}

// I64 returns a copy of the named I64 tensor's values.
func (s *Safetensors) I64(name string) ([]int64, error) {
	t, err := s.typed(name, "I64")
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/8)
	copy(bytesOf(out), t.Data)
	return out, nil
}

// bytesOf views a numeric slice as its bytes (no copy; little-endian host).
func bytesOf[T float32 | float64 | int32 | int64](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// F32Tensor makes an F32 Tensor over v's bytes (no copy).
func F32Tensor(name string, v []float32, shape ...int) Tensor {
	return Tensor{Name: name, DType: "F32", Shape: shape, Data: bytesOf(v)}
}

// encodeSafetensorsHeader builds the header for tensors laid out in the given order and pads it
// with spaces to a multiple of 8, so the data section is 8-aligned for readers that map files.
func encodeSafetensorsHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			b.WriteByte(',')
		}
		first = false
	}
	if metadata != nil {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sep()
		b.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kj, _ := json.Marshal(k)
			vj, _ := json.Marshal(metadata[k])
			b.Write(kj)
			b.WriteByte(':')
			b.Write(vj)
		}
		b.WriteByte('}')
	}
	seen := make(map[string]bool, len(tensors))
	off := int64(0)
	for _, t := range tensors {
		esz, ok := dtypeSizes[t.DType]
		if !ok {
			return nil, Errf(KindInvalidArgument, "safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		if t.Name == "__metadata__" || seen[t.Name] {
			return nil, Errf(KindInvalidArgument, "safetensors: tensor name %q repeated or reserved", t.Name)
		}
		seen[t.Name] = true
		n := esz
		for _, d := range t.Shape {
			if d < 0 {
				return nil, Errf(KindInvalidArgument, "safetensors: tensor %q has a negative dimension", t.Name)
			}
			n *= int64(d)
		}
		if n != int64(len(t.Data)) {
			return nil, Errf(KindInvalidArgument, "safetensors: tensor %q has %d bytes for %s%v", t.Name, len(t.Data), t.DType, t.Shape)
		}
		sep()
		nj, _ := json.Marshal(t.Name)
		b.Write(nj)
		shape := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(&b, `:{"dtype":%q,"shape":[%s],"data_offsets":[%d,%d]}`, t.DType, strings.Join(shape, ","), off, off+n)
		off += n
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// WriteSafetensors writes tensors (in the given order) and string metadata (nil: none) to w.
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	if !hostLittleEndian {
		return Errf(KindUnsupported, "safetensors: big-endian hosts are not supported")
	}
	hdr, err := encodeSafetensorsHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hdr)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return Wrap(KindIO, err, "safetensors: writing")
	}
	if _, err := w.Write(hdr); err != nil {
		return Wrap(KindIO, err, "safetensors: writing")
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return Wrap(KindIO, err, "safetensors: writing tensor %q", t.Name)
		}
	}
	return nil
}

// DataSHA256 is the hex SHA-256 of the data section WriteSafetensors writes for tensors: the
// value to record as metadata "sha256".
func DataSHA256(tensors []Tensor) string {
	h := sha256.New()
	for _, t := range tensors {
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteSafetensorsFile writes tensors and metadata to path atomically (WriteFileAtomic), adding
// the data section's SHA-256 as metadata "sha256" so that readers detect corruption. For
// training state and other files beside checkpoints.
func WriteSafetensorsFile(path string, tensors []Tensor, metadata map[string]string) error {
	md := make(map[string]string, len(metadata)+1)
	for k, v := range metadata {
		md[k] = v
	}
	md["sha256"] = DataSHA256(tensors)
	return WriteFileAtomic(path, func(w io.Writer) error { return WriteSafetensors(w, tensors, md) })
}
