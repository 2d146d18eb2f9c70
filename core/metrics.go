package core

import "encoding/json"

// Metrics are the evaluation numbers of DESIGN §3 for one set of predictions.
type Metrics struct {
	N          int       `json:"n"`
	Accuracy   float64   `json:"accuracy"`
	Loss       float64   `json:"loss,omitempty"` // mean α-weighted loss, when computed
	Precision  []float64 `json:"precision"`      // per class; 0 when the class is never predicted
	Recall     []float64 `json:"recall"`         // per class; 0 when the class never occurs
	F1         []float64 `json:"f1"`             // per class
	Support    []int     `json:"support"`        // true count per class
	MacroF1    float64   `json:"macro_f1"`       // mean F1 over classes present in the labels
	WeightedF1 float64   `json:"weighted_f1"`    // F1 weighted by support
	// Confusion[i][j] counts clips of true class i predicted as j.
	Confusion  [][]int  `json:"confusion_matrix"`
	ClassNames []string `json:"class_names,omitempty"`
	// PredictedClasses is how many distinct classes were predicted (1 = a collapsed model).
	PredictedClasses int `json:"predicted_classes"`
}

// ComputeMetrics scores predictions pred against labels over numClasses classes. Macro F1
// averages over the classes that occur in labels (sklearn's default would include classes only
// predicted; with labels=range(C) it includes all — we follow the classes present, and report
// every class's numbers so either can be derived).
func ComputeMetrics(labels, pred []int64, numClasses int) Metrics {
	C := numClasses
	m := Metrics{N: len(labels), Precision: make([]float64, C), Recall: make([]float64, C),
		F1: make([]float64, C), Support: make([]int, C), Confusion: make([][]int, C)}
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, C)
	}
	correct := 0
	for i, y := range labels {
		p := pred[i]
		m.Confusion[y][p]++
		if y == p {
			correct++
		}
	}
	if len(labels) > 0 {
		m.Accuracy = float64(correct) / float64(len(labels))
	}
	present, predicted := 0, 0
	for c := 0; c < C; c++ {
		tp := m.Confusion[c][c]
		colSum, rowSum := 0, 0
		for k := 0; k < C; k++ {
			colSum += m.Confusion[k][c]
			rowSum += m.Confusion[c][k]
		}
		m.Support[c] = rowSum
		if colSum > 0 {
			m.Precision[c] = float64(tp) / float64(colSum)
			predicted++
		}
		if rowSum > 0 {
			m.Recall[c] = float64(tp) / float64(rowSum)
		}
		if pr := m.Precision[c] + m.Recall[c]; pr > 0 {
			m.F1[c] = 2 * m.Precision[c] * m.Recall[c] / pr
		}
		if rowSum > 0 {
			present++
			m.MacroF1 += m.F1[c]
			m.WeightedF1 += m.F1[c] * float64(rowSum)
		}
	}
	if present > 0 {
		m.MacroF1 /= float64(present)
	}
	if len(labels) > 0 {
		m.WeightedF1 /= float64(len(labels))
	}
	m.PredictedClasses = predicted
	return m
}

// JSON encodes the metrics, indented.
func (m Metrics) JSON() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }

// Argmax returns the index of the largest of each row of logits [rows, cols] (first on ties).
func Argmax(logits []float32, rows, cols int) []int64 {
	out := make([]int64, rows)
	for r := 0; r < rows; r++ {
		row := logits[r*cols : (r+1)*cols]
		best := 0
		for c, v := range row {
			if v > row[best] {
				best = c
			}
		}
		out[r] = int64(best)
	}
	return out
}
