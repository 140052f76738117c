"""The offline HTML report of a corpus, and ``report_main`` behind ``stancekit report``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from stancekit.corpus import Corpus, report_main, write_html_report

EVIDENCE = "Pashinyan said the CSTO had abandoned Armenia."


def _records() -> list[dict[str, object]]:
    rows = [
        ("a", 0, "Nikol Pashinian", "CSTO", 0.1, 0.8, "Nikol Pashinian criticised the CSTO."),
        ("b", 0, "Pashinyan", "CSTO", 0.05, 0.9, EVIDENCE),
        ("b", 1, "Stanislav Zas", "Nikol Pashinian", 0.2, 0.6, "Zas rebuked Pashinian."),
        ("c", 0, None, "CSTO", 0.5, 0.2, "The CSTO met in Yerevan."),
    ]
    return [
        {
            "document_id": doc,
            "sentence_index": i,
            "sentence_start": 0,
            "sentence_end": len(text),
            "sentence": text,
            "holder": holder,
            "holder_kind": None if holder is None else "PERSON",
            "target": target,
            "stance": "favor" if pf > pa else "against",
            "p_favor": pf,
            "p_against": pa,
            "p_none": round(1 - pf - pa, 6),
        }
        for doc, i, holder, target, pf, pa, text in rows
    ]


@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    return path


@pytest.fixture
def meta_file(tmp_path: Path) -> Path:
    path = tmp_path / "meta.csv"
    path.write_text("id,date,outlet\na,2022-11-01,X\nb,2022-11-20,Y\nc,2022-12-02,Y\n")
    return path


def test_report_holds_evidence_figures_and_merges(
    results_file: Path, meta_file: Path, tmp_path: Path
) -> None:
    corpus = Corpus.read_jsonl(results_file).with_metadata(meta_file)
    index = write_html_report(corpus, tmp_path / "report", n_bootstrap=100)
    page = index.read_text(encoding="utf-8")
    assert index == tmp_path / "report" / "index.html"
    assert EVIDENCE in page
    assert "(b, sentence 0, chars 0–46)" in page  # document id and offsets
    assert page.count('src="data:image/png;base64,') >= 4  # heatmap, timeline, network, strips
    assert "<td>Pashinyan</td><td>Nikol Pashinian</td><td>similarity</td>" in page
    for png in ("actor_target.png", "timeline.png", "network.png", "strip_1.png"):
        assert (index.parent / png).stat().st_size > 1000


def test_report_needs_no_network(results_file: Path, tmp_path: Path) -> None:
    page = write_html_report(Corpus.read_jsonl(results_file), tmp_path, n_bootstrap=0)
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<(script|link)\b", text)  # no external CSS or JS at all
    assert "timeline.png" not in text  # undated corpus: no timeline section


def test_report_escapes_html_in_sentences(tmp_path: Path) -> None:
    records = _records()
    records[0]["sentence"] = "Pashinian: <b>CSTO</b> & co."
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    page = write_html_report(Corpus.read_jsonl(path), tmp_path / "out", n_bootstrap=0)
    text = page.read_text(encoding="utf-8")
    assert "&lt;b&gt;CSTO&lt;/b&gt; &amp; co." in text and "<b>CSTO</b>" not in text


def test_report_quotes_a_sentence_once_even_when_it_opens_with_a_quote(tmp_path: Path) -> None:
    records = _records()
    records[0]["sentence"] = "“What the CSTO must do is clear,” Pashinian said."
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    text = write_html_report(Corpus.read_jsonl(path), tmp_path / "out", n_bootstrap=0).read_text(
        encoding="utf-8"
    )
    assert "“What the CSTO must do" in text
    assert "““" not in text and "”.”" not in text
    assert f"“{EVIDENCE}”" in text  # a plain sentence still gets its marks


def test_report_main_builds_the_report_from_jsonl(
    results_file: Path, meta_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rep"
    assert report_main([str(results_file)], str(out), metadata=str(meta_file)) == 0
    assert EVIDENCE in (out / "index.html").read_text(encoding="utf-8")
    assert "report:" in capsys.readouterr().err


def test_report_main_reports_a_missing_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_main([str(tmp_path / "nope.jsonl")], str(tmp_path / "rep")) == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_report_main_applies_an_alias_table(results_file: Path, tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("canonical,alias,merge\nNikol Pashinian,Pashinyan,no\n")
    out = tmp_path / "rep"
    assert report_main([str(results_file)], str(out), aliases=str(aliases)) == 0
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<td>Pashinyan</td><td>Pashinyan</td><td>do-not-merge</td>" in page


class FakeAnalyzer:
    """Stands in for StanceAnalyzer: one favor judgement per article, by Stanislav Zas."""

    def analyze_many(self, items, *, progress=True):  # type: ignore[no-untyped-def]
        from stancekit.actors import Actor
        from stancekit.actors.targets import Target
        from stancekit.results.judgements import DocumentResult, Judgement
        from stancekit.text.document import Document, Sentence

        for item in items:
            text = item["text"].strip()
            sentence = Sentence(0, len(text), 0, text)
            doc = Document(item["id"], text, item["meta"], (sentence,))
            judgement = Judgement(
                doc.id,
                sentence,
                Actor("Stanislav Zas", "PERSON"),
                Target("CSTO"),
                "favor",
                {"favor": 0.9, "against": 0.05, "none": 0.05},
                "positive",
                {"positive": 0.7, "neutral": 0.2, "negative": 0.1},
            )
            yield DocumentResult(doc, (Target("CSTO"),), (), (judgement,))


def test_report_main_analyses_articles_and_skips_unreadable_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Zas praised the CSTO.", encoding="utf-8")
    (folder / "b.txt").write_bytes("Caf\xe9 in Baku".encode("latin-1"))
    out = tmp_path / "rep"
    code = report_main([str(folder)], str(out), analyzer=FakeAnalyzer())  # type: ignore[arg-type]
    assert code == 1
    assert "b.txt: not UTF-8" in capsys.readouterr().err
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Zas praised the CSTO." in page and "Stanislav Zas" in page


def test_front_matter_becomes_metadata_and_keeps_offsets() -> None:
    from stancekit.corpus.report import front_matter

    text = "---\ndate: 2022-11-28\noutlet: 'RFE/RL'\n---\nZas praised the CSTO."
    body, meta = front_matter(text)
    assert meta == {"date": "2022-11-28", "outlet": "RFE/RL"}
    assert len(body) == len(text) and body.endswith("Zas praised the CSTO.")
    assert body[: text.index("Zas")].strip() == ""
    assert front_matter("No front matter.\n---\n") == ("No front matter.\n---\n", {})


def test_report_main_reads_article_metadata_from_jsonl_fields_and_front_matter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = tmp_path / "articles.jsonl"
    rows = [
        {"id": "a1", "text": "Zas praised the CSTO.", "date": "2022-11-28", "outlet": "RFE/RL"},
        {"id": "a2", "text": "Zas praised the CSTO again.", "date": "2022-12-05"},
    ]
    articles.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    md = tmp_path / "c.md"
    md.write_text("---\ndate: 2023-01-09\noutlet: Azatutyun\n---\nZas praised the CSTO.")
    out = tmp_path / "rep"
    code = report_main([str(articles), str(md)], str(out), analyzer=FakeAnalyzer())  # type: ignore[arg-type]
    assert code == 0, capsys.readouterr().err
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "3 of 3 documents dated" in page


def test_report_on_an_articles_jsonl_with_a_deeply_nested_line_exits_2_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # fuzz find (benchmarks/fuzz.py, cli_report): RecursionError escaped report_main
    src = tmp_path / "articles.jsonl"
    src.write_text('{"text": "The CSTO met."}\n' + "[" * 5000 + "\n")
    assert report_main([str(src)], str(tmp_path / "out")) == 2
    assert "line 2: not JSON (RecursionError)" in capsys.readouterr().err
    src.write_text("[" * 5000 + "\n")  # first line: read as results, which say so
    assert report_main([str(src)], str(tmp_path / "out")) == 2
    assert "line 1: not JSON (RecursionError)" in capsys.readouterr().err


@pytest.mark.slow
def test_report_on_an_articles_jsonl_line_without_text_skips_it_with_exit_1(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # fuzz find (benchmarks/fuzz.py, cli_report), minimal input: {"text": ""} then {}
    src = tmp_path / "articles.jsonl"
    src.write_text('{"text": ""}\n{}\n')
    assert report_main([str(src)], str(tmp_path / "out"), model=str(tiny_model_dir)) == 1
    assert f"skipped {src}:2: no string 'text' field" in capsys.readouterr().err
    assert (tmp_path / "out" / "index.html").is_file()
