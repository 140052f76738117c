from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from stancekit import __version__
from stancekit.cli import main

pytestmark = pytest.mark.slow  # spaCy + the tiny model


@pytest.fixture()
def corpus(tmp_path: Path, seed_text: str) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_text, encoding="utf-8")
    (folder / "b.txt").write_text("Baku blamed the CSTO for the crisis.", encoding="utf-8")
    (folder / "c.txt").write_bytes("Caf\xe9 owners in Baku".encode("latin-1"))  # not UTF-8
    (folder / "notes.csv").write_text("ignored,file\n")
    return folder


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_folder_with_one_bad_file_reports_it_and_analyses_the_rest(
    corpus: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["analyze", str(corpus), "--model", str(tiny_model_dir), "--format", "jsonl", "--quiet"]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "c.txt: not UTF-8" in err and "1 of 3 inputs skipped" in err
    ids = {json.loads(line)["document_id"] for line in out.splitlines()}
    assert ids == {str(corpus / "a.txt"), str(corpus / "b.txt")}


def test_table_output_shows_judgements_and_summary(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str], seed_text: str, tmp_path: Path
) -> None:
    f = tmp_path / "seed.txt"
    f.write_text(seed_text)
    assert main(["analyze", str(f), "--model", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "judgements" in out and "summary" in out
    assert "Armen Khachatrian" in out and "Azerbaijan" in out


def test_csv_summary_has_one_header(
    corpus: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(
        [
            "analyze",
            str(corpus / "a.txt"),
            str(corpus / "b.txt"),
            "--model",
            str(tiny_model_dir),
            "--format",
            "csv",
            "--summary",
            "--quiet",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("document_id,holder,target,n_sentences,n_attributed,stance")
    assert sum(line.startswith("document_id,") for line in lines) == 1


def test_state_level_summary_rolls_the_seeds_lawmaker_up_to_armenia(
    corpus: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["analyze", str(corpus / "a.txt"), "--model", str(tiny_model_dir), "--quiet"]
    main([*args, "--format", "csv", "--summary", "--level", "state"])
    holders = {line.split(",")[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert "Armenia" in holders and "Armen Khachatrian" not in holders  # "Armenian lawmaker"
    main([*args, "--format", "csv", "--summary"])
    holders = {line.split(",")[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert "Armen Khachatrian" in holders and "Armenia" not in holders


def test_stdin_and_user_targets(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"NATO said Russia lied.")))
    code = main(
        ["analyze", "-", "--target", "Russia", "--model", str(tiny_model_dir), "--format", "json"]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload[0]["document"]["id"] == "stdin"
    assert {j["target"] for j in payload[0]["judgements"]} == {"Russia"}


def test_bad_targets_file_is_a_usage_error(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "t.toml"
    bad.write_text("[[target]]\nalias = 'x'\n")
    code = main(["analyze", "-", "--targets-file", str(bad), "--model", str(tiny_model_dir)])
    assert code == 2
    assert "t.toml" in capsys.readouterr().err


def test_missing_model_is_a_usage_error_that_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["analyze", "-", "--model", str(tmp_path / "nomodel")])
    assert code == 2
    assert "nomodel" in capsys.readouterr().err


def test_missing_file_is_skipped_with_exit_status_1(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["analyze", str(tmp_path / "absent.txt"), "--model", str(tiny_model_dir)])
    assert code == 1
    assert "absent.txt: no such file" in capsys.readouterr().err


def test_evaluate_writes_json_predictions_and_report(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = Path(__file__).resolve().parent.parent / "seeds" / "csto-armenia-2022-11-28.gold.jsonl"
    code = main(
        [
            "evaluate",
            str(gold),
            "--model",
            str(tiny_model_dir),
            "--json",
            str(tmp_path / "o.json"),
            "--predictions",
            str(tmp_path / "p.jsonl"),
            "--report",
            str(tmp_path / "rep"),
            "--bootstrap",
            "100",
            "--quiet",
        ]
    )
    assert code == 0
    assert json.loads((tmp_path / "o.json").read_text())["mode"] == "pairs"
    assert (tmp_path / "p.jsonl").read_text().count("pred_stance") > 0
    assert (tmp_path / "rep" / "report.md").exists()
    assert json.loads(capsys.readouterr().out)["n_spans"] > 0


def test_evaluate_lenient_reports_bad_spans_and_exits_1(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "g.jsonl"
    gold.write_text(
        json.dumps(
            {
                "id": "a",
                "text": "Baku said no.",
                "spans": [
                    {"start": 0, "end": 13, "holder": None, "target": "CSTO", "stance": "none"},
                    {"start": 0, "end": 99, "holder": None, "target": "CSTO", "stance": "none"},
                ],
            }
        )
        + "\n"
    )
    assert main(["evaluate", str(gold), "--model", str(tiny_model_dir), "--quiet"]) == 2
    assert "line 1, span 1" in capsys.readouterr().err
    with pytest.warns(UserWarning, match=r"skipped 1 span\(s\)"):
        code = main(
            [
                "evaluate",
                str(gold),
                "--model",
                str(tiny_model_dir),
                "--lenient",
                "--quiet",
                "--bootstrap",
                "100",
            ]
        )
    captured = capsys.readouterr()
    assert code == 1 and "skipped" in captured.err
    assert json.loads(captured.out)["n_spans"] == 1


def test_compare_needs_two_models_and_reports_the_difference(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = Path(__file__).resolve().parent.parent / "seeds" / "csto-armenia-2022-11-28.gold.jsonl"
    assert main(["compare", str(gold), "--model", str(tiny_model_dir)]) == 2
    assert "exactly two --model" in capsys.readouterr().err
    out = tmp_path / "cmp.json"
    code = main(
        [
            "compare",
            str(gold),
            "--model",
            str(tiny_model_dir),
            "--model",
            str(tiny_model_dir),
            "--bootstrap",
            "100",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["stance"]["macro_f1"]["difference"] == 0.0
    capsys.readouterr()


def test_finetune_writes_a_model_folder_and_prints_the_comparison(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_finetuning import make_docs

    from stancekit.spans import write_spans

    train = tmp_path / "train.jsonl"
    write_spans(train, make_docs(24))
    config = tmp_path / "ft.json"
    config.write_text(json.dumps({"batch_size": 8, "n_bootstrap": 20}))
    out = tmp_path / "tuned"
    argv = ["finetune", str(train), "--base", str(tiny_model_dir), "--out", str(out)]
    code = main(
        [*argv, "--epochs", "1", "--min-per-class", "2", "--config", str(config), "--quiet"]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert (out / "stancekit.json").is_file()
    assert "macro_f1" in printed and printed.strip().endswith(str(out))
    assert json.loads((out / "finetune_args.json").read_text())["batch_size"] == 8


def test_finetune_with_a_bad_setting_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text("")
    code = main(["finetune", str(train), "--lr", "-1", "--out", str(tmp_path / "m")])
    assert code == 2
    assert "learning_rate=-1.0 must be a positive number" in capsys.readouterr().err


def test_report_writes_an_offline_html_report_from_analyze_output(
    tmp_path: Path, tiny_model_dir: Path, seed_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "seed.txt"
    article.write_text(seed_text, encoding="utf-8")
    code = main(
        ["analyze", str(article), "--model", str(tiny_model_dir), "--format", "jsonl", "--quiet"]
    )
    results = tmp_path / "results.jsonl"
    results.write_text(capsys.readouterr().out, encoding="utf-8")
    assert code == 0
    out = tmp_path / "report"
    assert main(["report", str(results), "--out", str(out)]) == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Khachatrian" in html and "https://" not in html and "http://" not in html


# -- output files, --resume, --timeout-s, JSONL articles ----------------------------------------


def _articles(folder: Path, seed_text: str, n: int) -> Path:
    folder.mkdir(exist_ok=True)
    paragraphs = [p for p in seed_text.split("\n") if p.strip()]
    for k in range(n):
        text = paragraphs[k % len(paragraphs)] + f"\nBaku blamed the CSTO ({k})."
        (folder / f"doc{k:03d}.txt").write_text(text, encoding="utf-8")
    return folder


def test_output_file_follows_the_suffix_and_a_failure_mid_write_leaves_the_old_file(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    folder = _articles(tmp_path / "in", "The CSTO met in Yerevan.", 3)
    out = tmp_path / "out.csv"
    argv = ["analyze", str(folder), "--model", str(tiny_model_dir), "--quiet"]
    assert main([*argv, "--output", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("document_id,") and len(lines) > 3
    old = out.read_bytes()

    def dump_then_fail(obj: Any, f: Any, **kw: Any) -> None:
        f.write('[{"document": "half a record')
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr("stancekit.cli.output.json.dump", dump_then_fail)
    assert main([*argv, "--output", str(tmp_path / "out.json")]) == 2
    assert not (tmp_path / "out.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.csv"]
    assert out.read_bytes() == old
    assert main([*argv, "--output", str(tmp_path / "out.xyz")]) == 2  # unknown suffix


def test_jsonl_output_file_has_a_document_line_after_each_documents_rows(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.corpus import Corpus
    from stancekit.engine.checkpoint import text_sha256

    folder = _articles(tmp_path / "in", "The CSTO met in Yerevan.", 2)
    (folder / "none.txt").write_text("Nothing about the targets here.")
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(folder), "--model", str(tiny_model_dir), "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    docs = [r for r in lines if "text_sha256" in r]
    assert [d["document_id"] for d in docs] == [str(folder / f) for f in sorted(os.listdir(folder))]
    assert docs[0]["text_sha256"] == text_sha256((folder / "doc000.txt").read_text())
    assert docs[-1]["n_rows"] == 0 and sum(d["n_rows"] for d in docs) == len(lines) - len(docs)
    assert len(Corpus.read_jsonl(out).to_dataframe()) == len(lines) - len(docs)
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_resume_skips_complete_documents_and_reanalyses_changed_and_unfinished_ones(
    tmp_path: Path,
    tiny_model_dir: Path,
    seed_text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stancekit.analyzer import StanceAnalyzer

    folder = _articles(tmp_path / "in", seed_text, 6)
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(folder), "--model", str(tiny_model_dir), "--output", str(out)]
    assert main(argv) == 0
    full = out.read_bytes()
    # an interrupted run: doc000-doc002 complete, doc003's rows torn mid-line
    cut = full.index(b"text_sha256", full.index(str(folder / "doc002.txt").encode() + b'", "text'))
    cut = full.index(b"\n", cut) + 1
    (tmp_path / "out.jsonl.partial").write_bytes(full[:cut] + full[cut : cut + 150])
    out.unlink()
    (folder / "doc001.txt").write_text("Changed: Baku praised the CSTO.", encoding="utf-8")
    analysed: list[str] = []
    real = StanceAnalyzer.analyze_many

    def spy(self: Any, items: Any, **kw: Any) -> Any:
        for res in real(self, items, **kw):
            analysed.append(Path(res.document.id).name)
            yield res

    monkeypatch.setattr(StanceAnalyzer, "analyze_many", spy)
    capsys.readouterr()
    assert main([*argv, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "3 documents complete; dropped 150 bytes" in err
    assert analysed == ["doc001.txt", "doc003.txt", "doc004.txt", "doc005.txt"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    docs = [r["document_id"] for r in lines if "text_sha256" in r]
    assert docs == [str(folder / f"doc{k:03d}.txt") for k in range(6)]  # one set each
    doc1 = [r for r in lines if r["document_id"].endswith("doc001.txt") and "sentence" in r]
    assert doc1 and all(r["sentence"].startswith("Changed") for r in doc1)  # no stale rows
    assert not (tmp_path / "out.jsonl.partial").exists()
    analysed.clear()
    assert main([*argv, "--resume"]) == 0  # from the finished file: nothing to do
    assert analysed == []


def test_resume_needs_an_output_jsonl_file(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["analyze", str(tmp_path), "--model", str(tiny_model_dir), "--resume"]
    assert main(argv) == 2
    assert main([*argv, "--output", str(tmp_path / "o.csv")]) == 2
    assert "--resume needs --output FILE.jsonl" in capsys.readouterr().err


def test_resume_after_sigkill_gives_the_same_output_as_an_uninterrupted_run(
    tmp_path: Path, tiny_model_dir: Path, seed_text: str
) -> None:
    import signal
    import subprocess
    import sys
    import time

    folder = _articles(tmp_path / "in", seed_text, 80)
    killed, out = tmp_path / "killed.jsonl", tmp_path / "out.jsonl"
    argv = ["analyze", str(folder), "--model", str(tiny_model_dir), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stancekit", *argv, "--output", str(killed)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    partial = tmp_path / "killed.jsonl.partial"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and b"text_sha256" in partial.read_bytes():
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not killed.exists()
    n_done = partial.read_bytes().count(b"text_sha256")
    assert 0 < n_done < 80
    assert main([*argv, "--output", str(killed), "--resume"]) == 0
    assert main([*argv, "--output", str(out)]) == 0
    # byte-equal: same documents in the same (input) order, one group each; the model is
    # deterministic for the same inputs, and probabilities are rounded (results.PROB_DECIMALS)
    assert killed.read_bytes() == out.read_bytes()
    assert out.read_bytes().count(b"text_sha256") == 80


def test_a_jsonl_file_of_articles_is_read_line_by_line_and_bad_lines_are_reported(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "articles.jsonl"
    src.write_text(
        '{"id": "a1", "text": "Baku blamed the CSTO.", "outlet": "X"}\n'
        "\n"
        "{not json\n"
        '{"id": 7, "text": "The CSTO met."}\n'
        '{"text": 42}\n' + "[" * 100_000 + "\n",
        encoding="utf-8",
    )
    code = main(["analyze", str(src), "--model", str(tiny_model_dir), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1
    payload = json.loads(out)
    assert [d["document"]["id"] for d in payload] == ["a1", "7"]
    assert payload[0]["document"]["meta"] == {"outlet": "X"}
    assert f"{src}:3: not a JSON object" in err and f"{src}:5: expected an object" in err
    assert f"{src}:6: not a JSON object (RecursionError)" in err
    assert "3 of 5 inputs skipped" in err


def test_timeout_s_reports_a_slow_document_and_analyses_the_rest(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    import stancekit.analyzer as module
    from stancekit.actors import find_actors

    real = find_actors

    def slow_on_marker(parsed: Any) -> Any:
        if "SLOWDOWN" in parsed.document.text:
            time.sleep(30)
        return real(parsed)

    monkeypatch.setattr(module, "find_actors", slow_on_marker)
    folder = _articles(tmp_path / "in", "The CSTO met in Yerevan.", 2)
    (folder / "doc001.txt").write_text("SLOWDOWN. Baku blamed the CSTO.")
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(folder), "--model", str(tiny_model_dir), "--output", str(out)]
    assert main([*argv, "--timeout-s", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "doc001.txt: DocumentTimeoutError: document" in err and "timeout_s=0.5" in err
    docs = [json.loads(x)["document_id"] for x in out.read_text().splitlines() if "sha256" in x]
    assert docs == [str(folder / "doc000.txt")]
    with pytest.raises(SystemExit):  # argparse: "expected a positive number of seconds"
        main([*argv, "--timeout-s", "-1"])


def test_calibrate_command_prints_the_temperatures_and_writes_the_copy(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.spans import GoldDocument, GoldSpan, write_spans

    docs = []
    for i in range(60):
        lab = ("favor", "against", "none")[i % 3]
        text = f"Alice {('praised', 'condemned', 'met')[i % 3]} Boris on day {i}."
        docs.append(
            GoldDocument(f"d{i}", text, (GoldSpan(0, len(text), "Alice", "Boris", stance=lab),))
        )
    gold = tmp_path / "gold.jsonl"
    write_spans(gold, docs)
    out = tmp_path / "recal"
    code = main(["calibrate", str(gold), "--model", str(tiny_model_dir), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "temperature_after" in printed and "ece_after_cv" in printed
    assert (out / "recalibration.json").is_file()


def test_resume_with_summary_rows_after_judgement_rows_exits_2_naming_the_setting(
    tmp_path: Path, tiny_model_dir: Path, seed_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _articles(tmp_path / "in", seed_text, 2)
    out = tmp_path / "out.jsonl"
    argv = ["analyze", str(folder), "--model", str(tiny_model_dir), "--output", str(out)]
    assert main(argv) == 0
    before = out.read_bytes()
    capsys.readouterr()
    assert main([*argv, "--resume", "--summary"]) == 2
    err = capsys.readouterr().err
    assert "rows: the file has 'judgements', this run 'summary'" in err
    assert out.read_bytes() == before
