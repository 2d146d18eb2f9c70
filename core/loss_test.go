package core

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Reference values from PyTorch 1.13 (float64): nn.CrossEntropyLoss(weight, label_smoothing)
// and the reference trainer's focal loss (DESIGN §3), on logits z and labels y below.
var (
	lossZ = []float64{1.5, -0.3, 0.2, 2.0, 0.1, 0.4, -1.2, 0.0, -2.0, 1.0, 0.5, 0.3}
	lossY = []int64{3, 0, 1}
	lossA = []float32{0.5, 2, 1, 10}
)

func TestLossMatchesPyTorch(t *testing.T) {
	for _, tc := range []struct {
		lc   LossConfig
		loss float64
		grad []float64
	}{
		{LossConfig{Kind: LossCrossEntropy}, 0.8847946906960567, []float64{0.10799537429529535, 0.01785151530408643, 0.02943217299607615, -0.155279062595458, -0.2388304172838933, 0.12756559357095223, 0.025755049157896656, 0.08550977455504438, 0.0077085169235536904, -0.17850363204227862, 0.09390896086717337, 0.07688615425155158}},
		{LossConfig{Kind: LossCrossEntropy, Alpha: lossA}, 0.6747549163111367, []float64{0.2591888983087089, 0.04284363672980744, 0.07063721519058277, -0.37266975022909926, -0.028659650074067195, 0.015307871228514269, 0.003090605898947599, 0.010261172946605326, 0.0037000881233057717, -0.08568174338029375, 0.045076301216243224, 0.03690535404074476}},
		{LossConfig{Kind: LossCrossEntropy, Smoothing: 0.1}, 0.9672946906960567, []float64{0.09966204096196203, 0.009518181970753102, 0.021098839662742824, -0.13027906259545802, -0.2138304172838933, 0.11923226023761894, 0.01742171582456333, 0.07717644122171108, -0.0006248164097796406, -0.1535036320422786, 0.08557562753384007, 0.06855282091821828}},
		{LossConfig{Kind: LossCrossEntropy, Smoothing: 0.1, Alpha: lossA}, 0.7136477946264036, []float64{0.24101763379575694, 0.036005245796457704, 0.06395749968420666, -0.3409803792764215, -0.019138948866655833, 0.020109897184909978, 0.002867704290842469, -0.0038386526090966083, 0.0029544691817830434, -0.06857236323768895, 0.04617529692485994, 0.019442597131045968}},
		{LossConfig{Kind: LossFocal, Gamma: 2, Smoothing: 0.1, Alpha: lossA}, 1.0925769436356914, []float64{0.6597694884226405, 0.04590129377055646, 0.12476409718081195, -0.8304348793740093, -0.10720272720670349, 0.06075141250249439, 0.0076393789414506185, 0.0388119357627585, -0.005390203209223782, -0.22997083015258246, 0.13116381527481927, 0.104197218086987}},
	} {
		if err := tc.lc.validate(lossY, 3, 4); err != nil {
			t.Fatal(err)
		}
		dz := make([]float64, 12)
		loss := lossForward(tc.lc, lossZ, lossY, 3, 4, dz)
		if math.Abs(loss-tc.loss) > 1e-14 {
			t.Errorf("%+v: loss %.17g, PyTorch %.17g", tc.lc, loss, tc.loss)
		}
		for i := range dz {
			if math.Abs(dz[i]-tc.grad[i]) > 1e-15 {
				t.Errorf("%+v: dlogits[%d] %.17g, PyTorch %.17g", tc.lc, i, dz[i], tc.grad[i])
			}
		}
	}
}

func TestLossAndGradBadInput(t *testing.T) {
	m, x, lengths, labels, B, T := tinyTrainModel(t, true, 2)
	g := NewGrads(m)
	ok := TrainStepOptions{Loss: DefaultLossConfig()}
	cases := []struct {
		name   string
		x      []float32
		B, T   int
		len    []int32
		labels []int64
		opt    TrainStepOptions
		kind   Kind
		msg    string
	}{
		{"label too big", x, B, T, lengths, []int64{0, 1, 3, 0}, ok, KindInvalidArgument, "labels[2] = 3"},
		{"negative label", x, B, T, lengths, []int64{-1, 1, 2, 0}, ok, KindInvalidArgument, "labels[0] = -1"},
		{"labels short", x, B, T, lengths, labels[:3], ok, KindShape, "labels hold 3"},
		{"features short", x[:len(x)-1], B, T, lengths, labels, ok, KindShape, "features hold"},
		{"length 0", x, B, T, []int32{5, 0, 1, 4}, labels, ok, KindInvalidArgument, "lengths[1] = 0"},
		{"alpha length", x, B, T, lengths, labels, TrainStepOptions{Loss: LossConfig{Alpha: []float32{1, 2}}}, KindShape, "alpha"},
		{"alpha NaN", x, B, T, lengths, labels, TrainStepOptions{Loss: LossConfig{Alpha: []float32{1, float32(math.NaN()), 1}}}, KindInvalidArgument, "alpha[1]"},
		{"smoothing 1", x, B, T, lengths, labels, TrainStepOptions{Loss: LossConfig{Smoothing: 1}}, KindInvalidArgument, "smoothing"},
		{"gamma negative", x, B, T, lengths, labels, TrainStepOptions{Loss: LossConfig{Gamma: -1}}, KindInvalidArgument, "gamma"},
		{"dropout without rng", x, B, T, lengths, labels, TrainStepOptions{Dropout: true, Loss: DefaultLossConfig()}, KindInvalidArgument, "RNG"},
		{"bad padding", x, B, T, lengths, labels, TrainStepOptions{Padding: 7, Loss: DefaultLossConfig()}, KindInvalidArgument, "padding"},
		{"bad loss kind", x, B, T, lengths, labels, TrainStepOptions{Loss: LossConfig{Kind: 9}}, KindInvalidArgument, "loss kind"},
	}
	for _, tc := range cases {
		_, err := m.LossAndGrad(tc.x, tc.B, tc.T, tc.len, tc.labels, tc.opt, g)
		var e *Error
		if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v (kind %v), want kind %v mentioning %q", tc.name, err, KindOf(err), tc.kind, tc.msg)
		}
	}
	bad := append([]float32(nil), x...)
	bad[17] = float32(math.Inf(1))
	if _, err := m.LossAndGrad(bad, B, T, lengths, labels, ok, g); KindOf(err) != KindNumeric || !strings.Contains(err.Error(), "features[17]") {
		t.Errorf("Inf feature: %v", err)
	}
	if _, err := m.LossAndGrad(x, B, T, lengths, labels, ok, &Grads{Slab: make([]float32, 3)}); KindOf(err) != KindInvalidArgument {
		t.Errorf("wrong gradient size: %v", err)
	}
	if _, _, err := m.LossAndGradFloat64(make([]float64, len(x)), B, T, lengths, []int64{0, 0, 0, 5}, ok); KindOf(err) != KindInvalidArgument {
		t.Errorf("float64 path, bad label: %v", err)
	}
}

