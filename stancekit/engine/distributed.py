"""Analyse a corpus on many machines with Ray Data (the optional ``stancekit[ray]`` extra).

A pool of Ray actors each loads the model (and spaCy) once, then judges batches of
documents; the output is a Ray Dataset with one row per judgement, the same rows as
:meth:`stancekit.DocumentResult.to_records` gives in a single process, plus an ``error``
column (null on judgement rows; a document that could not be analysed gives one row with
``document_id`` and ``error`` set and every other column null).

Files in, Parquet out (what ``stancekit analyze --engine ray`` runs) is
:mod:`stancekit.engine.ray_files`. ``import stancekit.engine.distributed`` works without
Ray; the functions that need it raise :class:`RayNotInstalledError`, which names the
install command.

Example:
    >>> import ray                                                   # doctest: +SKIP
    >>> from stancekit.engine.distributed import analyze_dataset             # doctest: +SKIP
    >>> ray.init()                                                   # doctest: +SKIP
    >>> docs = ray.data.read_parquet("s3://bucket/articles/")         # doctest: +SKIP
    >>> rows = analyze_dataset(docs, targets=["CSTO", "NATO"], concurrency=8)  # doctest: +SKIP
    >>> rows.write_parquet("s3://bucket/judgements/")                 # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from stancekit.actors.targets import Target, as_targets
from stancekit.errors import StancekitError

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

    from stancekit.analyzer import StanceAnalyzer

__all__ = [
    "INSTALL_HINT",
    "RayNotInstalledError",
    "analyze_dataset",
    "import_ray",
    "judgement_schema",
]

#: The command that installs the Ray extra.
INSTALL_HINT = "pip install 'stancekit[ray]'"

Errors = Literal["record", "skip", "raise"]
_ERROR_MODES = ("record", "skip", "raise")


class RayNotInstalledError(StancekitError, ImportError):
    """The Ray engine was asked for but Ray (the ``stancekit[ray]`` extra) is not installed."""


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or :class:`RayNotInstalledError` naming the fix."""
    try:
        import ray
        import ray.data  # Ray Data needs the [data] extra's packages
    except ImportError as exc:
        raise RayNotInstalledError(
            f"the Ray engine needs Ray Data, which is not installed ({exc}); "
            f"install it with: {INSTALL_HINT}"
        ) from None
    return ray


# --------------------------------------------------------------------------- rows and schema


def judgement_schema(
    stance_labels: Sequence[str] = ("favor", "against", "none"),
    sentiment_labels: Sequence[str] = ("positive", "neutral", "negative"),
    *,
    error_column: bool = True,
) -> pa.Schema:
    """The Arrow schema of the judgement rows for a model with these labels.

    The columns and their order are those of :meth:`stancekit.Judgement.to_dict`; with
    ``error_column`` an ``error`` string column follows. A fixed schema keeps every
    Parquet shard readable as one table, even a shard whose rows all lack a mention.

    Example:
        >>> judgement_schema().names[:3]
        ['document_id', 'sentence_index', 'sentence_start']
    """
    import pyarrow as pa

    text, int_ = pa.string(), pa.int64()
    fields: list[tuple[str, pa.DataType]] = [
        ("document_id", text),
        ("sentence_index", int_),
        ("sentence_start", int_),
        ("sentence_end", int_),
        ("sentence", text),
        ("holder", text),
        ("holder_kind", text),
        ("holder_state", text),
        ("attribution", text),
        ("target", text),
        ("stance", text),
        *((f"p_{k}", pa.float64()) for k in stance_labels),
        ("sentiment", text),
        *((f"p_{k}", pa.float64()) for k in sentiment_labels),
        ("holder_start", int_),
        ("holder_end", int_),
        ("holder_text", text),
        ("target_start", int_),
        ("target_end", int_),
        ("target_text", text),
        ("flags", text),
    ]
    if error_column:
        fields.append(("error", text))
    seen: dict[str, pa.DataType] = {}
    for name, type_ in fields:  # a label shared by both heads is one column, as in to_dict
        seen.setdefault(name, type_)
    return pa.schema(list(seen.items()))


def _decode(value: bytes) -> str:
    try:
        return value.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte {exc.start}: {value[exc.start : exc.start + 1]!r}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


