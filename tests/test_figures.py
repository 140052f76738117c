"""Evaluation figures: each function writes a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from stancekit.evaluation.figures import (
    plot_confusion,
    plot_per_target,
    plot_reliability,
)
from stancekit.evaluation.metrics import classification_metrics

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ["favor", "against", "none"]


def _is_png(path: Path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_plot_confusion(tmp_path: Path) -> None:
    out = plot_confusion(
        [[2, 1, 0], [0, 2, 1], [0, 1, 1]], LABELS, title="Stance", path=tmp_path / "sub" / "c.png"
    )
    assert out == tmp_path / "sub" / "c.png"
    assert _is_png(out)


def test_plot_confusion_rejects_a_mismatched_matrix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'confusion'.*shape \(3, 3\)"):
        plot_confusion([[1, 2], [3, 4]], LABELS, title="x", path=tmp_path / "c.png")


def test_plot_per_target(tmp_path: Path) -> None:
    per_target = {
        "NATO": {"macro_f1": 0.62, "n": 40},
        "CSTO": {"macro_f1": 0.48, "n": 12},
        "EU": {"accuracy": 0.9},  # no macro_f1: drawn as n/a, no n in the label
    }
    out = plot_per_target(per_target, title="Per target", path=str(tmp_path / "t.png"))
    assert isinstance(out, Path)
    assert _is_png(out)


def test_plot_reliability(tmp_path: Path) -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.4, 0.35, 0.25]])
    m = classification_metrics(
        ["favor", "against", "none", "favor"],
        ["favor", "favor", "none", "favor"],
        labels=LABELS,
        probs=probs,
        n_bins=5,
        n_bootstrap=10,
    )
    assert None in m["reliability"]["confidence"]  # empty bins are handled
    out = plot_reliability(m["reliability"], title="Calibration", path=tmp_path / "r.png")
    assert _is_png(out)
