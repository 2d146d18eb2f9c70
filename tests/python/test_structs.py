"""The ctypes mirrors of the header's structs have the header's layout and defaults.

A C program compiled against include/temporal.h prints sizeof/offsetof of every field and the
values of the static inline default initialisers; the binding's mirrors must agree exactly.
"""

from __future__ import annotations

import ctypes
import subprocess
import textwrap

import pytest

from temporal_testlib import REPO

STRUCTS = {
    "temporal_model_config": "ModelConfigStruct",
    "temporal_predict_options": "PredictOptionsStruct",
    "temporal_load_options": "LoadOptionsStruct",
    "temporal_train_config": "TrainConfigStruct",
    "temporal_train_progress": "TrainProgressStruct",
    "temporal_train_report": "TrainReportStruct",
}


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory):
    """{struct: {"size": n, field: (offset, size)}} and the defaults, as the C compiler sees them."""
    from temporal import _library

    lines = []
    for cname, pyname in STRUCTS.items():
        lines.append(f'printf("{cname} size %zu\\n", sizeof({cname}));')
        for field, _ in getattr(_library, pyname)._fields_:
            lines.append(
                f'printf("{cname} {field} %zu %zu\\n", offsetof({cname}, {field}), '
                f"sizeof((({cname} *)0)->{field}));"
            )
    src = textwrap.dedent(
        """
        #include <stdio.h>
        #include <stddef.h>
        #include "temporal.h"
        int main(void) {
            temporal_model_config c = temporal_model_config_default();
            temporal_predict_options p = temporal_predict_options_default();
            temporal_load_options l = temporal_load_options_default();
            int i;
            @FIELDS@
            printf("default config %u %d %d %d %d %d %.17g %d %d", c.struct_size, c.feature_dim,
                   c.hidden_dim, c.num_layers, c.num_heads, c.num_classes, c.dropout,
                   c.bidirectional, c.num_classifier_widths);
            for (i = 0; i < TEMPORAL_MAX_CLASSIFIER_WIDTHS; i++) printf(" %d", c.classifier_widths[i]);
            printf(" %lld %d %u\\n", (long long)c.num_params, c.num_class_names, c.reserved);
            printf("default predict %u %d %d %d\\n", p.struct_size, p.padding, p.output, p.tta);
            printf("default load %u %d %d\\n", l.struct_size, l.num_heads, l.device == NULL);
            printf("max_widths %d\\n", TEMPORAL_MAX_CLASSIFIER_WIDTHS);
            {
                temporal_train_config t = temporal_train_config_default();
                temporal_train_report r = temporal_train_report_default();
                printf("default train %u %d %d %d %.17g %.17g %llu %d %d %.17g %.17g %d %d %lld %d %d %.17g\\n",
                       t.struct_size, t.epochs, t.batch_size, t.patience, t.lr, t.weight_decay,
                       (unsigned long long)t.seed, t.padding, t.loss, t.gamma, t.label_smoothing,
                       t.dropout, t.augment, (long long)t.checkpoint_every_steps, t.resume,
                       t.class_weights, t.clip_norm);
                printf("default report %u %d %d %d %lld %.17g %.17g %d\\n", r.struct_size,
                       r.epochs_run, r.best_epoch, r.stopped_early, (long long)r.final_step,
                       r.best_val_accuracy, r.final_train_loss, (int)r.best_model_path[0]);
                printf("enums2 %d %d %d %d %d\\n", TEMPORAL_TTA_ALL, TEMPORAL_LOSS_FOCAL,
                       TEMPORAL_LOSS_CROSS_ENTROPY, TEMPORAL_PROGRESS_STEP, TEMPORAL_PROGRESS_EPOCH);
            }
            printf("enums %d %d %d %d %d\\n", TEMPORAL_PADDING_MASKED, TEMPORAL_PADDING_REFERENCE,
                   TEMPORAL_OUTPUT_LOGITS, TEMPORAL_OUTPUT_PROBABILITIES, TEMPORAL_TTA_NONE);
            return 0;
        }
        """
    ).replace("@FIELDS@", "\n    ".join(lines))
    d = tmp_path_factory.mktemp("layout")
    (d / "layout.c").write_text(src)
    try:
        subprocess.run(
            ["gcc", "-std=c99", "-Wall", "-Werror", "-I", str(REPO / "include"), "-o", str(d / "layout"), str(d / "layout.c")],
            check=True, capture_output=True, text=True,
        )
    except OSError as e:
        pytest.skip(f"no C compiler: {e}")
    except subprocess.CalledProcessError as e:
        pytest.fail(f"layout program does not compile against temporal.h:\n{e.stderr}")
    out = subprocess.run([str(d / "layout")], check=True, capture_output=True, text=True).stdout
    layout, defaults = {}, {}
    for line in out.splitlines():
        w = line.split()
        if w[0] in STRUCTS:
            entry = layout.setdefault(w[0], {})
            entry[w[1]] = int(w[2]) if w[1] == "size" else (int(w[2]), int(w[3]))
        else:
            defaults[" ".join(w[:2]) if w[0] == "default" else w[0]] = w[2:] if w[0] == "default" else w[1:]
    return layout, defaults


