// Package npy reads and writes NumPy .npy files: float32 arrays of any rank (C order,
// little-endian) and integer vectors, as the command-line tool exchanges them.
//
// Hand-written rather than codeberg.org/sbinet/npyio v0.14.0, which we tried on bad files: it
// panics on a header without a trailing newline and on a malformed shape (slice bounds out of
// range), accepts a negative dimension as an empty array with no error, reports truncated data
// only as a bare EOF, and allocates the element count the header claims before reading any
// data (shape product unchecked for overflow). Files here come from users, so every size is
// checked against limits first and the data length must match the shape exactly.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// Limits on what a file may claim.
const (
	MaxHeaderLen = 1 << 20 // numpy itself writes a few hundred bytes at most
	MaxRank      = 32      // numpy's own limit
	MaxBytes     = 1 << 40 // data section
)

var magic = []byte("\x93NUMPY")

// Array is a parsed .npy file. Data holds the raw little-endian elements in C order.
type Array struct {
	Descr string // '<f4', '<i4' or '<i8'
	Shape []int
	Data  []byte
}

// Len is the element count (the product of Shape).
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

var elemSize = map[string]int{"<f4": 4, "<i4": 4, "<i8": 8, "<f8": 8}

// Parse reads a whole .npy file held in data. a.Data aliases data.
func Parse(data []byte) (*Array, error) {
	if len(data) < 10 || !bytes.Equal(data[:6], magic) {
		return nil, errors.New("npy: not a .npy file (bad magic)")
	}
	major := data[6]
	var hlen, pre int
	switch major {
	case 1:
		hlen, pre = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("npy: file too short")
		}
		h := binary.LittleEndian.Uint32(data[8:12])
		if h > MaxHeaderLen {
			return nil, fmt.Errorf("npy: header of %d bytes exceeds the limit of %d", h, MaxHeaderLen)
		}
		hlen, pre = int(h), 12
	default:
		return nil, fmt.Errorf("npy: unsupported format version %d.%d", major, data[7])
	}
	if hlen > len(data)-pre {
		return nil, fmt.Errorf("npy: header of %d bytes runs past the end of the file", hlen)
	}
	hdr := data[pre : pre+hlen]
	if hlen == 0 || hdr[hlen-1] != '\n' {
		return nil, errors.New("npy: header does not end with a newline")
	}
	descr, fortran, shape, err := parseHeader(string(hdr[:hlen-1]))
	if err != nil {
		return nil, err
	}
	esz, ok := elemSize[descr]
	if !ok {
		return nil, fmt.Errorf("npy: dtype %q not supported (need little-endian float32, int32 or int64)", descr)
	}
	if len(shape) > MaxRank {
		return nil, fmt.Errorf("npy: rank %d exceeds %d", len(shape), MaxRank)
	}
	n := int64(esz)
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		if d != 0 && n > MaxBytes/int64(d) {
			return nil, fmt.Errorf("npy: shape %v is too large", shape)
		}
		n *= int64(d)
	}
	if fortran && len(shape) > 1 && n > 0 {
		return nil, errors.New("npy: Fortran-order arrays are not supported (use np.ascontiguousarray)")
	}
	body := data[pre+hlen:]
	if int64(len(body)) != n {
		return nil, fmt.Errorf("npy: shape %v of %s needs %d data bytes, file has %d", shape, descr, n, len(body))
	}
	return &Array{Descr: descr, Shape: shape, Data: body}, nil
}

