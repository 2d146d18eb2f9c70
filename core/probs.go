package core

import "math"

// SoftmaxRows replaces each of the rows rows of x [rows, cols] (row-major) by its softmax,
// computed in float64 after subtracting the row maximum, so large logits neither overflow nor
// lose the small probabilities. The C API's TEMPORAL_OUTPUT_PROBABILITIES and the ensemble/TTA
// averages use it.
func SoftmaxRows(x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols : (r+1)*cols]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - mx)
		}
		for i, v := range row {
			row[i] = float32(math.Exp(float64(v)-mx) / sum)
		}
	}
}
