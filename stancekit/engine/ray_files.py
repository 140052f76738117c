"""Files in, Parquet out, on Ray (``stancekit analyze --engine ray``): documents read from
JSONL, Parquet or text files (:func:`read_documents`), judged by
:func:`stancekit.engine.distributed.analyze_dataset`, and written as Parquet shards to a
folder that appears only when complete (:func:`analyze_files`).

Example:
    >>> from stancekit.engine.ray_files import analyze_files               # doctest: +SKIP
    >>> run = analyze_files("articles/", "judgements/", targets=["CSTO"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stancekit.engine.distributed import analyze_dataset, import_ray
from stancekit.text.inputs import TEXT_SUFFIXES

if TYPE_CHECKING:
    import ray.data

__all__ = ["RayRun", "analyze_files", "read_documents"]

_JSON_SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _suffix_kind(name: str) -> str | None:
    """``json``, ``parquet`` or ``text`` by a file name's suffix; None for other files."""
    low = name.lower()
    for kind, suffixes in (
        ("json", _JSON_SUFFIXES),
        ("parquet", _PARQUET_SUFFIXES),
        ("text", TEXT_SUFFIXES),
    ):
        if low.endswith(suffixes):
            return kind
    return None


def _kind(path: str) -> str:
    """``json``, ``parquet`` or ``text`` for one input path (a file or a local folder)."""
    if "://" not in path and not Path(path).exists():
        raise ValueError(f"input {path!r}: no such file or folder")
    kind = _suffix_kind(path)
    if kind is not None:
        return kind
    p = Path(path)
    if p.is_dir():
        found = {_suffix_kind(f.name) for f in p.rglob("*") if f.is_file()} - {None}
        if len(found) == 1:
            return str(found.pop())
        if not found:
            raise ValueError(
                f"input {path!r}: the folder holds no .jsonl, .parquet or .txt/.md files; "
                "point at a folder of articles or at the files themselves"
            )
        raise ValueError(
            f"input {path!r}: the folder mixes {sorted(map(str, found))} files; "
            "move each kind into its own folder and analyse them in separate runs"
        )
    raise ValueError(
        f"input {path!r}: cannot tell its format; name files *.jsonl, *.parquet or "
        "*.txt/*.md, or pass a local folder of them"
    )


def _inputs(paths: str | Sequence[str]) -> tuple[list[str], str]:
    """The input paths as a list and their one format, or ValueError naming the problem."""
    inputs = [paths] if isinstance(paths, str) else list(paths)
    if not inputs or not all(isinstance(p, str) and p for p in inputs):
        raise ValueError(f"'paths' must be one or more file or folder paths, got {paths!r}")
    kinds = {p: _kind(p) for p in inputs}
    if len(set(kinds.values())) > 1:
        raise ValueError(
            f"'paths' mix input formats ({kinds}); analyse JSONL, Parquet and text inputs "
            "in separate runs"
        )
    return inputs, next(iter(kinds.values()))


def read_documents(
    paths: str | Sequence[str], *, text_column: str = "text", id_column: str = "id"
) -> ray.data.Dataset:
    """A Ray Dataset of documents from JSONL, Parquet or text files (one kind per call).

    JSONL and Parquet rows keep their columns (the text in ``text_column``, the id in
    ``id_column``, if any); a text file (``.txt``, ``.md``, ``.text``) is one document whose id
    is its path and whose text column holds the file's bytes (decoded by the actors, so
    a file that is not UTF-8 becomes an error row, not a failed job). Paths may be
    folders, files, or URIs that Ray can read (``s3://...``, with a file suffix).

    Example:
        >>> docs = read_documents(["articles/"])                     # doctest: +SKIP
        >>> docs.schema().names                                      # doctest: +SKIP
        ['id', 'text']
    """
    ray_ = import_ray()
    inputs, kind = _inputs(paths)
    docs: ray.data.Dataset
    if kind == "json":
        docs = ray_.data.read_json(inputs)
    elif kind == "parquet":
        docs = ray_.data.read_parquet(inputs)
    else:
        files = ray_.data.read_binary_files(
            inputs, include_paths=True, file_extensions=[s.lstrip(".") for s in TEXT_SUFFIXES]
        )
        docs = files.rename_columns({"path": id_column, "bytes": text_column}).select_columns(
            [id_column, text_column]
        )
    return docs