class _AnalyzeBatch:
    """The callable class Ray Data runs in each actor: loads the model once, then turns a
    batch of documents (an Arrow table) into a table of judgement rows."""

    def __init__(
        self,
        model: str | None,
        targets: tuple[Target, ...],
        text_column: str,
        id_column: str,
        device: str | None,
        model_batch_size: int,
        errors: Errors,
        analyzer_options: dict[str, Any],
    ) -> None:
        from stancekit.analyzer import StanceAnalyzer

        self.analyzer: StanceAnalyzer = StanceAnalyzer(
            model=model,
            targets=targets,
            batch_size=model_batch_size,
            device=device,
            **analyzer_options,
        )
        config = self.analyzer.model.config
        self.schema = judgement_schema(
            config.stance_labels, config.sentiment_labels, error_column=errors != "skip"
        )
        self.text_column, self.id_column, self.errors = text_column, id_column, errors

    def __call__(self, batch: pa.Table) -> pa.Table:
        import pyarrow as pa

        from stancekit.text.segment import document_id

        if self.text_column not in batch.column_names:
            raise ValueError(
                f"'text_column' is {self.text_column!r} but the batch's columns are "
                f"{batch.column_names}; pass text_column= the column that holds the texts"
            )
        texts = batch.column(self.text_column).to_pylist()
        ids = (
            batch.column(self.id_column).to_pylist()
            if self.id_column in batch.column_names
            else [None] * len(texts)
        )
        rows: list[dict[str, Any]] = []
        items: list[tuple[str, str]] = []
        for id_, text in zip(ids, texts, strict=True):
            try:
                if isinstance(text, bytes):
                    text = _decode(text)
                if not isinstance(text, str):
                    raise TypeError(
                        f"column {self.text_column!r} must hold str or UTF-8 bytes, "
                        f"got {type(text).__name__}"
                    )
            except (TypeError, ValueError) as exc:
                self._failed(
                    rows, None if id_ is None else str(id_), f"{type(exc).__name__}: {exc}"
                )
                continue
            items.append((str(id_) if id_ is not None else document_id(text), text))
        for res in self.analyzer.analyze_many(items, batch_size=max(1, len(items)), progress=False):
            if res.ok:
                rows.extend(res.to_records())
            else:
                self._failed(rows, res.document.id, res.error or "")
        return pa.Table.from_pylist(rows, schema=self.schema)

    def _failed(self, rows: list[dict[str, Any]], id_: str | None, error: str) -> None:
        if self.errors == "raise":
            raise StancekitError(f"document {id_!r} could not be analysed: {error}")
        if self.errors == "record":
            rows.append({"document_id": id_, "error": error})


# --------------------------------------------------------------------------- public API


