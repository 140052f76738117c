"""The Ray Data engine: same rows as one process, the CLI's Parquet output, and a clear
error where Ray is not installed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from stancekit.actors.targets import Target
from stancekit.cli import main

ROOT = Path(__file__).resolve().parent.parent
TARGETS = [Target("CSTO"), Target("Azerbaijan", aliases=("Baku",)), Target("Armenia")]


@pytest.fixture()
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import ray`` fail, as in an install without the extra."""
    for name in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "ray", None)


# ------------------------------------------------------------------ without Ray


def test_stancekit_and_its_cli_import_without_ray() -> None:
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "import stancekit, stancekit.cli, stancekit.engine.distributed\n"
        "assert stancekit.cli.build_parser().parse_args(['analyze', 'x']).engine == 'local'\n"
        "print('ok')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_analyze_dataset_without_ray_names_the_extra_to_install(no_ray: None) -> None:
    from stancekit.engine.distributed import RayNotInstalledError, analyze_dataset

    with pytest.raises(RayNotInstalledError, match=r"pip install 'stancekit\[ray\]'"):
        analyze_dataset(None)  # type: ignore[arg-type]


def test_cli_ray_engine_without_ray_exits_2_naming_the_extra(
    no_ray: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("Baku blamed the CSTO.", encoding="utf-8")
    code = main(["analyze", str(tmp_path), "--engine", "ray", "--output", str(tmp_path / "out")])
    assert code == 2
    assert "pip install 'stancekit[ray]'" in capsys.readouterr().err


def test_ray_is_an_optional_extra_not_a_core_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(d.lower().startswith("ray") for d in project["dependencies"])
    assert any(d.startswith("ray[data]") for d in project["optional-dependencies"]["ray"])
    core_lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "\nray==" not in core_lock
    assert "\nray==" in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")


def test_cli_output_folder_without_ray_engine_needs_a_file_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["analyze", "x.txt", "--output", str(tmp_path / "out")])
    assert code == 2
    assert "give --format, or a file ending in .jsonl" in capsys.readouterr().err


def test_cli_address_without_ray_engine_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "x.txt", "--address", "auto"])
    assert code == 2
    assert "--engine ray" in capsys.readouterr().err


def test_cli_ray_engine_needs_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "x.txt", "--engine", "ray"]) == 2
    assert "--output DIR" in capsys.readouterr().err


def test_judgement_schema_has_the_single_process_columns_then_error() -> None:
    pytest.importorskip("pyarrow")
    from stancekit.engine.distributed import judgement_schema
    from stancekit.results.judgements import _JUDGEMENT_COLUMNS

    assert judgement_schema().names == [*_JUDGEMENT_COLUMNS, "error"]
    assert judgement_schema(error_column=False).names == _JUDGEMENT_COLUMNS


# ------------------------------------------------------------------ argument checks (Ray
# imported, not started)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"concurrency": 0}, "'concurrency' must be"),
        ({"concurrency": (3, 2)}, "'concurrency' must be"),
        ({"batch_size": 0}, "'batch_size' must be a positive int, got 0"),
        ({"num_gpus_per_actor": -1}, "'num_gpus_per_actor' must be a number >= 0, got -1"),
        ({"errors": "ignore"}, "'errors' must be one of"),
        ({"text_column": ""}, "'text_column' must be a non-empty column name"),
        ({"analyzer_options": {"device": "cpu"}}, "'analyzer_options' sets ['device']"),
    ],
)
def test_analyze_dataset_bad_argument_names_it_and_the_value(
    kwargs: dict[str, Any], message: str
) -> None:
    pytest.importorskip("ray.data")
    from stancekit.engine.distributed import analyze_dataset

    with pytest.raises(ValueError, match=re.escape(message)):
        analyze_dataset(None, **kwargs)  # type: ignore[arg-type]


def test_analyze_dataset_refuses_a_loaded_model_and_says_pass_the_folder(
    tiny_model: Any,
) -> None:
    pytest.importorskip("ray.data")
    from stancekit.engine.distributed import analyze_dataset

    with pytest.raises(TypeError, match="pass the folder"):
        analyze_dataset(None, model=tiny_model)  # type: ignore[arg-type]


