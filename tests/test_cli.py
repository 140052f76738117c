from __future__ import annotations

import json
from pathlib import Path

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
    assert lines[0].startswith("document_id,holder,target,n_sentences,stance")
    assert sum(line.startswith("document_id,") for line in lines) == 1


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
