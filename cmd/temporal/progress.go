package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"libtemporal/core"
	"libtemporal/internal/plot"
)

// progressMode says how training reports progress: a live bar (terminal), a plain line per
// epoch, JSON lines on stdout, or nothing.
type progressMode int

const (
	progressBar progressMode = iota
	progressLines
	progressJSON
	progressNone
)

func parseProgress(s string, stderr io.Writer, asJSON, quiet bool) (progressMode, error) {
	switch {
	case quiet:
		return progressNone, nil
	case asJSON:
		return progressJSON, nil
	}
	switch s {
	case "auto":
		if isTerminal(stderr) {
			return progressBar, nil
		}
		return progressLines, nil
	case "bar":
		return progressBar, nil
	case "lines":
		return progressLines, nil
	case "json":
		return progressJSON, nil
	case "none":
		return progressNone, nil
	}
	return 0, userErr("--progress must be auto, bar, lines, json or none, not %q", s)
}

// isTerminal reports whether w is a character device (a live progress bar makes sense).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// trainReporter shows training progress and records what curves.png plots.
type trainReporter struct {
	mode           progressMode
	stdout, stderr io.Writer
	prefix         string
	bar            *progressbar.ProgressBar
	steps          []plot.StepPoint
	epochs         []plot.EpochPoint
	last           core.Progress            // the last epoch report (its val metrics show on the bar)
	stop           func(core.Progress) bool // true: cancel (Ctrl-C, a time limit)
	stopped        bool
}

func newTrainReporter(mode progressMode, stdout, stderr io.Writer, prefix string, stop func(core.Progress) bool) *trainReporter {
	return &trainReporter{mode: mode, stdout: stdout, stderr: stderr, prefix: prefix, stop: stop}
}

// describe is the bar's text: epoch, batch loss, lr, and the last epoch's validation accuracy
// and macro F1 and the best accuracy so far (the bar itself shows the step count and ETA).
func (r *trainReporter) describe(p core.Progress) string {
	s := fmt.Sprintf("%sepoch %d/%d loss %.4f lr %.1e", strings.TrimSpace(r.prefix), p.Epoch, p.Epochs, p.Loss, p.LR)
	if r.last.Epoch > 0 && r.last.ValAccuracy+r.last.ValLoss > 0 {
		s += fmt.Sprintf(" val_acc %.3f f1 %.3f best %.3f", r.last.ValAccuracy, r.last.ValMacroF1, r.last.BestValAccuracy)
	}
	// Keep the bar on one line: a wrapped line cannot be redrawn in place.
	if w := terminalWidth(r.stderr); w > 0 && len(s) > w-50 {
		s = s[:max(w-50, 10)]
	}
	return s
}

// terminalWidth is the width of the terminal w writes to, or 0.
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return cols
}

// report is the core.Train progress callback.
func (r *trainReporter) report(p core.Progress) bool {
	switch p.Phase {
	case "step":
		r.steps = append(r.steps, plot.StepPoint{Step: p.Step, Loss: p.Loss, LR: p.LR})
	case "epoch":
		r.epochs = append(r.epochs, plot.EpochPoint{Epoch: p.Epoch, Step: p.Step, TrainLoss: p.Loss, ValLoss: p.ValLoss,
			ValAccuracy: p.ValAccuracy, ValMacroF1: p.ValMacroF1, HasVal: p.ValAccuracy+p.ValLoss+p.ValMacroF1 != 0})
		r.last = p
	}
	switch r.mode {
	case progressJSON:
		if p.Phase == "epoch" {
			b, _ := json.Marshal(p)
			fmt.Fprintln(r.stdout, string(b))
		}
	case progressBar:
		total := int64(p.Epochs) * int64(p.StepsPerEpoch)
		if r.bar == nil {
			r.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(r.stderr),
				progressbar.OptionSetWidth(20), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionSetRenderBlankState(true),
				progressbar.OptionUseANSICodes(true))
		}
		r.bar.Describe(r.describe(p))
		r.bar.Set64(min(p.Step, total))
		if p.Phase == "epoch" {
			r.bar.Clear()
			fmt.Fprint(r.stderr, "\r\033[K")
			r.line(p)
		}
	case progressLines:
		if p.Phase == "epoch" {
			r.line(p)
		}
	}
	if r.stop != nil && r.stop(p) {
		r.stopped = true
		return false
	}
	return true
}

func (r *trainReporter) line(p core.Progress) {
	fmt.Fprintf(r.stderr, "%sepoch %d/%d: loss %.4f val_loss %.4f val_acc %.4f val_macro_f1 %.4f best %.4f (epoch %d) lr %.2e elapsed %s ETA %s\n",
		r.prefix, p.Epoch, p.Epochs, p.Loss, p.ValLoss, p.ValAccuracy, p.ValMacroF1, p.BestValAccuracy, p.BestEpoch,
		p.LR, p.Elapsed.Round(time.Second), p.ETA.Round(time.Second))
}

// finish ends the live bar.
func (r *trainReporter) finish() {
	if r.bar != nil {
		r.bar.Clear()
		fmt.Fprint(r.stderr, "\r\033[K")
		r.bar = nil
	}
}

// writeCurves writes dir/curves.png: the steps seen in this process, and every epoch of the run's
// history (a resumed run has its earlier epochs from the checkpoint).
func (r *trainReporter) writeCurves(dir, title string, history []core.EpochRecord) (string, error) {
	epochs := r.epochs
	if len(history) > 0 {
		epochs = epochs[:0:0]
		for _, e := range history {
			epochs = append(epochs, plot.EpochPoint{Epoch: e.Epoch, Step: e.Steps, TrainLoss: e.TrainLoss, ValLoss: e.ValLoss,
				ValAccuracy: e.ValAccuracy, ValMacroF1: e.ValMacroF1, HasVal: e.ValAccuracy+e.ValLoss+e.ValMacroF1 != 0})
		}
	}
	path := filepath.Join(dir, "curves.png")
	err := writePNG(path, func(w io.Writer) error { return plot.Curves(w, title, r.steps, epochs) })
	return path, err
}

func writePNG(path string, f func(io.Writer) error) error {
	return core.WriteFileAtomic(path, f)
}

// plural is "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
