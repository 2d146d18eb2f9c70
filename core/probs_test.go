package core

import (
	"math"
	"testing"
)

func TestSoftmaxRows(t *testing.T) {
	x := []float32{1, 2, 3, 1000, 1000, -1000}
	SoftmaxRows(x, 2, 3)
	want := []float64{0.09003057, 0.24472847, 0.66524096, 0.5, 0.5, 0}
	for i, w := range want {
		if math.Abs(float64(x[i])-w) > 1e-7 {
			t.Fatalf("x[%d] = %v, want %v", i, x[i], w)
		}
	}
}
