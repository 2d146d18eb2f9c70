// Package core is the libtemporal model: configuration, parameters named like the PyTorch
// state_dict of SuperEnhancedTemporalModel, one file per layer, checkpoints. No C types, no
// handles (those live in capi/).
package core

import (
	"errors"
	"fmt"
	"math"
)

// Config describes one SuperEnhancedTemporalModel. JSON names match the reference trainer's
// config keys and the flat safetensors metadata keys (DESIGN §4).
type Config struct {
	FeatureDim       int      `json:"feature_dim"`
	HiddenDim        int      `json:"hidden_dim"`
	NumLayers        int      `json:"num_layers"`
	NumHeads         int      `json:"num_heads"`
	NumClasses       int      `json:"num_classes"`
	Dropout          float64  `json:"dropout"`
	Bidirectional    bool     `json:"bidirectional"`
	ClassifierWidths []int    `json:"classifier_widths"`
	ClassNames       []string `json:"class_names,omitempty"`
}

// DefaultConfig is the reference model: 1280/768/4/12/4/0.4/bidirectional/[768,512,256],
// 65,277,701 parameters in 62 tensors.
func DefaultConfig() Config {
	return Config{
		FeatureDim: 1280, HiddenDim: 768, NumLayers: 4, NumHeads: 12, NumClasses: 4,
		Dropout: 0.4, Bidirectional: true, ClassifierWidths: []int{768, 512, 256},
	}
}

// Limits on sizes accepted from files and callers: they keep every derived product far below
// int64 overflow and reject absurd allocations before they are attempted.
const (
	MaxDim        = 1 << 20 // any single width (F, H, classifier widths)
	MaxLayers     = 64
	MaxClasses    = 1 << 20
	MaxParamCount = 1 << 33 // 32 GiB of float32
)

// Directions is 2 for a bidirectional LSTM, else 1.
func (c Config) Directions() int {
	if c.Bidirectional {
		return 2
	}
	return 1
}

// D is the LSTM output width: 2H if bidirectional, else H.
func (c Config) D() int { return c.Directions() * c.HiddenDim }

// PoolDim is the hidden width of attention pooling, ⌊D/2⌋.
func (c Config) PoolDim() int { return c.D() / 2 }

// Validate checks every size rule of DESIGN §2.
func (c Config) Validate() error {
	check := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("config: %s = %d out of range [%d, %d]", name, v, lo, hi)
		}
		return nil
	}
	if err := errors.Join(
		check("feature_dim", c.FeatureDim, 1, MaxDim),
		check("hidden_dim", c.HiddenDim, 1, MaxDim),
		check("num_layers", c.NumLayers, 1, MaxLayers),
		check("num_classes", c.NumClasses, 2, MaxClasses),
		check("num_heads", c.NumHeads, 1, MaxDim),
	); err != nil {
		return err
	}
	if c.D() < 2 {
		return fmt.Errorf("config: D = %d must be at least 2 (hidden_dim 1 needs bidirectional)", c.D())
	}
	if c.D()%c.NumHeads != 0 {
		return fmt.Errorf("config: num_heads = %d does not divide D = %d", c.NumHeads, c.D())
	}
	if math.IsNaN(c.Dropout) || c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("config: dropout = %v must be in [0, 1)", c.Dropout)
	}
	if len(c.ClassifierWidths) < 1 || len(c.ClassifierWidths) > MaxLayers {
		return fmt.Errorf("config: classifier_widths needs 1..%d entries, has %d", MaxLayers, len(c.ClassifierWidths))
	}
	for i, w := range c.ClassifierWidths {
		if err := check(fmt.Sprintf("classifier_widths[%d]", i), w, 1, MaxDim); err != nil {
			return err
		}
	}
	if len(c.ClassNames) != 0 && len(c.ClassNames) != c.NumClasses {
		return fmt.Errorf("config: %d class names for %d classes", len(c.ClassNames), c.NumClasses)
	}
	if n := c.NumParams(); n > MaxParamCount {
		return fmt.Errorf("config: %d parameters exceed the limit of %d", n, int64(MaxParamCount))
	}
	return nil
}

