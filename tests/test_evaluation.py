from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.analyzer import StanceAnalyzer
from stancekit.evaluation import compare, evaluate
from stancekit.scoring.model import StanceModel
from stancekit.spans import GoldDocument, GoldSpan, read_spans

pytestmark = pytest.mark.slow  # spaCy + the tiny model

GOLD = Path(__file__).resolve().parent.parent / "seeds" / "csto-armenia-2022-11-28.gold.jsonl"


@pytest.fixture(scope="module")
def analyzer(tiny_model: StanceModel) -> StanceAnalyzer:
    return StanceAnalyzer(model=tiny_model)


def test_pairs_mode_reports_every_section_on_the_seed_gold(analyzer: StanceAnalyzer) -> None:
    gold = read_spans(GOLD)
    report = evaluate(analyzer, gold, mode="pairs", n_bootstrap=200)
    d = report.to_dict()
    assert (d["mode"], d["n_documents"], d["n_spans"]) == ("pairs", 1, gold.n_spans)
    for head in ("stance", "sentiment"):
        sec = d[head]
        assert sec["n"] == gold.n_spans
        lo, hi = sec["ci95"]["macro_f1"]
        assert lo <= sec["macro_f1"] <= hi
        assert 0.0 <= sec["ece"] <= 1.0
    assert set(d["per_target"]) == {"CSTO", "Azerbaijan"}
    assert "Armen Khachatrian" in d["per_holder"]
    assert d["extract"] is None
    json.dumps(d, allow_nan=False)


def test_predictions_keep_the_gold_and_add_the_model_output(
    analyzer: StanceAnalyzer, tmp_path: Path
) -> None:
    gold = read_spans(GOLD)
    report = evaluate(analyzer, gold, n_bootstrap=100)
    out = tmp_path / "preds.jsonl"
    report.write_predictions(str(out))
    rec = json.loads(out.read_text().splitlines()[0])
    original = gold.documents[0].to_dict()
    assert rec["text"] == original["text"] and len(rec["spans"]) == len(original["spans"])
    for pred, span in zip(rec["spans"], original["spans"], strict=True):
        assert {k: pred[k] for k in span} == span
        assert pred["pred_stance"] in ("favor", "against", "none")
        assert sum(pred["pred_stance_probs"].values()) == pytest.approx(1.0)
        assert pred["pred_sentiment"] in ("positive", "neutral", "negative")


def test_sentiment_only_gold_is_scored_only_for_sentiment(analyzer: StanceAnalyzer) -> None:
    doc = GoldDocument(
        "one",
        "Baku rejected the offer.",
        (GoldSpan(0, 24, None, "Azerbaijan", sentiment="negative"),),
    )
    d = evaluate(analyzer, [doc], n_bootstrap=100).to_dict()
    assert d["stance"] is None and d["sentiment"]["n"] == 1


def test_a_hundred_sentence_document_is_evaluated(analyzer: StanceAnalyzer) -> None:
    sentence = "Officials in Baku said the CSTO had failed. "
    text = sentence * 100
    spans = tuple(
        GoldSpan(i * len(sentence), (i + 1) * len(sentence) - 1, None, "CSTO", stance="none")
        for i in range(100)
    )
    d = evaluate(analyzer, [GoldDocument("long", text, spans)], n_bootstrap=100).to_dict()
    assert d["stance"]["n"] == 100


def test_extract_mode_matches_the_pipeline_output_to_gold(analyzer: StanceAnalyzer) -> None:
    report = evaluate(analyzer, read_spans(GOLD), mode="extract")
    e = report.to_dict()["extract"]
    assert e["n_gold"] == sum(
        1 for s in read_spans(GOLD).documents[0].spans if s.stance not in (None, "none")
    )
    assert 0.0 <= e["precision"] <= 1.0 and 0.0 <= e["holder_f1"] <= 1.0
    assert report.to_dict()["stance"] is None
    assert "pred_spans" in report.predictions[0]


def test_directed_pairs_get_the_five_class_view(analyzer: StanceAnalyzer) -> None:
    text = "Trump blamed China for the virus."
    doc = GoldDocument(
        "dsa",
        text,
        (
            GoldSpan(0, len(text), "Trump", "China", stance="against"),
            GoldSpan(0, len(text), "China", "Trump", stance="none"),
        ),
    )
    d = evaluate(analyzer, [doc], n_bootstrap=100).to_dict()
    assert d["directed"]["n_pairs"] == 1


def test_compare_of_a_model_with_itself_shows_no_difference(analyzer: StanceAnalyzer) -> None:
    result = compare(analyzer, analyzer, read_spans(GOLD), n_bootstrap=200)
    assert result["stance"]["macro_f1"]["difference"] == 0.0
    assert result["sentiment"]["macro_f1"]["ci95"] == [0.0, 0.0]


def test_unknown_mode_is_refused(analyzer: StanceAnalyzer) -> None:
    with pytest.raises(ValueError, match="'mode' must be 'pairs' or 'extract', got 'both'"):
        evaluate(analyzer, [], mode="both")
