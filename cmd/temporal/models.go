package main

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"libtemporal/core"
)

// expandModels turns --model arguments into checkpoint files. A file stays as it is; a directory
// stands for the model(s) in it: its best.safetensors (a training run), else model.safetensors
// (the demo), else the best.safetensors of each subdirectory (an ensemble from train --seeds K,
// seed-42, seed-43, … in seed order).
func expandModels(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, core.Wrap(core.KindIO, err, "model")
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		found := false
		for _, name := range []string{"best.safetensors", "model.safetensors"} {
			if p := filepath.Join(a, name); isFile(p) {
				out, found = append(out, p), true
				break
			}
		}
		if found {
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, core.Wrap(core.KindIO, err, "model")
		}
		var subs []string
		for _, e := range entries {
			if p := filepath.Join(a, e.Name(), "best.safetensors"); e.IsDir() && isFile(p) {
				subs = append(subs, p)
			}
		}
		if len(subs) == 0 {
			return nil, core.Errf(core.KindIO, "model: %s holds no best.safetensors, model.safetensors or */best.safetensors", a)
		}
		sort.Slice(subs, func(i, j int) bool { return naturalLess(subs[i], subs[j]) })
		out = append(out, subs...)
	}
	return out, nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// naturalLess orders seed-9 before seed-10.
func naturalLess(a, b string) bool {
	da, db := filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b))
	na, ea := strconv.Atoi(strings.TrimLeft(da, "abcdefghijklmnopqrstuvwxyz-_"))
	nb, eb := strconv.Atoi(strings.TrimLeft(db, "abcdefghijklmnopqrstuvwxyz-_"))
	if ea == nil && eb == nil && na != nb {
		return na < nb
	}
	return a < b
}

// loadModels loads every checkpoint; all must take the same features and classes.
func loadModels(paths []string, heads int) ([]*core.Model, error) {
	var ms []*core.Model
	for _, p := range paths {
		m, err := loadModel(p, heads)
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			c0, c := ms[0].Config(), m.Config()
			if c.FeatureDim != c0.FeatureDim || c.NumClasses != c0.NumClasses {
				return nil, core.Errf(core.KindShape, "%s takes feature_dim %d with %d classes, %s feature_dim %d with %d: not one ensemble",
					p, c.FeatureDim, c.NumClasses, paths[0], c0.FeatureDim, c0.NumClasses)
			}
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, errors.New("no model")
	}
	return ms, nil
}
