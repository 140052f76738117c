from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stancekit.evaluation import EvaluationReport
from stancekit.evaluation.metrics import classification_metrics
from stancekit.evaluation.report import atomic_write


def _report() -> EvaluationReport:
    y = ["favor", "against", "none", "none", "against"]
    p = ["favor", "none", "none", "none", "against"]
    probs = np.array(
        [[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.3, 0.1, 0.6], [0.1, 0.8, 0.1]]
    )
    st = classification_metrics(
        y,
        p,
        labels=["favor", "against", "none"],
        probs=probs,
        positive_labels=["favor", "against"],
        n_bootstrap=100,
    )
    group = {
        "n": 5,
        "stance": {k: st[k] for k in ("n", "macro_f1", "f_avg", "accuracy", "ci95")},
        "sentiment": None,
    }
    return EvaluationReport(
        "pairs", "m 1", 2, 5, st, None, None, {"CSTO": group}, {"(author)": group}, None
    )


def test_report_writes_markdown_and_every_figure(tmp_path: Path) -> None:
    md = Path(_report().write_report(str(tmp_path / "r")))
    text = md.read_text()
    assert "macro-F1" in text and "| CSTO | 5 |" in text and "Sentiment" not in text
    for name in (
        "stance_confusion.png",
        "stance_reliability.png",
        "per_target.png",
        "per_holder.png",
    ):
        png = md.parent / name
        assert f"({name})" in text
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_json_has_the_stable_keys(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    _report().write_json(str(out))
    d = json.loads(out.read_text())
    assert list(d) == [
        "n_documents",
        "n_spans",
        "mode",
        "model",
        "stance",
        "sentiment",
        "extract",
        "per_target",
        "per_holder",
        "directed",
    ]
    assert d["sentiment"] is None and d["stance"]["accuracy"] == 0.8


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.txt", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
