"""The :class:`Corpus`: many analysed articles, their metadata, one name per actor.

A corpus is built from :class:`~stancekit.results.judgements.DocumentResult` s
(:meth:`Corpus.from_results`), from the JSONL that ``stancekit analyze --format jsonl``
writes (:meth:`Corpus.read_jsonl`), from a DataFrame of judgement rows
(:meth:`Corpus.from_dataframe`) or from its own Parquet file (:meth:`Corpus.read_parquet`).
Document metadata (``date``, ``outlet``, ``url``, ``language``, anything else) sits on every
judgement row; :meth:`Corpus.with_metadata` adds more from a CSV keyed by document id.
Dates become pandas timestamps (UTC, no time zone); one that cannot be parsed is NaT with
``date_flag="unparseable"`` and a :class:`CorpusWarning`.

Holders are merged across documents into canonical actors (:mod:`stancekit.corpus.identity`;
:meth:`Corpus.merges` lists every merge). ``holder`` is the canonical name (``(author)`` for
the text's own voice), ``holder_surface`` the name as the document had it, and
``target_actor`` the actor a target is, when it is one.

Example:
    >>> corpus = Corpus.read_jsonl("results.jsonl").with_metadata("meta.csv")  # doctest: +SKIP
    >>> corpus.actor_target()[["holder", "target", "n_sentences", "p_favor"]]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from stancekit.atomic import atomic_open
from stancekit.corpus import aggregate
from stancekit.corpus.aliases import AliasTable, load_aliases
from stancekit.corpus.identity import Identity, resolve_actors
from stancekit.corpus.rows import (
    DATE_FIELDS,
    JUDGEMENT_COLUMNS,
    META_KEY,
    CorpusError,
    CorpusWarning,
    PathLike,
    is_missing,
    json_records,
    meta_name,
    read_jsonl_file,
    read_table,
    scalar,
    split_rows,
    with_dates,
)
from stancekit.results.judgements import AUTHOR, DocumentResult
from stancekit.results.summarize import SUMMARY_MIN_EVIDENCE

if TYPE_CHECKING:
    from stancekit.corpus.network import ActorNetwork

__all__ = ["DATE_FIELDS", "Corpus", "CorpusError", "CorpusWarning"]


@dataclass(frozen=True, eq=False, repr=False)
class Corpus:
    """Judgements of many documents, with their metadata and canonical actors.

    Build one with :meth:`from_results`, :meth:`read_jsonl`, :meth:`from_dataframe` or
    :meth:`read_parquet`, not by calling the class. Methods return new corpora or DataFrames;
    the corpus itself never changes.

    Example:
        >>> from stancekit.corpus import Corpus
        >>> rows = [{"document_id": d, "sentence_index": 0, "holder": h, "target": "CSTO",
        ...          "p_favor": 0.7, "p_against": 0.2, "p_none": 0.1, "date": "2022-11-2" + d}
        ...         for d, h in [("1", "Nikol Pashinian"), ("2", "Pashinyan")]]
        >>> corpus = Corpus.from_dataframe(__import__("pandas").DataFrame(rows))
        >>> corpus.actors()["actor"].tolist(), corpus.n_documents
        (['Nikol Pashinian'], 2)
    """

    _rows: pd.DataFrame
    _documents: pd.DataFrame
    aliases: AliasTable = field(default_factory=AliasTable)
    identity: Identity = field(init=False)
    _docs: pd.DataFrame = field(init=False)
    _view: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        rows = self._rows.reset_index(drop=True)
        rows["document_id"] = rows["document_id"].astype(str)
        docs = self._documents.astype({"document_id": str})
        docs = docs.drop_duplicates("document_id").reset_index(drop=True)
        absent = sorted(set(rows["document_id"]) - set(docs["document_id"]))
        if absent:
            docs = pd.concat([docs, pd.DataFrame({"document_id": absent})], ignore_index=True)
        for c in docs.columns:
            if docs[c].dtype == object:
                values = [scalar(v) for v in docs[c]]
                kinds = {type(v) for v in values if not is_missing(v)}
                docs[c] = [str(v) if len(kinds) > 1 and not is_missing(v) else v for v in values]
        named = rows[rows["holder_surface"].notna()]
        forms: dict[str, tuple[str | None, int]] = {}
        for surface, group in named.groupby("holder_surface", sort=True):
            seen = group["holder_kind"].dropna()
            kind = str(seen.mode().iloc[0]) if len(seen) else None
            forms[str(surface)] = (kind, len(group))
        identity = resolve_actors(forms, self.aliases)
        docs = with_dates(docs.set_index("document_id")).reset_index()
        view = rows.copy()
        view.insert(
            list(view.columns).index("holder_kind"),
            "holder",
            [AUTHOR if is_missing(s) else identity.canonical[s] for s in rows["holder_surface"]],
        )
        targets = {t: identity.resolve(str(t)) for t in view["target"].unique()}
        view["target_actor"] = view["target"].map(targets)
        view = view.merge(docs, on="document_id", how="left", validate="many_to_one")
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "identity", identity)
        object.__setattr__(self, "_docs", docs)
        object.__setattr__(self, "_view", view)

    # ---- building -------------------------------------------------------------------

    @classmethod
    def from_dataframe(
        cls, frame: pd.DataFrame, *, aliases: AliasTable | PathLike | None = None
    ) -> Corpus:
        """A corpus from judgement rows (``DocumentResult.to_dataframe()`` columns); any
        other column is document metadata."""
        rows, docs = split_rows(frame, "from_dataframe")
        return cls(rows, docs, _as_table(aliases))

    @classmethod
    def from_results(
        cls,
        results: Iterable[DocumentResult],
        meta: pd.DataFrame | Mapping[str, Mapping[str, Any]] | PathLike | None = None,
        *,
        aliases: AliasTable | PathLike | None = None,
    ) -> Corpus:
        """A corpus from analysed documents; ``document.meta`` becomes metadata, and ``meta``
        (anything :meth:`with_metadata` reads) adds to it. Failed documents are kept in
        :meth:`documents` with their ``error``."""
        records: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for res in results:
            if not isinstance(res, DocumentResult):
                raise TypeError(
                    f"The 'results' parameter of Corpus.from_results must hold DocumentResult "
                    f"objects. Got {type(res).__name__}; for JSONL use Corpus.read_jsonl."
                )
            doc = res.document
            info = {meta_name(k): scalar(v) for k, v in doc.meta.items()}
            info.update(document_id=doc.id, n_document_sentences=len(doc.sentences))
            docs.append({**info, "error": res.error})
            records.extend(res.to_records())
        frame = pd.DataFrame.from_records(records, columns=None if records else JUDGEMENT_COLUMNS)
        rows, _ = split_rows(frame, "from_results")
        corpus = cls(rows, pd.DataFrame(docs, columns=None if docs else ["document_id"]))
        corpus = corpus if meta is None else corpus.with_metadata(meta)
        return corpus.with_aliases(aliases) if aliases is not None else corpus

    @classmethod
    def read_jsonl(
        cls,
        paths: PathLike | Sequence[PathLike],
        *,
        aliases: AliasTable | PathLike | None = None,
    ) -> Corpus:
        """A corpus from JSONL files of judgement records (``stancekit analyze --format
        jsonl``) or of whole results (``DocumentResult.to_dict()``, one per line)."""
        records: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        for path in [paths] if isinstance(paths, str | os.PathLike) else list(paths):
            read_jsonl_file(Path(path), records, docs)
        frame = pd.DataFrame.from_records(records, columns=None if records else JUDGEMENT_COLUMNS)
        rows, found = split_rows(frame, "read_jsonl")
        if docs:
            extra = pd.DataFrame(docs).drop_duplicates("document_id")
            found = found.merge(extra, on="document_id", how="outer", suffixes=("", "_doc"))
        return cls(rows, found, _as_table(aliases))

    @classmethod
    def read_parquet(
        cls, path: PathLike, *, aliases: AliasTable | PathLike | None = None
    ) -> Corpus:
        """A corpus written by :meth:`write_parquet`, or any Parquet file or folder of
        judgement rows (``stancekit analyze --engine ray`` shards: rows with ``error`` set
        become documents without judgements). ``aliases`` replaces the stored alias table."""
        import pyarrow.parquet as pq

        p = Path(path)
        if not p.exists():
            raise CorpusError(f"read_parquet: {str(p)!r}: no such file or folder; check 'path'")
        table = pq.read_table(p)
        stored = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
        rows, docs = split_rows(table.to_pandas(), f"read_parquet({str(p)!r})")
        if "documents" in stored:
            docs = pd.DataFrame(stored["documents"])
            docs["document_id"] = docs["document_id"].astype(str)
        table_ = AliasTable.from_dict(stored.get("aliases") or {})
        return cls(rows, docs, _as_table(aliases) if aliases is not None else table_)

    def write_parquet(self, path: PathLike) -> Path:
        """Write the rows of :meth:`to_dataframe`, with every document and the alias table
        in the file's metadata, so :meth:`read_parquet` gives this corpus back."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        docs = self._docs.drop(columns=["date", "date_flag"]).rename(columns={"date_raw": "date"})
        stored = {"documents": json_records(docs), "aliases": self.aliases.to_dict()}
        table = pa.Table.from_pandas(self._view, preserve_index=False)
        meta = {**(table.schema.metadata or {}), META_KEY: json.dumps(stored).encode()}
        with atomic_open(out, "wb") as f:
            pq.write_table(table.replace_schema_metadata(meta), f)
        return out

    def with_metadata(
        self,
        source: pd.DataFrame | Mapping[str, Mapping[str, Any]] | PathLike,
        *,
        id_column: str | None = None,
    ) -> Corpus:
        """A corpus with more document metadata: a CSV file or DataFrame with one row per
        document (an ``id`` or ``document_id`` column, or ``id_column``), or a mapping
        id -> fields. Its values replace those already there."""
        frame = read_table(source)
        key = id_column or next((c for c in ("document_id", "id") if c in frame.columns), None)
        if key is None or key not in frame.columns:
            raise CorpusError(
                f"with_metadata: no document id column (looked for {id_column or 'document_id'!r}"
                f"{'' if id_column else ' and id'}); columns are {list(frame.columns)}. "
                "Name the id column with id_column=..."
            )
        frame = frame.rename(columns={c: meta_name(c) for c in frame.columns if c != key})
        frame = frame.rename(columns={key: "document_id"})
        frame["document_id"] = frame["document_id"].astype(str)
        known = set(self._documents["document_id"])
        unmatched = [d for d in frame["document_id"] if d not in known]
        if unmatched:
            warnings.warn(
                f"with_metadata: {len(unmatched)} of {len(frame)} metadata rows match no "
                f"document of the corpus (e.g. {unmatched[:3]}); they are ignored",
                CorpusWarning,
                stacklevel=2,
            )
        docs = self._documents.set_index("document_id")
        new = frame.drop_duplicates("document_id", keep="last").set_index("document_id")
        new = new[new.index.isin(known)]
        for c in new.columns:
            old = docs[c] if c in docs.columns else pd.Series(None, index=docs.index, dtype=object)
            docs[c] = (
                new[c]
                .reindex(docs.index)
                .astype(object)
                .where(new[c].reindex(docs.index).notna(), old.astype(object))
            )
        if any(f in new.columns for f in DATE_FIELDS):
            return Corpus(self._rows, docs.reset_index(), self.aliases)
        with warnings.catch_warnings():  # the dates have not changed: warned already
            warnings.simplefilter("ignore", CorpusWarning)
            return Corpus(self._rows, docs.reset_index(), self.aliases)

    def with_aliases(self, aliases: AliasTable | PathLike | None) -> Corpus:
        """The same corpus with actors merged under another alias table (None: none)."""
        with warnings.catch_warnings():  # same documents: their dates were warned about
            warnings.simplefilter("ignore", CorpusWarning)
            return Corpus(self._rows, self._documents, _as_table(aliases))

    def _actor(self, name: str | None) -> str | None:
        """The canonical name of ``name`` (a canonical name or any surface form)."""
        if name is None or name == AUTHOR:
            return name
        return self.identity.resolve(name) or name

    # ---- looking --------------------------------------------------------------------

    @property
    def n_documents(self) -> int:
        """Documents in the corpus, those with no judgements included."""
        return len(self._docs)

    @property
    def n_judgements(self) -> int:
        """Judgement rows (one per sentence x holder x target)."""
        return len(self._view)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per judgement: the judgement columns, ``holder_surface``,
        ``target_actor`` and the document's metadata (``date``, ``date_flag``, ...)."""
        return self._view.copy()

    def documents(self) -> pd.DataFrame:
        """One row per document: ``document_id``, metadata, ``date``, ``date_flag``."""
        return self._docs.copy()

    def actors(self) -> pd.DataFrame:
        """Canonical actors: ``actor``, ``kind``, ``n_judgements``, ``n_documents``,
        ``forms`` (the surface forms merged into it, ``; ``-separated)."""
        rows = self._view[self._view["holder"] != AUTHOR]
        out = []
        for actor, group in rows.groupby("holder", sort=True):
            kinds = group["holder_kind"].dropna()
            out.append(
                {
                    "actor": actor,
                    "kind": str(kinds.mode().iloc[0]) if len(kinds) else None,
                    "n_judgements": len(group),
                    "n_documents": group["document_id"].nunique(),
                    "forms": "; ".join(sorted(group["holder_surface"].unique())),
                }
            )
        columns = ["actor", "kind", "n_judgements", "n_documents", "forms"]
        return pd.DataFrame(out, columns=columns)

    def merges(self) -> pd.DataFrame:
        """Every merge of a surface form into a canonical actor: ``surface``, ``canonical``,
        ``reason`` (alias-table / exact / last-name / similarity / do-not-merge), ``count``
        (judgement rows), ``kind``. Check it; fix mistakes with an alias table."""
        return self.identity.merges()

    def to_dict(self) -> dict[str, Any]:
        """The corpus as JSON-ready data: documents, judgements, merges, alias table."""
        return {
            "n_documents": self.n_documents,
            "n_judgements": self.n_judgements,
            "documents": json_records(self._docs),
            "judgements": json_records(self._view),
            "merges": json_records(self.merges()),
            "aliases": self.aliases.to_dict(),
        }

    def __repr__(self) -> str:
        n_actors = self._view.loc[self._view["holder"] != AUTHOR, "holder"].nunique()
        return (
            f"Corpus(n_documents={self.n_documents}, n_judgements={self.n_judgements}, "
            f"n_actors={n_actors})"
        )

    # ---- tables (see stancekit.corpus.aggregate) --------------------------------------

    def actor_target(
        self,
        *,
        n_bootstrap: int = 1000,
        seed: int = 0,
        min_sentences: int = 1,
        min_evidence: float = SUMMARY_MIN_EVIDENCE,
        level: str = "actor",
    ) -> pd.DataFrame:
        """Actor x target: sentences, mean probabilities, shares, evidence, the label of the
        summary rule (:mod:`stancekit.results.summarize`, the same as
        :meth:`DocumentResult.summary`), 95% bootstrap intervals of mean p(favor),
        p(against) and net (see :mod:`~.aggregate`); ``level="state"`` rolls actors up to the
        country they are or speak for."""
        return aggregate.actor_target(
            self._view,
            n_bootstrap=n_bootstrap,
            seed=seed,
            min_sentences=min_sentences,
            min_evidence=min_evidence,
            level=level,
        )

    def over_time(
        self,
        freq: str = "M",
        *,
        actor: str | None = None,
        target: str | None = None,
        n_bootstrap: int = 1000,
        seed: int = 0,
        min_evidence: float = SUMMARY_MIN_EVIDENCE,
        level: str = "actor",
    ) -> pd.DataFrame:
        """Actor x target per day / week / month (``freq`` ``"D"``, ``"W"``, ``"M"``);
        ``actor`` is a canonical name or any of its surface forms."""
        return aggregate.over_time(
            self._view,
            freq,
            actor=self._actor(actor),
            target=target,
            n_bootstrap=n_bootstrap,
            seed=seed,
            min_evidence=min_evidence,
            level=level,
        )

    def by_outlet(
        self,
        *,
        field: str = "outlet",
        actor: str | None = None,
        target: str | None = None,
        n_bootstrap: int = 1000,
        seed: int = 0,
        min_evidence: float = SUMMARY_MIN_EVIDENCE,
        level: str = "actor",
    ) -> pd.DataFrame:
        """Outlet x actor x target, from the ``field`` metadata (default ``outlet``)."""
        return aggregate.by_outlet(
            self._view,
            field=field,
            actor=self._actor(actor),
            target=target,
            n_bootstrap=n_bootstrap,
            seed=seed,
            min_evidence=min_evidence,
            level=level,
        )

    def evidence(self, *, top: int = 3) -> pd.DataFrame:
        """The ``top`` strongest favor/against sentences of each actor x target, with
        document id and character offsets."""
        return aggregate.evidence(self._view, top=top)

    def network(
        self, *, min_sentences: int = 1, min_evidence: float = SUMMARY_MIN_EVIDENCE
    ) -> ActorNetwork:
        """Signed actor -> actor edges, where a target is itself an actor of the corpus;
        each edge's label by the summary rule (:mod:`stancekit.results.summarize`)."""
        from stancekit.corpus.network import build_network

        return build_network(self._view, min_sentences=min_sentences, min_evidence=min_evidence)


def _as_table(aliases: AliasTable | PathLike | None) -> AliasTable:
    if aliases is None:
        return AliasTable()
    if isinstance(aliases, AliasTable):
        return aliases
    if isinstance(aliases, str | os.PathLike):
        return load_aliases(aliases)
    raise TypeError(
        f"The 'aliases' parameter must be an AliasTable, a .toml/.csv path or None. "
        f"Got {type(aliases).__name__} instead."
    )
