#!/usr/bin/env python3
"""Classify clips with a libtemporal checkpoint through the Python binding.

    PYTHONPATH=bindings/python TEMPORAL_LIBRARY=build/lib/libtemporal.so.1
        /usr/bin/python3 examples/python/classify.py build/demo/model.safetensors build/demo/clips/clip-0.npy

Each clip is a float32 .npy of shape [frames, feature_dim] (or [batch, frames, feature_dim]).
Prints the class probabilities and the frames the attention pooling weighs most.
"""
import sys

import numpy as np

import temporal


def main(argv):
    if len(argv) < 3:
        print("usage: classify.py MODEL.safetensors CLIP.npy [CLIP.npy ...]", file=sys.stderr)
        return 2
    with temporal.Model.load(argv[1]) as model:
        names = list(model.config.class_names or [str(i) for i in range(model.num_classes)])
        print(f"model {argv[1]}: {model.config.feature_dim} features, classes {names}")
        for path in argv[2:]:
            clip = np.load(path).astype(np.float32)
            probs, weights = model.predict_proba(clip, return_frame_weights=True)
            probs, weights = np.atleast_2d(probs), np.atleast_2d(weights)
            for b in range(probs.shape[0]):
                best = int(np.argmax(probs[b]))
                top = np.argsort(-weights[b])[:3]
                listing = "  ".join(f"{n} {p:.3f}" for n, p in zip(names, probs[b]))
                frames = ", ".join(f"#{t} {weights[b, t]:.2f}" for t in top)
                print(f"{path}: {names[best]} p={probs[b, best]:.3f}  [{listing}]  top frames {frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