# ------------------------------------------------------------------ with a local Ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():  # pragma: no cover - another module left it running
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def _corpus(seed_text: str) -> list[dict[str, Any]]:
    paragraphs = [p for p in seed_text.split("\n\n") if p.strip()]
    docs: list[dict[str, Any]] = [
        {"id": f"seed-{i}", "text": "\n\n".join(paragraphs[i : i + 3])}
        for i in range(0, len(paragraphs), 3)
    ]
    docs += [
        {"id": "baku", "text": "Baku blamed the CSTO for the crisis, Aliyev said."},
        {"id": None, "text": "Pashinyan said Armenia would leave the CSTO."},  # hashed id
        {"id": "empty", "text": ""},
        {"id": "bad", "text": None},  # not a text: an error row
    ]
    return docs


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        "" if row[c] is None else row[c]
        for c in ("document_id", "sentence_index", "holder", "target", "holder_start")
    )


def _assert_same_rows(ray_rows: list[dict[str, Any]], local_rows: list[dict[str, Any]]) -> None:
    assert len(ray_rows) == len(local_rows) > 0
    for got, want in zip(sorted(ray_rows, key=_key), sorted(local_rows, key=_key), strict=True):
        assert list(got) == list(want)
        for col, value in want.items():
            if col.startswith("p_"):
                assert got[col] == pytest.approx(value, abs=1e-5), col
            else:
                assert got[col] == value, col


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_model_dir", "tiny_packed_dir"])
def test_ray_rows_equal_single_process_rows_with_two_workers(
    local_ray: Any, model_fixture: str, seed_text: str, request: pytest.FixtureRequest
) -> None:
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.engine.distributed import analyze_dataset

    tiny_model_dir = request.getfixturevalue(model_fixture)  # per-pair, then packed
    docs = _corpus(seed_text)
    analyzer = StanceAnalyzer(model=tiny_model_dir, targets=TARGETS)
    local = [
        rec
        for res in analyzer.analyze_many([d for d in docs if d["text"] is not None], progress=False)
        for rec in res.to_records()
    ]
    rows = analyze_dataset(
        local_ray.data.from_items(docs),
        targets=TARGETS,
        model=tiny_model_dir,
        concurrency=2,
        batch_size=2,
    ).take_all()
    errors = [r for r in rows if r["error"] is not None]
    assert [(r["document_id"], r["sentence"]) for r in errors] == [("bad", None)]
    assert "'text' must hold str" in errors[0]["error"]
    judged = [{k: v for k, v in r.items() if k != "error"} for r in rows if r["error"] is None]
    _assert_same_rows(judged, local)


@pytest.mark.slow
def test_cli_ray_engine_writes_parquet_and_reports_the_file_that_is_not_utf8(
    local_ray: Any,
    tiny_model_dir: Path,
    seed_text: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import pandas as pd

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text(seed_text[:1500], encoding="utf-8")
    (folder / "b.txt").write_text("Baku blamed the CSTO for the crisis.", encoding="utf-8")
    (folder / "c.txt").write_bytes("Caf\xe9 owners in Baku".encode("latin-1"))
    out = tmp_path / "out"
    args = ["analyze", str(folder), "--model", str(tiny_model_dir), "--quiet"]
    code = main([*args, "--engine", "ray", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "c.txt: ValueError: not UTF-8 text" in err and "1 inputs skipped" in err
    frame = pd.read_parquet(out)
    assert sorted(frame["error"].notna()) == [False] * (len(frame) - 1) + [True]

    assert main([*args, "--format", "jsonl"]) == 1  # the local engine skips c.txt too
    local = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    judged = frame[frame["error"].isna()].drop(columns="error").astype(object)
    ray_rows = [
        {str(k): v for k, v in row.items()}
        for row in judged.where(judged.notna(), None).to_dict("records")
    ]
    for row in ray_rows:  # Parquet ints come back as floats where a column has nulls
        for col in ("holder_start", "holder_end", "target_start", "target_end"):
            row[col] = None if row[col] is None else int(row[col])
    _assert_same_rows(ray_rows, local)


@pytest.mark.slow
def test_read_documents_reads_jsonl_and_parquet_rows_with_their_ids(
    local_ray: Any, tmp_path: Path
) -> None:
    import pandas as pd

    from stancekit.engine.ray_files import read_documents

    rows = [{"id": "a", "text": "Baku blamed the CSTO."}, {"id": "b", "text": "Hi."}]
    (tmp_path / "docs.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    pd.DataFrame(rows).to_parquet(tmp_path / "docs.parquet")
    for name in ("docs.jsonl", "docs.parquet"):
        got = read_documents(str(tmp_path / name)).take_all()
        assert sorted((r["id"], r["text"]) for r in got) == [(r["id"], r["text"]) for r in rows]
