package core

import "math"

// ClipGradNorm scales grads so that their global L2 norm is at most maxNorm, as PyTorch 1.13's
// torch.nn.utils.clip_grad_norm_ does, and returns the total norm and the coefficient applied.
// segments are the per-tensor slices of grads (state_dict order).
//
// Arithmetic (chosen to match PyTorch 1.13, not DESIGN §3's float64 formula, which differs by one
// ulp on some fixtures): each tensor's norm is computed in float64 and rounded to float32 (what
// torch.norm returns for a float32 tensor, up to its reduction order); the total is the norm of
// those float32 norms accumulated in float32; coef = f32(maxNorm) / (total + f32(1e-6)) in float32
// (float32 add, then float32 divide), clamped to 1; gradients are always multiplied by it.
//
// A non-finite total returns a KindNumeric error and leaves grads untouched: PyTorch would go on
// and turn every weight into NaN.
func ClipGradNorm(grads []float32, segments [][]float32, maxNorm float64) (total, coef float32, err error) {
	total = GradNorm(segments)
	if math.IsNaN(float64(total)) || math.IsInf(float64(total), 0) {
		return total, 0, Errf(KindNumeric, "gradient norm is %v: training diverged (no update applied)", total)
	}
	coef = float32(maxNorm) / (total + float32(1e-6))
	if coef > 1 {
		coef = 1
	}
	for i := range grads {
		grads[i] = float32(grads[i] * coef)
	}
	return total, coef, nil
}

// GradNorm is the total norm ClipGradNorm uses: float32 norms per tensor, combined in float32.
func GradNorm(segments [][]float32) float32 {
	var sq float32
	for _, s := range segments {
		var acc float64
		for _, g := range s {
			acc += float64(g) * float64(g)
		}
		n := float32(math.Sqrt(acc))
		sq += float32(n * n)
	}
	return sqrt32(sq)
}
