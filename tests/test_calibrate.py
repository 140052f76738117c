"""stancekit.recalibrate: refits the temperatures on labelled spans, reports a
cross-fitted ECE, writes a copy whose probabilities use the new temperature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stancekit.finetuning.calibrate import CalibrationError, recalibrate
from stancekit.scoring.model import PairInput, StanceModel
from stancekit.spans import GoldDocument, GoldSpan

VERBS = {"favor": "praised", "against": "condemned", "none": "met"}


def docs(n: int) -> list[GoldDocument]:
    out = []
    for i in range(n):
        lab = list(VERBS)[i % 3]
        text = f"Alice {VERBS[lab]} Boris on day {i}."
        out.append(
            GoldDocument(f"d{i}", text, (GoldSpan(0, len(text), "Alice", "Boris", stance=lab),))
        )
    return out


def test_recalibrate_refits_the_stance_temperature_and_writes_a_copy_that_uses_it(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "recal"
    res = recalibrate(docs(60), model=tiny_model_dir, out=out, min_spans=30)
    assert res.heads == ("stance",)  # no sentiment labels: that head is left alone
    assert res.n_spans == {"stance": 60}
    assert res.temperature_after["sentiment"] == res.temperature_before["sentiment"]
    assert res.temperature_after["stance"] != res.temperature_before["stance"]
    assert 0.0 <= res.ece_after_cv["stance"] <= 1.0
    assert res.model_dir == str(out)
    saved = StanceModel.load(out)
    assert saved.config.temperature_stance == res.temperature_after["stance"]
    assert json.loads((out / "recalibration.json").read_text())["heads"] == ["stance"]
    # the copy's probabilities are the original logits divided by the new temperature
    pair = PairInput("Alice praised Boris.", "Alice", "Boris", (0, 5), (14, 19))
    orig = StanceModel.load(tiny_model_dir)
    p0 = orig.predict([pair]).stance[0]
    z = np.log(p0) * orig.config.temperature_stance / res.temperature_after["stance"]
    expect = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(saved.predict([pair]).stance[0], expect, atol=1e-5)


def test_recalibrate_without_out_writes_nothing_and_reports(tiny_model_dir: Path) -> None:
    res = recalibrate(docs(30), model=tiny_model_dir, min_spans=30)
    assert res.model_dir is None
    frame = res.to_dataframe()
    assert list(frame["head"]) == ["stance"]
    assert {"ece_before", "ece_after_cv", "temperature_after"} <= set(frame.columns)


def test_too_few_spans_is_an_error_naming_the_count_and_the_fix(tiny_model_dir: Path) -> None:
    with pytest.raises(CalibrationError, match=r"min_spans.*got 5 spans|got 5 spans.*min_spans"):
        recalibrate(docs(5), model=tiny_model_dir)


def test_folds_below_two_are_refused(tiny_model_dir: Path) -> None:
    with pytest.raises(CalibrationError, match="folds=1"):
        recalibrate(docs(60), model=tiny_model_dir, folds=1)


def test_one_document_gives_no_cross_fitted_ece_and_says_why(tiny_model_dir: Path) -> None:
    # 30 spans in one document: the temperature is fitted, but no fold can be scored with a
    # temperature from other documents (the ECE used to be the one at T = 1, unannounced)
    spans = tuple(GoldSpan(0, 21, "Alice", "Boris", stance=list(VERBS)[i % 3]) for i in range(30))
    one = [GoldDocument("only", "Alice praised Boris .", spans)]
    with pytest.warns(UserWarning, match=r"1 document\(s\) with stance labels for folds=2"):
        res = recalibrate(one, model=tiny_model_dir, min_spans=30)
    assert np.isnan(res.ece_after_cv["stance"])
    assert res.temperature_after["stance"] > 0
