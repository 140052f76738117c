"""Corpus figures: each function returns a Figure and writes a non-empty PNG or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from stancekit.actors import Actor
from stancekit.actors.targets import Target
from stancekit.corpus import Corpus
from stancekit.corpus.figures import (
    plot_actor_target,
    plot_network,
    plot_stance_strip,
    plot_timeline,
)
from stancekit.results.judgements import DocumentResult, Judgement
from stancekit.text.document import Document, Sentence

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _rows() -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for doc, date, holder, target, pf, pa in [
        ("a", "2022-11-03", "Nikol Pashinian", "CSTO", 0.1, 0.8),
        ("a", "2022-11-03", "Stanislav Zas", "Nikol Pashinian", 0.2, 0.7),
        ("b", "2022-12-10", "Pashinyan", "CSTO", 0.3, 0.5),
        ("b", "2022-12-10", "Nikol Pashinian", "Stanislav Zas", 0.8, 0.1),
        ("c", "2023-01-20", None, "CSTO", 0.6, 0.2),
    ]:
        rows.append(
            {
                "document_id": doc,
                "sentence_index": len([r for r in rows if r["document_id"] == doc]),
                "sentence": f"{holder} on {target}.",
                "holder": holder,
                "holder_kind": "PERSON",
                "target": target,
                "stance": "favor" if pf > pa else "against",
                "p_favor": pf,
                "p_against": pa,
                "p_none": round(1 - pf - pa, 6),
                "date": date,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus.from_dataframe(_rows())


def _result() -> DocumentResult:
    text = "Zas praised the CSTO. Pashinian disagreed. It rained."
    sentences = (
        Sentence(0, 21, 0, text[0:21]),
        Sentence(22, 42, 1, text[22:42]),
        Sentence(43, 53, 2, text[43:53]),
    )
    doc = Document("art", text, {}, sentences)

    def judge(s: Sentence, holder: str | None, pf: float, pa: float) -> Judgement:
        probs = {"favor": pf, "against": pa, "none": 1 - pf - pa}
        return Judgement(
            "art",
            s,
            None if holder is None else Actor(holder, "PERSON"),
            Target("CSTO"),
            max(probs, key=probs.__getitem__),
            probs,
            "neutral",
            {"positive": 0.2, "neutral": 0.6, "negative": 0.2},
        )

    judged = (
        judge(sentences[0], "Stanislav Zas", 0.9, 0.05),
        judge(sentences[1], "Nikol Pashinian", 0.1, 0.8),
        judge(sentences[1], None, 0.2, 0.2),
    )
    return DocumentResult(doc, (Target("CSTO"),), (), judged)


def _written(path: Path, fig: Figure) -> bool:
    return isinstance(fig, Figure) and path.is_file() and path.stat().st_size > 1000


def test_plot_actor_target_writes_a_png(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "heat.png"
    fig = plot_actor_target(corpus, path)
    assert _written(path, fig)
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "-0.45\nn=2" in texts  # Nikol Pashinian -> CSTO: mean(.1, .3) - mean(.8, .5)


def test_plot_timeline_writes_an_svg_by_suffix(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "timeline.svg"
    fig = plot_timeline(corpus, path, target="CSTO", n_bootstrap=50)
    assert _written(path, fig)
    assert path.read_text().lstrip().startswith("<?xml")
    legend = fig.axes[0].get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert "Nikol Pashinian" in labels


def test_plot_network_writes_a_png(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "net.png"
    fig = plot_network(corpus, path)
    assert _written(path, fig)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"Nikol Pashinian", "Stanislav Zas"} <= labels


def test_plot_stance_strip_of_a_document_result(tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    fig = plot_stance_strip(_result(), path)
    assert _written(path, fig)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Stanislav Zas > CSTO" in texts and "[2] It rained." in texts


def test_plot_stance_strip_of_a_corpus_document(corpus: Corpus, tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    assert _written(path, plot_stance_strip(corpus, path, document_id="b"))
    with pytest.raises(ValueError, match="'document_id'"):
        plot_stance_strip(corpus)


def test_figures_without_data_still_draw(tmp_path: Path) -> None:
    undated = Corpus.from_dataframe(_rows().drop(columns=["date"]))
    path = tmp_path / "t.png"
    assert _written(path, plot_timeline(undated, path))


def test_a_path_that_is_not_png_or_svg_is_refused(corpus: Corpus, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'path'.*\.png or \.svg.*heat\.jpg"):
        plot_actor_target(corpus, tmp_path / "heat.jpg")