// parseHeader reads the Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } strictly: exactly those three keys, once each.
func parseHeader(s string) (descr string, fortran bool, shape []int, err error) {
	p := &parser{s: s}
	p.space()
	if !p.eat('{') {
		return "", false, nil, errors.New("npy: header is not a dict")
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return "", false, nil, err
		}
		if seen[key] {
			return "", false, nil, fmt.Errorf("npy: header key %q repeated", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return "", false, nil, errors.New("npy: header: expected ':'")
		}
		p.space()
		switch key {
		case "descr":
			if descr, err = p.str(); err != nil {
				return "", false, nil, err
			}
		case "fortran_order":
			switch {
			case strings.HasPrefix(p.s[p.i:], "False"):
				p.i += 5
			case strings.HasPrefix(p.s[p.i:], "True"):
				p.i += 4
				fortran = true
			default:
				return "", false, nil, errors.New("npy: header: fortran_order must be True or False")
			}
		case "shape":
			if shape, err = p.tuple(); err != nil {
				return "", false, nil, err
			}
		default:
			return "", false, nil, fmt.Errorf("npy: header: unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return "", false, nil, errors.New("npy: header: expected ',' or '}'")
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return "", false, nil, errors.New("npy: header: trailing characters after the dict")
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return "", false, nil, errors.New("npy: header lacks descr, fortran_order or shape")
	}
	return descr, fortran, shape, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("npy: header: expected a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("npy: header: unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *parser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("npy: header: shape must be a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 18 {
			return nil, errors.New("npy: header: bad dimension in shape")
		}
		d, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("npy: header: %v", err)
		}
		shape = append(shape, d)
		if len(shape) > MaxRank {
			return nil, fmt.Errorf("npy: rank exceeds %d", MaxRank)
		}
		p.i = j
		p.space()
		if !p.eat(',') {
			p.space()
			if !p.eat(')') {
				return nil, errors.New("npy: header: expected ',' or ')' in shape")
			}
			return shape, nil
		}
	}
}

// Read parses a .npy stream (at most MaxBytes).
func Read(r io.Reader) (*Array, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+MaxHeaderLen+16))
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// ReadFile parses a .npy file.
func ReadFile(path string) (*Array, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Float32 returns the elements of a '<f4' array. On a little-endian host with 4-byte-aligned
// data (numpy pads headers so data starts at a multiple of 64) the result aliases a.Data, so a
// large feature file is not held in memory twice; otherwise it is a copy.
func (a *Array) Float32() ([]float32, error) {
	if a.Descr != "<f4" {
		return nil, fmt.Errorf("npy: array is %s, need float32 ('<f4')", a.Descr)
	}
	if len(a.Data) == 0 {
		return []float32{}, nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&a.Data[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&a.Data[0])), len(a.Data)/4), nil
	}
	out := make([]float32, len(a.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.Data[4*i:]))
	}
	return out, nil
}

// Ints returns the elements of an int32 or int64 array as int64.
func (a *Array) Ints() ([]int64, error) {
	switch a.Descr {
	case "<i4":
		out := make([]int64, len(a.Data)/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(a.Data[4*i:])))
		}
		return out, nil
	case "<i8":
		out := make([]int64, len(a.Data)/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(a.Data[8*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("npy: array is %s, need int32 or int64", a.Descr)
}

// header builds a version 1.0 header, padded so data starts at a multiple of 64 as numpy does.
func header(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	t := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		t += ","
	}
	t += ")"
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, t)
	total := 10 + len(h) + 1
	pad := (64 - total%64) % 64
	h += strings.Repeat(" ", pad) + "\n"
	out := append([]byte(nil), magic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	return append(out, h...)
}

// WriteFloat32 writes data with the given shape as a float32 C-order array.
func WriteFloat32(w io.Writer, data []float32, shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: %d values for shape %v", len(data), shape)
	}
	if _, err := w.Write(header("<f4", shape)); err != nil {
		return err
	}
	var raw []byte
	if len(data) > 0 && littleEndian {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), 4*len(data))
	} else {
		raw = make([]byte, 0, 4*len(data))
		for _, v := range data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	_, err := w.Write(raw)
	return err
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// WriteInts writes a 1-D int32 ('<i4') or int64 ('<i8') array; for tests and tools.
func WriteInts(w io.Writer, data []int64, descr string) error {
	var raw []byte
	switch descr {
	case "<i4":
		for _, v := range data {
			if v != int64(int32(v)) {
				return fmt.Errorf("npy: %d does not fit int32", v)
			}
			raw = binary.LittleEndian.AppendUint32(raw, uint32(int32(v)))
		}
	case "<i8":
		for _, v := range data {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	default:
		return fmt.Errorf("npy: WriteInts: dtype %q", descr)
	}
	if _, err := w.Write(header(descr, []int{len(data)})); err != nil {
		return err
	}
	_, err := w.Write(raw)
	return err
}