@dataclass(frozen=True)
class RayRun:
    """What :func:`analyze_files` wrote: the output folder, its row count, and the
    ``(document_id, error)`` of each document that could not be analysed."""

    output: str
    n_rows: int
    failures: tuple[tuple[str | None, str], ...]


def analyze_files(
    paths: str | Sequence[str],
    output: str | os.PathLike[str],
    *,
    address: str | None = None,
    progress: bool = True,
    **options: Any,
) -> RayRun:
    """Read documents (see :func:`read_documents`), judge them on Ray and write Parquet
    shards of judgement rows (with the ``error`` column) to the folder ``output``.

    Connects to the cluster at ``address`` (``"auto"``, ``"ray://head:10001"``...) or,
    when None and Ray is not already initialised, starts a local Ray that is shut down
    again at the end. ``progress=False`` hides Ray Data's progress bars. ``options`` go
    to :func:`analyze_dataset`.

    Example:
        >>> run = analyze_files("articles/", "judgements/", targets=["CSTO"])  # doctest: +SKIP
        >>> run.n_rows, len(run.failures)                                     # doctest: +SKIP
        (412, 1)
    """
    ray_ = import_ray()
    errors = options.pop("errors", "record")
    if errors != "record":
        raise ValueError(
            f"'errors' must be 'record' for analyze_files (it reports failed documents), "
            f"got {errors!r}"
        )
    out = os.fspath(output)
    if (
        "://" not in out
        and Path(out).exists()
        and (not Path(out).is_dir() or any(Path(out).iterdir()))
    ):
        raise ValueError(
            f"'output' {out!r} exists and is not an empty folder; choose a new folder "
            "(Parquet shards would be mixed with what is there)"
        )
    _inputs(paths)  # bad inputs fail here, before Ray starts
    started = False
    if not ray_.is_initialized():
        ray_.init(address=address)
        started = True
    elif address is not None:
        raise ValueError(
            f"'address' is {address!r} but Ray is already initialised in this process; "
            "call ray.shutdown() first or leave address=None"
        )
    try:
        if not progress:
            ray_.data.DataContext.get_current().enable_progress_bars = False
        docs = read_documents(
            paths,
            text_column=options.get("text_column", "text"),
            id_column=options.get("id_column", "id"),
        )
        _write_atomically(analyze_dataset(docs, errors="record", **options), out)
    finally:
        if started:
            ray_.shutdown()
    return _summarise(out)


def _write_atomically(rows: Any, out: str) -> None:
    """``rows.write_parquet`` into a temporary sibling folder renamed to ``out`` when
    complete, so a local ``out`` is either whole or absent (an interrupted run leaves only
    a hidden ``.NAME.*`` folder, removed on error). A URI (``s3://...``) is written in
    place: object stores have no atomic rename."""
    if "://" in out:
        rows.write_parquet(out)
        return
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        rows.write_parquet(str(tmp))
        if dest.is_dir():
            dest.rmdir()  # empty: analyze_files refuses a folder with files in it
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _summarise(out: str) -> RayRun:
    """Row count and failed documents of a Parquet output folder (a path or a URI)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    if "://" not in out and not any(Path(out).glob("*.parquet")):
        return RayRun(out, 0, ())  # no judgement and no error: Ray wrote no shard
    try:
        data = pads.dataset(out, format="parquet")
    except FileNotFoundError:
        return RayRun(out, 0, ())
    failed = data.to_table(columns=["document_id", "error"], filter=pc.field("error").is_valid())
    pairs = zip(
        failed.column("document_id").to_pylist(), failed.column("error").to_pylist(), strict=True
    )
    return RayRun(out, data.count_rows(), tuple(sorted(pairs, key=lambda p: str(p[0]))))
