from __future__ import annotations

import json
from pathlib import Path

from stancekit.engine.checkpoint import Journal, is_document_line, read_output, text_sha256


def _rows(doc_id: str, n: int) -> list[dict[str, object]]:
    return [{"document_id": doc_id, "sentence_index": k, "stance": "none"} for k in range(n)]


def _write(out: Path, docs: list[tuple[str, str, int]]) -> None:
    with Journal(out) as journal:
        for doc_id, text, n in docs:
            journal.visit(doc_id, text_sha256(text))
            journal.add(doc_id, text_sha256(text), _rows(doc_id, n))
        journal.finish()


def test_each_document_is_its_rows_then_one_document_line_with_id_and_text_hash(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    _write(out, [("a", "Text A.", 2), ("b", "Text B.", 0)])
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [is_document_line(r) for r in lines] == [False, False, True, True]
    assert lines[2] == {"document_id": "a", "text_sha256": text_sha256("Text A."), "n_rows": 2}
    assert lines[3]["n_rows"] == 0
    assert [r["sentence_index"] for r in read_output(out)] == [0, 1]
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_resume_drops_a_torn_last_line_and_the_rows_of_an_unfinished_document(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    _write(out, [("a", "A", 2), ("b", "B", 3)])
    complete = out.read_bytes()
    a_end = complete.index(b"\n", complete.index(b"text_sha256")) + 1
    # killed while writing b: two of its rows and half of the third are on disk
    partial = tmp_path / "out.jsonl.partial"
    partial.write_bytes(complete[:a_end] + complete[a_end:].split(b"\n", 2)[0] + b'\n{"docu')
    out.unlink()
    journal = Journal(out, resume=True)
    assert journal.resumed_from == partial and journal.n_complete == 1
    assert journal.dropped_bytes > 0 and partial.read_bytes() == complete[:a_end]
    assert journal.visit("a", text_sha256("A")) and not journal.visit("b", text_sha256("B"))
    journal.add("b", text_sha256("B"), _rows("b", 3))
    journal.finish()
    assert out.read_bytes() == complete


def test_resume_reanalyses_a_changed_text_and_does_not_keep_its_stale_rows(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.jsonl"
    _write(out, [("a", "A", 1), ("b", "B old", 4), ("gone", "G", 1)])
    journal = Journal(out, resume=True)  # from the finished file
    assert journal.resumed_from == out and journal.n_complete == 3
    assert journal.visit("a", text_sha256("A"))
    assert not journal.visit("b", text_sha256("B new"))  # same id, new text
    journal.add("b", text_sha256("B new"), _rows("b", 1))
    journal.finish()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["document_id"] for r in lines] == ["a", "a", "b", "b"]  # one set per input
    assert lines[-1]["text_sha256"] == text_sha256("B new")


def test_a_group_with_a_corrupt_or_foreign_row_is_not_complete(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    sha = text_sha256("A")
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text(
        '{"document_id": "a", "x": 1}\nnot json\n'
        f'{{"document_id": "a", "text_sha256": "{sha}", "n_rows": 1}}\n'
        '{"document_id": "z"}\n'
        f'{{"document_id": "b", "text_sha256": "{sha}", "n_rows": 1}}\n'
    )
    journal = Journal(out, resume=True)
    assert journal.n_complete == 0
    journal.close()


def test_a_new_run_without_resume_starts_the_partial_file_afresh(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text('{"document_id": "old", "text_sha256": "0"}\n')
    journal = Journal(out)
    assert journal.resumed_from is None and not journal.visit("old", "0")
    journal.finish()
    assert out.read_text() == ""


def test_text_hash_accepts_lone_surrogates() -> None:
    assert text_sha256("a\ud800b") != text_sha256("a\ufffdb")


def test_resume_with_other_settings_is_refused_naming_both_and_keeps_the_file(
    tmp_path: Path,
) -> None:
    import pytest

    from stancekit.engine.checkpoint import ResumeSettingsError

    out = tmp_path / "out.jsonl"
    first = {"rows": "summary", "level": "holder", "model": "m 1", "targets": ["CSTO"]}
    with Journal(out, settings=first) as journal:
        journal.visit("a", text_sha256("A"))
        journal.add("a", text_sha256("A"), _rows("a", 1))
        journal.finish()
    before = out.read_bytes()
    assert json.loads(before.splitlines()[-1])["settings"] == first
    with pytest.raises(
        ResumeSettingsError, match=r"level: the file has 'holder', this run 'state'.*--output"
    ):
        Journal(out, resume=True, settings={**first, "level": "state"})
    assert out.read_bytes() == before and not (tmp_path / "out.jsonl.partial").exists()
    same = Journal(out, resume=True, settings=first)  # the same settings resume
    assert same.n_complete == 1
    same.close()
