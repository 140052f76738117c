"""Files in, Parquet out on Ray (:mod:`stancekit.engine.ray_files`): the checks made before
Ray starts, and the atomic output folder. The runs on a local Ray are in
``tests/test_distributed.py``, which starts Ray once."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_read_documents_refuses_a_folder_of_mixed_formats(tmp_path: Path) -> None:
    pytest.importorskip("ray.data")
    from stancekit.engine.ray_files import read_documents

    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="mixes"):
        read_documents(str(tmp_path))


def test_analyze_files_refuses_a_used_output_folder_before_starting_ray(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from stancekit.engine.ray_files import analyze_files

    (tmp_path / "a.txt").write_text("Baku blamed the CSTO.", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.parquet").write_bytes(b"")
    with pytest.raises(ValueError, match="not an empty folder"):
        analyze_files(str(tmp_path / "a.txt"), out)
    with pytest.raises(ValueError, match="no such file or folder"):
        analyze_files(str(tmp_path / "missing.txt"), tmp_path / "new")
    assert not ray.is_initialized()


class _Rows:
    """Stands in for a Ray Dataset: writes one shard, then fails if told to."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def write_parquet(self, path: str) -> None:
        (Path(path) / "shard-0.parquet").write_bytes(b"PAR1 partial")
        if self.fail:
            raise KeyboardInterrupt("killed mid-write")


def test_parquet_output_appears_only_when_complete(tmp_path: Path) -> None:
    from stancekit.engine.ray_files import _write_atomically

    out = tmp_path / "judgements"
    with pytest.raises(KeyboardInterrupt):
        _write_atomically(_Rows(fail=True), str(out))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary folder is removed too
    out.mkdir()  # an empty folder given as output is replaced
    _write_atomically(_Rows(fail=False), str(out))
    assert [p.name for p in out.iterdir()] == ["shard-0.parquet"]
    assert [p.name for p in tmp_path.iterdir()] == ["judgements"]
