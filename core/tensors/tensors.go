// Package tensors adapts core.Model to gorgonia.org/tensor for Go callers: features in and
// logits and frame weights out as *tensor.Dense.
//
// It is a package of its own so that capi/ does not import it: linked into libtemporal.so,
// gorgonia.org/tensor and its dependencies add about 11 MB for nothing (DESIGN §7). go.mod pins
// go4.org/unsafe/assume-no-moving-gc to v0.0.0-20231121144256-b99613f794b6; older versions
// panic at program start under newer Go releases.
//
// Note that (*tensor.Dense).T() transposes in place, mutating its receiver: never call it on a
// tensor that wraps a model's weights or a buffer another goroutine reads.
package tensors

import (
	"libtemporal/core"

	"gorgonia.org/tensor"
)

// Forward runs m.Forward on x of shape [B, T, F], or [T, F] for one clip. A contiguous
// float32 x is passed without copying; a view is materialised and float64 converted (copies).
// lengths (nil: all T) has B entries. It returns logits [B, C] and frame weights [B, T] (the
// attention-pooling weights; zero past each clip's end as DESIGN §2 says), for a [T, F] input
// [1, C] and [1, T].
func Forward(m *core.Model, x *tensor.Dense, lengths []int32, pad core.Padding) (logits, frameWeights *tensor.Dense, err error) {
	if m == nil || x == nil {
		return nil, nil, core.Errf(core.KindInvalidArgument, "tensors.Forward: nil model or input")
	}
	shape := x.Shape()
	var B, T, F int
	switch len(shape) {
	case 2:
		B, T, F = 1, shape[0], shape[1]
	case 3:
		B, T, F = shape[0], shape[1], shape[2]
	default:
		return nil, nil, core.Errf(core.KindShape, "tensors.Forward: input has shape %v, need [B, T, F] or [T, F]", shape)
	}
	cfg := m.Config()
	if F != cfg.FeatureDim {
		return nil, nil, core.Errf(core.KindShape, "tensors.Forward: input has %d features per frame, the model takes %d", F, cfg.FeatureDim)
	}
	if B < 1 || T < 1 {
		return nil, nil, core.Errf(core.KindShape, "tensors.Forward: input shape %v has an empty batch or time axis", shape)
	}
	data, err := float32Data(x)
	if err != nil {
		return nil, nil, err
	}
	lo := make([]float32, B*cfg.NumClasses)
	fw := make([]float32, B*T)
	if err := m.Forward(data, B, T, lengths, pad, lo, fw); err != nil {
		return nil, nil, err
	}
	return tensor.New(tensor.WithShape(B, cfg.NumClasses), tensor.WithBacking(lo)),
		tensor.New(tensor.WithShape(B, T), tensor.WithBacking(fw)), nil
}

// float32Data returns x's elements in row-major order, aliasing x's backing array when x is a
// contiguous float32 tensor.
func float32Data(x *tensor.Dense) ([]float32, error) {
	n := x.Shape().TotalSize()
	switch x.Dtype() {
	case tensor.Float32:
		if x.RequiresIterator() || !x.DataOrder().IsRowMajor() {
			x = x.Materialize().(*tensor.Dense)
		}
		d, ok := x.Data().([]float32)
		if !ok || len(d) < n {
			return nil, core.Errf(core.KindInternal, "tensors.Forward: unexpected float32 backing")
		}
		return d[:n:n], nil
	case tensor.Float64:
		if x.RequiresIterator() || !x.DataOrder().IsRowMajor() {
			x = x.Materialize().(*tensor.Dense)
		}
		d, ok := x.Data().([]float64)
		if !ok || len(d) < n {
			return nil, core.Errf(core.KindInternal, "tensors.Forward: unexpected float64 backing")
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(d[i])
		}
		return out, nil
	}
	return nil, core.Errf(core.KindInvalidArgument, "tensors.Forward: input dtype %v, need float32 (or float64)", x.Dtype())
}
