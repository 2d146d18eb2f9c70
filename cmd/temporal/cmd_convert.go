package main

import (
	"encoding/json"
	"io"
	"strings"

	"libtemporal/core"
)

const convertArgs = "--features X.npy --labels y.npy [--lengths n.npy] --out D.h5 [--class-names a,b,...]"

func runConvert(argv []string, stdout, stderr io.Writer) int {
	fs := newFlags("convert", convertArgs)
	featPath := fs.String("features", "", "float32 features [N, T, F], zero-padded")
	labelPath := fs.String("labels", "", "integer labels [N] in [0, C)")
	lenPath := fs.String("lengths", "", "integer frame counts [N] in [1, T] (default: all T)")
	out := fs.String("out", "", "output HDF5 file")
	names := fs.String("class-names", "", "comma-separated class names by index (default: 0..max(label))")
	pos, code, ok := parse(fs, "convert", convertArgs, argv, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return fail(stderr, "convert", userErr("unexpected argument %q", pos[0]))
	}
	if *featPath == "" || *labelPath == "" || *out == "" {
		return fail(stderr, "convert", userErr("--features, --labels and --out are required"))
	}
	if err := convert(*featPath, *labelPath, *lenPath, *out, *names); err != nil {
		return fail(stderr, "convert", err)
	}
	return exitOK
}

func convert(featPath, labelPath, lenPath, out, names string) error {
	fa, err := readNpy(featPath)
	if err != nil {
		return err
	}
	if len(fa.Shape) != 3 {
		return core.Errf(core.KindShape, "%s: features have shape %v, want [N, T, F]", featPath, fa.Shape)
	}
	x, err := fa.Float32()
	if err != nil {
		return core.Wrap(core.KindFormat, err, "%s", featPath)
	}
	N, T, F := fa.Shape[0], fa.Shape[1], fa.Shape[2]
	la, err := readNpy(labelPath)
	if err != nil {
		return err
	}
	if len(la.Shape) != 1 || la.Shape[0] != N {
		return core.Errf(core.KindShape, "%s: labels have shape %v, want [%d]", labelPath, la.Shape, N)
	}
	labels, err := la.Ints()
	if err != nil {
		return core.Wrap(core.KindFormat, err, "%s", labelPath)
	}
	lengths := make([]int32, N)
	if lenPath != "" {
		na, err := readNpy(lenPath)
		if err != nil {
			return err
		}
		if len(na.Shape) != 1 || na.Shape[0] != N {
			return core.Errf(core.KindShape, "%s: lengths have shape %v, want [%d]", lenPath, na.Shape, N)
		}
		ls, err := na.Ints()
		if err != nil {
			return core.Wrap(core.KindFormat, err, "%s", lenPath)
		}
		for i, v := range ls {
			if v < 1 || v > int64(T) {
				return core.Errf(core.KindInvalidArgument, "%s: lengths[%d] = %d out of range [1, %d]", lenPath, i, v, T)
			}
			lengths[i] = int32(v)
		}
	} else {
		for i := range lengths {
			lengths[i] = int32(T)
		}
	}
	var classNames []string
	if names != "" {
		for _, s := range strings.Split(names, ",") {
			classNames = append(classNames, strings.TrimSpace(s))
		}
	}
	d, err := core.NewMemDataset(x, labels, lengths, T, F, classNames)
	if err != nil {
		return core.Wrap(core.KindOf(err), err, "convert")
	}
	// Refuse non-finite features here, with the clip named, rather than at training time.
	buf := make([]float32, T*F)
	for i := 0; i < N; i++ {
		if err := d.ReadClips([]int{i}, T, buf); err != nil {
			return err
		}
	}
	return core.WriteHDF5Dataset(out, d)
}

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }
