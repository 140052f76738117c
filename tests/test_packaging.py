"""The built wheel carries the default model: installed into a fresh virtual environment
from the lock, `stancekit analyze` works from a folder outside the repository."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_analyzes_without_the_repository(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(ROOT), "-w", str(dist)],
        check=True,
    )
    wheel = next(dist.glob("stancekit-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # no PYTHONPATH: a checkout on it would make pip think stancekit is installed already
    env = {k: v for k, v in os.environ.items() if k not in ("STANCEKIT_MODEL", "PYTHONPATH")}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    lock = str(ROOT / "requirements.lock")
    subprocess.run([*pip, "--require-hashes", "-r", lock], check=True, env=env)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, env=env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    article = work / "article.txt"
    article.write_text((ROOT / "seeds" / "csto-armenia-2022-11-28.txt").read_text())
    run = subprocess.run(
        [str(venv / "bin" / "stancekit"), "analyze", str(article), "--format", "jsonl", "--quiet"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert rows and {"Armen Khachatrian", "Nikol Pashinian"} <= {r["holder"] for r in rows}
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from stancekit.scoring.model import default_model_path; print(default_model_path())",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "site-packages" in where and str(ROOT) not in where
    # fine-tuning works after the same install (transformers' Trainer needs accelerate)
    from test_finetuning import make_docs

    from stancekit.spans import write_spans

    train = work / "train.jsonl"
    write_spans(train, make_docs(30))
    cmd = [str(venv / "bin" / "stancekit"), "finetune", str(train), "--out", str(work / "ft")]
    ft = subprocess.run(
        [*cmd, "--epochs", "1", "--min-per-class", "2", "--quiet"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ft.returncode == 0, ft.stderr[-3000:]
    assert (work / "ft" / "stancekit.json").is_file()


def test_onnx_runtime_is_an_extra_locked_for_dev_only_with_torch_still_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith(("onnx", "onnxruntime")) for d in project["dependencies"])
    assert {d.split(">")[0] for d in project["optional-dependencies"]["onnx"]} == {
        "onnxruntime",
        "onnx",
    }
    core = (ROOT / "requirements.lock").read_text()
    dev = (ROOT / "requirements-dev.lock").read_text()
    assert not re.search(r"^onnx", core, re.M)
    assert re.search(r"^onnxruntime==\S+ \\\n\s+--hash=sha256:", dev, re.M)
    assert re.search(r"^onnx==\S+ \\\n\s+--hash=sha256:", dev, re.M)
    for lock in (core, dev):
        assert re.findall(r"^torch==(\S+)", lock, re.M) == ["2.13.0+cpu"]


def test_tracked_files_name_no_folder_of_the_machine_they_were_written_on() -> None:
    """No absolute path of the folder above the checkout (or of the machine the project was
    first written on, ``/work/``, or its local package folders, ``/opt/``) in tracked
    files, tests aside: a user's clone has none of those folders."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    forbidden = {str(ROOT.parent).rstrip("/") + "/", "/work/", "file:///opt/"} - {"/", "/tmp/"}
    found = []
    for name in listed.stdout.decode().split("\0"):
        if not name or name.startswith("tests/"):
            continue
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (weights, images)
        found += [f"{name}: {bad}" for bad in forbidden if bad in text]
    assert not found, found