@pytest.mark.parametrize("cname", sorted(STRUCTS))
def test_struct_layout_matches_header(temporal, c_layout, cname):
    from temporal import _library

    layout, _ = c_layout
    st = getattr(_library, STRUCTS[cname])
    assert ctypes.sizeof(st) == layout[cname]["size"]
    for field, _t in st._fields_:
        f = getattr(st, field)
        assert (f.offset, f.size) == layout[cname][field], f"{cname}.{field}"


def test_defaults_match_header_initialisers(temporal, c_layout):
    from temporal import _library

    _, d = c_layout
    c = _library.model_config_default()
    got = [c.struct_size, c.feature_dim, c.hidden_dim, c.num_layers, c.num_heads, c.num_classes,
           repr(c.dropout), c.bidirectional, c.num_classifier_widths, *c.classifier_widths,
           c.num_params, c.num_class_names, c.reserved]
    want = d["default config"]
    assert [str(x) for x in got[:6]] == want[:6]
    assert float(want[6]) == c.dropout
    assert [str(x) for x in got[7:]] == want[7:]
    p = _library.predict_options_default()
    assert [str(p.struct_size), str(p.padding), str(p.output), str(p.tta)] == d["default predict"]
    lo = _library.load_options_default()
    assert [str(lo.struct_size), str(lo.num_heads), str(int(lo.device is None))] == d["default load"]
    assert int(d["max_widths"][0]) == _library.MAX_CLASSIFIER_WIDTHS
    assert [int(x) for x in d["enums"]] == [
        _library.PADDING_MASKED, _library.PADDING_REFERENCE, _library.OUTPUT_LOGITS,
        _library.OUTPUT_PROBABILITIES, _library.TTA_NONE,
    ]


def test_python_config_defaults_are_the_reference_model(temporal):
    c = temporal.Config()
    assert (c.feature_dim, c.hidden_dim, c.num_layers, c.num_heads, c.num_classes) == (1280, 768, 4, 12, 4)
    assert c.dropout == 0.4 and c.bidirectional and c.classifier_widths == (768, 512, 256)
    assert c.num_params == 65_277_701


def test_training_defaults_match_header_initialisers(temporal, c_layout):
    from temporal import _library

    _, d = c_layout
    t = _library.train_config_default()
    got = [getattr(t, f) for f, _ in _library.TrainConfigStruct._fields_]
    assert [float(x) for x in d["default train"]] == [float(x) for x in got]
    r = _library.train_report_default()
    want = [float(x) for x in d["default report"]]
    assert want == [r.struct_size, r.epochs_run, r.best_epoch, r.stopped_early, r.final_step,
                    r.best_val_accuracy, r.final_train_loss, 0]
    assert [int(x) for x in d["enums2"]] == [
        _library.TTA_ALL, _library.LOSS_FOCAL, _library.LOSS_CROSS_ENTROPY, _library.PROGRESS_STEP,
        _library.PROGRESS_EPOCH,
    ]
    # The Python-level defaults are the same recipe.
    assert temporal.TRAIN_DEFAULTS["epochs"] == t.epochs and temporal.TRAIN_DEFAULTS["lr"] == t.lr
