"""Constants shared by the Python tests (imported by name; pytest discourages importing
conftest.py, whose module name is not unique across test directories)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The small model most tests create (seeded); D = 24, head_dim 6.
SMALL_CONFIG = dict(
    feature_dim=16,
    hidden_dim=12,
    num_layers=2,
    num_heads=4,
    num_classes=5,
    dropout=0.4,
    bidirectional=True,
    classifier_widths=(24, 16, 8),
)