func TestComputeLossEqualsTrainingLoss(t *testing.T) {
	z32 := make([]float32, len(lossZ))
	for i, v := range lossZ {
		z32[i] = float32(v)
	}
	for _, lc := range []LossConfig{DefaultLossConfig(), {Kind: LossCrossEntropy, Smoothing: 0.1, Alpha: lossA}} {
		got, err := ComputeLoss(lc, z32, lossY, 4)
		if err != nil {
			t.Fatal(err)
		}
		if want := lossForward(lc, z32, lossY, 3, 4, make([]float32, 12)); got != want {
			t.Errorf("%+v: ComputeLoss %v, training loss %v", lc, got, want)
		}
	}
	if _, err := ComputeLoss(DefaultLossConfig(), z32, []int64{0, 4, 1}, 4); KindOf(err) != KindInvalidArgument {
		t.Errorf("label 4 of 4 classes: %v", err)
	}
	if _, err := ComputeLoss(DefaultLossConfig(), z32[:11], lossY, 4); KindOf(err) != KindShape {
		t.Errorf("short logits: %v", err)
	}
}

func TestGradsParamsAreSlabWindows(t *testing.T) {
	m, _, _, _, _, _ := tinyTrainModel(t, true, 2)
	g := NewGrads(m)
	for i := range g.Slab {
		g.Slab[i] = float32(i)
	}
	off := 0
	for _, p := range g.Params() {
		if got := g.Param(p.Name); len(got) != len(p.Data) || &got[0] != &g.Slab[off] || &p.Data[0] != &g.Slab[off] {
			t.Fatalf("%s: not the slab window at %d", p.Name, off)
		}
		off += len(p.Data)
	}
	if off != len(g.Slab) || (&Grads{}).Param("x") != nil {
		t.Fatal("layout")
	}
}

// TestTrainWorkspaceEstimate: the estimate that refuses absurd training batches before
// allocating covers what ensureTrain really allocates.
func TestTrainWorkspaceEstimate(t *testing.T) {
	for _, cfg := range []Config{DefaultConfig(), {FeatureDim: 4, HiddenDim: 3, NumLayers: 1, NumHeads: 3,
		NumClasses: 9, Bidirectional: true, ClassifierWidths: []int{2}}} {
		cfg.HiddenDim = min(cfg.HiddenDim, 32) // keep the allocation small
		cfg.NumHeads = min(cfg.NumHeads, 2)
		for _, bt := range [][2]int{{1, 1}, {3, 7}, {5, 2}} {
			ws := &workspace[float32]{}
			ws.ensureTrain(cfg, bt[0], bt[1], true)
			tb := &ws.tr
			n := 0
			for _, s := range [][]float32{tb.projPre, tb.projDrop, tb.projMask, tb.probsDrop, tb.probsMask,
				tb.attnMask, tb.resid, tb.poolPre, tb.poolDrop, tb.poolMask, tb.logits, tb.dlogits, tb.dpooled,
				tb.dattended, tb.dresid, tb.dqkv, tb.dprobs, tb.dpoolHid, tb.dpoolPre, tb.dlayer[0],
				tb.dlayer[1], tb.dproj, tb.dprojPre} {
				n += len(s)
			}
			for _, ss := range [][][]float32{tb.layerDrop, tb.layerMask, tb.clsDrop, tb.clsMask, tb.dcls, tb.dclsPre} {
				for _, s := range ss {
					n += len(s)
				}
			}
			if est := trainWorkspaceElems(cfg, bt[0], bt[1]); int64(n) > est {
				t.Errorf("B=%d Tp=%d: ensureTrain allocates %d values, estimate %d", bt[0], bt[1], n, est)
			}
		}
	}
}
