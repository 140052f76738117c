from __future__ import annotations

import os
from pathlib import Path

import pytest

from stancekit.atomic import atomic_open, atomic_write, atomic_write_bytes


def _rows_then_failure(path: Path) -> None:
    with atomic_open(path) as f:
        for k in range(100):
            f.write(f'{{"row": {k}}}\n')
            if k == 50:
                f.flush()
                raise OSError("disk full (simulated)")


def test_a_failure_mid_write_leaves_the_old_file_unchanged_and_no_temp_file(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results.jsonl"
    out.write_text("old\n")
    with pytest.raises(OSError, match="disk full"):
        _rows_then_failure(out)
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]


def test_a_failure_mid_write_of_a_new_file_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "results.jsonl"
    with pytest.raises(OSError):
        _rows_then_failure(out)
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_a_complete_write_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    out.write_text("old")
    os.chmod(out, 0o640)
    assert atomic_write(out, "new ✓") == out
    assert out.read_text(encoding="utf-8") == "new ✓"
    assert out.stat().st_mode & 0o777 == 0o640
    atomic_write_bytes(tmp_path / "fig.png", b"\x89PNG")
    assert (tmp_path / "fig.png").read_bytes() == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "report.md"]


def test_a_new_file_gets_the_umask_permissions_not_the_temp_files_0600(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "x.txt", "x")
    finally:
        os.umask(mask)
    assert (tmp_path / "x.txt").stat().st_mode & 0o777 == 0o644


def test_atomic_open_rejects_modes_other_than_w_and_wb(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'w' or 'wb'"):
        atomic_open(tmp_path / "x", "a")  # type: ignore[call-overload]
