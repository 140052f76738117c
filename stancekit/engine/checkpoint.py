"""Resumable JSON Lines output for ``stancekit analyze --output FILE.jsonl [--resume]``.

The output holds, for each analysed document, its records (judgement rows, or summary rows
with ``--summary``) followed by one **document line**::

    {"document_id": "articles/a.txt", "text_sha256": "9f2c...", "n_rows": 29}

A document is complete only when its document line is there. While the run goes on, the
lines are appended to ``FILE.partial`` (each document in one write, flushed and fsync'ed);
when it ends, ``FILE`` is written atomically from it, one group per input document in input
order, and the partial file is removed. A killed run leaves ``FILE`` as it was and
``FILE.partial`` with every document finished so far, plus perhaps a torn last line or the
rows of a document without its document line.

``--resume`` reads ``FILE.partial`` (or, when there is none, a finished ``FILE``), drops
the incomplete tail, and skips every input whose id *and* SHA-256 of its text match a
complete document; the others (new, changed, or failed last time) are analysed and
appended. Groups of documents whose text changed, or that are no longer among the inputs,
are not copied into ``FILE``.

Each document line also records the run's ``settings`` (what its rows are: judgements or
summary rows and their level, the model, the targets). ``--resume`` with other settings
than the file's is refused with :class:`ResumeSettingsError`, which names both: the file
would otherwise hold rows of two kinds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from stancekit.atomic import atomic_open
from stancekit.results.judgements import json_line

__all__ = ["Journal", "ResumeSettingsError", "is_document_line", "read_output", "text_sha256"]

Key = tuple[str, str]  # (document id, SHA-256 of its text)


def text_sha256(text: str) -> str:
    """Hex SHA-256 of ``text`` as UTF-8 (surrogate code points kept as they are)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def is_document_line(record: Mapping[str, Any]) -> bool:
    """Whether ``record`` is a document line (it has ``text_sha256``), not a row."""
    return "text_sha256" in record


class ResumeSettingsError(ValueError):
    """``--resume`` of an output written with other settings (rows, level, model, targets)."""


def _scan(
    f: IO[bytes], settings: Mapping[str, Any] | None = None
) -> tuple[dict[Key, tuple[int, int]], int]:
    """The complete groups of a journal, ``(id, sha) -> (start, end)`` byte offsets, and the
    offset where its complete part ends. A line that is torn (no newline), not JSON, or a
    row of another document spoils its group, which is then not indexed. A document line
    whose recorded settings differ from ``settings`` raises :class:`ResumeSettingsError`."""
    groups: dict[Key, tuple[int, int]] = {}
    start = end = offset = 0
    spoiled = False
    ids: set[str] = set()
    for raw in f:
        offset += len(raw)
        if not raw.endswith(b"\n"):
            break  # torn last line of a killed run
        try:
            rec = json.loads(raw)
        except (ValueError, RecursionError):
            spoiled = True
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("document_id"), str):
            spoiled = True
        elif not is_document_line(rec):
            ids.add(rec["document_id"])
        else:
            had = rec.get("settings")
            if settings is not None and had is not None and had != dict(settings):
                raise ResumeSettingsError(_settings_message(had, settings))
            key = (rec["document_id"], str(rec["text_sha256"]))
            if not spoiled and ids <= {key[0]}:
                groups[key] = (start, offset)
            start = end = offset
            spoiled, ids = False, set()
    return groups, end


def _settings_message(had: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    diff = sorted(k for k in {*had, *now} if had.get(k) != now.get(k))
    parts = "; ".join(f"{k}: the file has {had.get(k)!r}, this run {now.get(k)!r}" for k in diff)
    return (
        f"--resume: the output was written with other settings ({parts}); resuming would "
        "mix two kinds of rows in one file. Run with the file's settings, or write to "
        "another --output"
    )


class Journal:
    """The output of one ``analyze --output FILE.jsonl`` run (see the module docstring).

    Use as a context manager; call :meth:`finish` when every input has been handled. On
    an exception the partial file is kept for ``--resume``.
    """

    def __init__(
        self,
        output: str | os.PathLike[str],
        *,
        resume: bool = False,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        self.output = Path(output)
        self.settings = dict(settings) if settings is not None else None
        self.partial = self.output.with_name(self.output.name + ".partial")
        self.resumed_from: Path | None = None
        self.dropped_bytes = 0
        self._groups: dict[Key, tuple[int, int]] = {}
        self._order: list[Key] = []
        self.output.parent.mkdir(parents=True, exist_ok=True)
        if resume and not self.partial.exists() and self.output.is_file():
            shutil.copyfile(self.output, self.partial)
            self.resumed_from = self.output
        elif resume and self.partial.exists():
            self.resumed_from = self.partial
        if self.resumed_from is not None:
            try:
                with self.partial.open("rb") as f:
                    self._groups, end = _scan(f, self.settings)
            except ResumeSettingsError:
                if self.resumed_from == self.output:  # the copy made above; FILE stays
                    self.partial.unlink()
                raise
            self.dropped_bytes = self.partial.stat().st_size - end
            os.truncate(self.partial, end)
        self._file: IO[bytes] = self.partial.open("ab" if self.resumed_from else "wb")

    @property
    def n_complete(self) -> int:
        """Complete documents found when resuming."""
        return len(self._groups)

    def visit(self, doc_id: str, sha: str) -> bool:
        """Note an input document (in input order: the order of ``FILE``); returns whether
        it is already complete (same id, same text), so it need not be analysed."""
        self._order.append((doc_id, sha))
        return (doc_id, sha) in self._groups

    def add(self, doc_id: str, sha: str, records: Iterable[Mapping[str, Any]]) -> None:
        """Append a document's records and its document line, in one write, to disk."""
        lines = [json_line(r) for r in records]
        line: dict[str, Any] = {"document_id": doc_id, "text_sha256": sha, "n_rows": len(lines)}
        if self.settings is not None:
            line["settings"] = self.settings
        lines.append(json_line(line))
        data = ("\n".join(lines) + "\n").encode("utf-8")
        start = self._file.seek(0, os.SEEK_END)
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._groups[(doc_id, sha)] = (start, start + len(data))

    def finish(self) -> int:
        """Write ``FILE`` atomically: the group of each complete input, in input order
        (stale groups and failed documents are left out); remove the partial file.
        Returns the number of documents written."""
        self._file.close()
        done = [key for key in self._order if key in self._groups]
        with atomic_open(self.output, "wb") as out, self.partial.open("rb") as src:
            for key in done:
                start, end = self._groups[key]
                src.seek(start)
                out.write(src.read(end - start))
        self.partial.unlink()
        return len(done)

    def close(self) -> None:
        """Close the partial file (kept on disk for ``--resume``)."""
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.close()


def read_output(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The records of an ``analyze --output`` JSONL file, without its document lines."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                if not is_document_line(rec):
                    yield rec
