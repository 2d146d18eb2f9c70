// Package plot draws the PNG figures of the temporal CLI with gonum.org/v1/plot: training curves
// (curves.png) and the confusion matrix heat map (confusion.png).
package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// StepPoint is one optimizer step.
type StepPoint struct {
	Step     int64
	Loss, LR float64
}

// EpochPoint is one epoch's end, placed at the step count reached.
type EpochPoint struct {
	Epoch                                       int
	Step                                        int64
	TrainLoss, ValLoss, ValAccuracy, ValMacroF1 float64
	HasVal                                      bool
}

var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	purple = color.RGBA{148, 103, 189, 255}
	faint  = color.NRGBA{31, 119, 180, 90}
)

func line(xy plotter.XYs, c color.Color, w vg.Length, dashed bool) *plotter.Line {
	l, err := plotter.NewLine(xy)
	if err != nil {
		panic(err) // only for non-finite values, filtered out before
	}
	l.Color, l.Width = c, w
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return l
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func newPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text = "optimizer step"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// Curves writes a PNG with three panels over the optimizer step: the loss (every batch, the
// epoch mean, validation), the validation accuracy and macro F1, and the learning rate.
func Curves(w io.Writer, title string, steps []StepPoint, epochs []EpochPoint) error {
	loss := newPlot(title+": loss", "loss")
	var batch, lrs, train, val, acc, f1 plotter.XYs
	var accEpoch []int
	for _, s := range steps {
		if finite(s.Loss) {
			batch = append(batch, plotter.XY{X: float64(s.Step), Y: s.Loss})
		}
		lrs = append(lrs, plotter.XY{X: float64(s.Step), Y: s.LR})
	}
	for _, e := range epochs {
		x := float64(e.Step)
		if finite(e.TrainLoss) {
			train = append(train, plotter.XY{X: x, Y: e.TrainLoss})
		}
		if e.HasVal {
			if finite(e.ValLoss) && e.ValLoss >= 0 {
				val = append(val, plotter.XY{X: x, Y: e.ValLoss})
			}
			acc = append(acc, plotter.XY{X: x, Y: e.ValAccuracy})
			accEpoch = append(accEpoch, e.Epoch)
			f1 = append(f1, plotter.XY{X: x, Y: e.ValMacroF1})
		}
	}
	if len(batch) > 0 {
		l := line(batch, faint, vg.Points(0.8), false)
		loss.Add(l)
		loss.Legend.Add("batch", l)
	}
	addSeries := func(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool) {
		if len(xy) == 0 {
			return
		}
		l := line(xy, c, vg.Points(2), dashed)
		p.Add(l)
		p.Legend.Add(name, l)
		if len(xy) <= 60 {
			sc, _ := plotter.NewScatter(xy)
			sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = c, vg.Points(2.2), draw.CircleGlyph{}
			p.Add(sc)
		}
	}
	addSeries(loss, "train (epoch mean)", train, blue, false)
	addSeries(loss, "validation", val, orange, false)
	loss.Y.Min = 0

	accP := newPlot("validation accuracy and macro F1", "score")
	accP.Y.Min, accP.Y.Max = 0, 1.02
	accP.Legend.Top = false
	addSeries(accP, "accuracy", acc, green, false)
	addSeries(accP, "macro F1", f1, purple, true)
	if len(acc) == 0 {
		accP.Title.Text = "validation accuracy (no validation set)"
	} else {
		// The best model: the first epoch with the highest accuracy (strict improvement).
		best := 0
		for i, p := range acc {
			if p.Y > acc[best].Y {
				best = i
			}
		}
		sc, _ := plotter.NewScatter(acc[best : best+1])
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = color.Black, vg.Points(5), draw.RingGlyph{}
		accP.Add(sc)
		accP.Legend.Add(fmt.Sprintf("best %.3f (epoch %d)", acc[best].Y, accEpoch[best]), sc)
	}

	lrP := newPlot("learning rate (cosine warm restarts)", "lr")
	if len(lrs) > 0 {
		l := line(lrs, blue, vg.Points(1.5), false)
		lrP.Add(l)
	}
	lrP.Y.Tick.Marker = sciTicks{}
	lrP.Y.Min = 0

	return tiles(w, [][]*plot.Plot{{loss}, {accP}, {lrP}}, 9*vg.Inch, 10*vg.Inch)
}

// sciTicks labels the default ticks in compact scientific notation (learning rates).
type sciTicks struct{}

func (sciTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmt.Sprintf("%.1e", ts[i].Value)
		}
	}
	return ts
}

