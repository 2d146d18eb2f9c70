package core

import "math"

// reluForward: x = max(x, 0) in place.
func reluForward[T Float](x []T) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// reluBackward: d = 0 where the ReLU output y is not positive (PyTorch's threshold_backward:
// the gradient at 0 is 0), in place. d, y [n].
func reluBackward[T Float](d, y []T) {
	for i, v := range y[:len(d)] {
		if v <= 0 {
			d[i] = 0
		}
	}
}

// tanhForward: x = tanh(x) in place.
func tanhForward[T Float](x []T) {
	for i, v := range x {
		x[i] = T(math.Tanh(float64(v)))
	}
}

// tanhBackward: d ·= 1 − y² where y is the tanh output, in place. d, y [n].
func tanhBackward[T Float](d, y []T) {
	for i, v := range y[:len(d)] {
		d[i] *= 1 - v*v
	}
}

func sigmoid[T Float](x T) T { return T(1 / (1 + math.Exp(-float64(x)))) }

func tanh[T Float](x T) T { return T(math.Tanh(float64(x))) }

// softmaxForward replaces x with softmax(x) (max-subtracted; sums in float64).
func softmaxForward[T Float](x []T) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v - mx))
		x[i] = T(e)
		s += e
	}
	inv := 1 / s
	for i := range x {
		x[i] = T(float64(x[i]) * inv)
	}
}

// softmaxBackward turns d (the gradient of the softmax output y) into the gradient of its
// input, in place: d = y ⊙ (d − Σ y·d). d, y [n].
func softmaxBackward[T Float](d, y []T) {
	var s float64
	for i, v := range y[:len(d)] {
		s += float64(v) * float64(d[i])
	}
	for i, v := range y[:len(d)] {
		d[i] = T(float64(v) * (float64(d[i]) - s))
	}
}