def _check_positive(name: str, value: object, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        bound = "a number >= 0" if allow_zero else "a positive number"
        raise ValueError(f"'{name}' must be {bound}, got {value!r}")


def _model_arg(model: object) -> str | None:
    """The model as a path string the actors can load (absolute when it exists here)."""
    if model is None:
        return None  # each actor resolves the default model (STANCEKIT_MODEL) itself
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        return str(path.resolve()) if path.exists() else str(model)
    raise TypeError(
        f"'model' must be a model folder (str or Path) or None, got {type(model).__name__}; "
        "the actors load the model themselves, so pass the folder, not a loaded StanceModel"
    )


def analyze_dataset(
    ds: ray.data.Dataset,
    *,
    text_column: str = "text",
    id_column: str = "id",
    targets: Iterable[Target | str] | None = None,
    model: str | os.PathLike[str] | None = None,
    batch_size: int = 16,
    concurrency: int | tuple[int, int] | None = None,
    num_cpus_per_actor: float = 1,
    num_gpus_per_actor: float = 0,
    device: str | None = None,
    model_batch_size: int = 64,
    errors: Errors = "record",
    analyzer_options: Mapping[str, Any] | None = None,
) -> ray.data.Dataset:
    """Judge every document of a Ray Dataset; one output row per judgement.

    The work runs in a pool of actors (``map_batches`` with a callable class), each of
    which loads the model and spaCy once. Rows are those of
    :meth:`stancekit.DocumentResult.to_records` in a single process, plus ``error`` (see
    ``errors``); their order is not kept. The dataset is lazy: nothing runs until it is
    consumed (``write_parquet``, ``take``, ``to_pandas``...).

    Args:
        ds: the documents: a column of texts (str, or UTF-8 bytes as
            ``ray.data.read_binary_files`` gives) and optionally one of ids.
        text_column, id_column: the column names. A row without an id gets
            ``doc-`` + a hash of its text, as in :meth:`StanceAnalyzer.analyze_many`.
        targets: targets to judge (``Target`` objects or names); None gives the defaults.
        model: a model folder that every worker can read; None is the default model
            (``STANCEKIT_MODEL`` overrides it on each worker).
        batch_size: documents per actor call (spaCy and the model see them together).
        concurrency: actors in the pool: ``n`` for a fixed pool, ``(min, max)`` for an
            autoscaling one; None autoscales from 1 to what the cluster can hold.
        num_cpus_per_actor, num_gpus_per_actor: resources each actor reserves; with GPUs
            each actor puts the model on its GPU.
        device: ``"cpu"``, ``"cuda"``...; None picks CUDA where the actor has a GPU.
        model_batch_size: pairs per model forward pass inside an actor.
        errors: what a document that cannot be analysed gives: ``"record"`` one row with
            ``error`` set; ``"skip"`` nothing, and no ``error`` column (the rows are then
            exactly the single-process ones); ``"raise"`` stops the whole job.
        analyzer_options: other :class:`~stancekit.StanceAnalyzer` arguments for every
            actor, e.g. ``{"quantize": True}``.

    Example:
        >>> rows = analyze_dataset(ray.data.from_items([{"id": "a", "text": "Baku hailed "
        ...     "the CSTO."}]), targets=["CSTO"], concurrency=2)     # doctest: +SKIP
        >>> rows.to_pandas()[["document_id", "holder", "stance"]]     # doctest: +SKIP
    """
    for name, column in (("text_column", text_column), ("id_column", id_column)):
        if not isinstance(column, str) or not column:
            raise ValueError(f"'{name}' must be a non-empty column name, got {column!r}")
    for name, size in (("batch_size", batch_size), ("model_batch_size", model_batch_size)):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"'{name}' must be a positive int, got {size!r}")
    _check_positive("num_cpus_per_actor", num_cpus_per_actor)
    _check_positive("num_gpus_per_actor", num_gpus_per_actor, allow_zero=True)
    if errors not in _ERROR_MODES:
        raise ValueError(f"'errors' must be one of {_ERROR_MODES}, got {errors!r}")
    model_arg, targets_ = _model_arg(model), as_targets(targets)
    options = dict(analyzer_options or {})
    taken = sorted(set(options) & {"model", "targets", "batch_size", "device"})
    if taken:
        raise ValueError(
            f"'analyzer_options' sets {taken}, which analyze_dataset sets itself; pass them "
            "as its own arguments (model=, targets=, model_batch_size=, device=)"
        )
    ray_ = import_ray()
    compute = _pool(ray_, concurrency)
    if not isinstance(ds, ray_.data.Dataset):
        raise TypeError(
            f"'ds' must be a ray.data.Dataset, got {type(ds).__name__}; "
            "make one with ray.data.from_items(...), read_json(...) or read_parquet(...)"
        )
    schema = ds.schema(fetch_if_missing=False)
    if schema is not None and text_column not in schema.names:
        raise ValueError(
            f"'text_column' is {text_column!r} but the dataset's columns are "
            f"{list(schema.names)}; pass text_column= the column that holds the texts"
        )
    rows: ray.data.Dataset = ds.map_batches(
        _AnalyzeBatch,
        fn_constructor_kwargs={
            "model": model_arg,
            "targets": targets_,
            "text_column": text_column,
            "id_column": id_column,
            "device": device,
            "model_batch_size": model_batch_size,
            "errors": errors,
            "analyzer_options": options,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=compute,
        num_cpus=num_cpus_per_actor,
        num_gpus=num_gpus_per_actor or None,
    )
    return rows


def _pool(ray: Any, concurrency: object) -> Any:
    """The ActorPoolStrategy for ``concurrency`` (None, n or (min, max))."""
    if concurrency is None:
        return ray.data.ActorPoolStrategy(min_size=1, max_size=None)
    if isinstance(concurrency, int) and not isinstance(concurrency, bool) and concurrency >= 1:
        return ray.data.ActorPoolStrategy(size=concurrency)
    if (
        isinstance(concurrency, tuple)
        and len(concurrency) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in concurrency)
        and 1 <= concurrency[0] <= concurrency[1]
    ):
        return ray.data.ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    raise ValueError(
        f"'concurrency' must be None, a positive int (a fixed pool) or a (min, max) pair "
        f"with 1 <= min <= max (an autoscaling pool), got {concurrency!r}"
    )