// ParamSpec names one state_dict tensor and its shape.
type ParamSpec struct {
	Name  string
	Shape []int
}

// Size is the element count of the tensor.
func (p ParamSpec) Size() int64 {
	n := int64(1)
	for _, d := range p.Shape {
		n *= int64(d)
	}
	return n
}

// lstmSuffix is PyTorch's name suffix for LSTM direction dir (0 forward, 1 reverse).
func lstmSuffix(dir int) string {
	if dir == 1 {
		return "_reverse"
	}
	return ""
}

// lstmInput is the input width of LSTM layer k: H for layer 0 (after input_projection), D above.
func (c Config) lstmInput(k int) int {
	if k == 0 {
		return c.HiddenDim
	}
	return c.D()
}

// classifierDropout is the dropout after hidden classifier block i: p, except p/2 for the last.
func (c Config) classifierDropout(i int) float64 {
	if i == len(c.ClassifierWidths)-1 {
		return c.Dropout / 2
	}
	return c.Dropout
}

// ParamSpecs lists the state_dict tensors in PyTorch's order. The order is also the layout of
// the parameter slab.
func (c Config) ParamSpecs() []ParamSpec {
	H, D, F, P := c.HiddenDim, c.D(), c.FeatureDim, c.PoolDim()
	var s []ParamSpec
	add := func(name string, shape ...int) { s = append(s, ParamSpec{name, shape}) }
	add("input_projection.0.weight", H, F)
	add("input_projection.0.bias", H)
	add("input_projection.1.weight", H)
	add("input_projection.1.bias", H)
	for k := 0; k < c.NumLayers; k++ {
		for dir := 0; dir < c.Directions(); dir++ {
			sfx := fmt.Sprintf("_l%d%s", k, lstmSuffix(dir))
			add("lstm.weight_ih"+sfx, 4*H, c.lstmInput(k))
			add("lstm.weight_hh"+sfx, 4*H, H)
			add("lstm.bias_ih"+sfx, 4*H)
			add("lstm.bias_hh"+sfx, 4*H)
		}
	}
	add("attention.in_proj_weight", 3*D, D)
	add("attention.in_proj_bias", 3*D)
	add("attention.out_proj.weight", D, D)
	add("attention.out_proj.bias", D)
	add("attention_norm.weight", D)
	add("attention_norm.bias", D)
	add("attention_pooling.0.weight", P, D)
	add("attention_pooling.0.bias", P)
	add("attention_pooling.1.weight", P)
	add("attention_pooling.1.bias", P)
	add("attention_pooling.4.weight", 1, P)
	add("attention_pooling.4.bias", 1)
	in := D
	for i, w := range c.ClassifierWidths {
		add(fmt.Sprintf("classifier.%d.weight", 4*i), w, in)
		add(fmt.Sprintf("classifier.%d.bias", 4*i), w)
		add(fmt.Sprintf("classifier.%d.weight", 4*i+1), w)
		add(fmt.Sprintf("classifier.%d.bias", 4*i+1), w)
		in = w
	}
	last := 4 * len(c.ClassifierWidths)
	add(fmt.Sprintf("classifier.%d.weight", last), c.NumClasses, in)
	add(fmt.Sprintf("classifier.%d.bias", last), c.NumClasses)
	return s
}

// NumParams is the total parameter count (65,277,701 for the default config). It is computed in
// int64 without building the spec list when sizes are huge.
func (c Config) NumParams() int64 {
	H, D, F, P := int64(c.HiddenDim), int64(c.D()), int64(c.FeatureDim), int64(c.PoolDim())
	n := H*F + 3*H
	for k := 0; k < c.NumLayers; k++ {
		n += int64(c.Directions()) * (4*H*int64(c.lstmInput(k)) + 4*H*H + 8*H)
	}
	n += 3*D*D + 3*D + D*D + D + 2*D
	n += P*D + 3*P + P + 1
	in := D
	for _, w := range c.ClassifierWidths {
		n += int64(w)*in + 3*int64(w)
		in = int64(w)
	}
	n += int64(c.NumClasses)*in + int64(c.NumClasses)
	return n
}