func tiles(w io.Writer, plots [][]*plot.Plot, width, height vg.Length) error {
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j := range plots[i] {
			if plots[i][j] != nil {
				plots[i][j].Draw(canvases[i][j])
			}
		}
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

// grid is the confusion matrix as a heat map: cell (column j, row r) shows true class C−1−r
// (true classes top to bottom) predicted as j; the colour is the row-normalised share (recall).
type grid struct {
	share [][]float64
}

func (g grid) Dims() (c, r int)   { return len(g.share), len(g.share) }
func (g grid) Z(c, r int) float64 { return g.share[len(g.share)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// blues runs from white to a dark blue.
type blues struct{}

func (blues) Colors() []color.Color {
	cs := make([]color.Color, 64)
	for i := range cs {
		t := float64(i) / float64(len(cs)-1)
		cs[i] = color.RGBA{uint8(247 - t*(247-8)), uint8(251 - t*(251-48)), uint8(255 - t*(255-107)), 255}
	}
	return cs
}

// Confusion writes a PNG heat map of m (m[i][j]: clips of true class i predicted as j) with the
// class names on both axes, each cell showing its count and its share of the true class.
func Confusion(w io.Writer, title string, m [][]int, names []string) error {
	C := len(m)
	if C == 0 {
		return fmt.Errorf("plot: empty confusion matrix")
	}
	share := make([][]float64, C)
	for i, row := range m {
		share[i] = make([]float64, C)
		n := 0
		for _, v := range row {
			n += v
		}
		for j, v := range row {
			if n > 0 {
				share[i][j] = float64(v) / float64(n)
			}
		}
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	hm := plotter.NewHeatMap(grid{share}, blues{})
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	var xys plotter.XYs
	var labels []string
	var styles []text.Style
	fontSize := vg.Points(11)
	if C > 8 {
		fontSize = vg.Points(max(6, 11-float64(C-8)/2))
	}
	for i := 0; i < C; i++ {
		for j := 0; j < C; j++ {
			xys = append(xys, plotter.XY{X: float64(j), Y: float64(C - 1 - i)})
			labels = append(labels, fmt.Sprintf("%d\n%.0f%%", m[i][j], 100*share[i][j]))
			c := color.Color(color.Black)
			if share[i][j] > 0.55 {
				c = color.White
			}
			styles = append(styles, text.Style{Color: c, Font: font.Font{Typeface: "Liberation", Variant: "Sans", Size: fontSize},
				XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler})
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	lb.TextStyle = styles
	p.Add(lb)
	name := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return fmt.Sprint(i)
	}
	var xt, yt []plot.Tick
	for i := 0; i < C; i++ {
		xt = append(xt, plot.Tick{Value: float64(i), Label: name(i)})
		yt = append(yt, plot.Tick{Value: float64(C - 1 - i), Label: name(i)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	p.X.Min, p.X.Max = -0.5, float64(C)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(C)-0.5
	side := vg.Length(math.Max(5, math.Min(12, 1.1*float64(C)+2))) * vg.Inch
	return tiles(w, [][]*plot.Plot{{p}}, side+vg.Inch, side)
}

// PNG renders with f into a byte slice.
func PNG(f func(io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	if err := f(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
