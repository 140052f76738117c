"""Corpus views: many analysed articles read together.

:class:`Corpus` gathers judgements of many documents with their metadata (date, outlet,
...), merges each actor's names across documents into one canonical actor (an
:class:`AliasTable` overrides), and answers with DataFrames: :meth:`Corpus.actor_target`,
:meth:`Corpus.over_time`, :meth:`Corpus.by_outlet`, :meth:`Corpus.evidence`, the signed
:meth:`Corpus.network`. :mod:`stancekit.corpus.figures` draws them;
:func:`write_html_report` puts everything in one offline HTML page.

Example:
    >>> from stancekit.corpus import Corpus, write_html_report      # doctest: +SKIP
    >>> corpus = Corpus.read_jsonl("results.jsonl").with_metadata("meta.csv")  # doctest: +SKIP
    >>> corpus.actor_target().head()                                 # doctest: +SKIP
    >>> write_html_report(corpus, "report/")                         # doctest: +SKIP
    PosixPath('report/index.html')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stancekit.corpus.aliases import AliasTable, AliasTableError, load_aliases
from stancekit.corpus.corpus import DATE_FIELDS, Corpus, CorpusError, CorpusWarning
from stancekit.corpus.identity import MERGE_REASONS, Identity, name_key, resolve_actors
from stancekit.corpus.network import ActorNetwork
from stancekit.corpus.report import report_main, write_html_report

if TYPE_CHECKING:
    from stancekit.corpus.figures import (
        plot_actor_target,
        plot_network,
        plot_stance_strip,
        plot_timeline,
    )

__all__ = [
    "DATE_FIELDS",
    "MERGE_REASONS",
    "ActorNetwork",
    "AliasTable",
    "AliasTableError",
    "Corpus",
    "CorpusError",
    "CorpusWarning",
    "Identity",
    "load_aliases",
    "name_key",
    "plot_actor_target",
    "plot_network",
    "plot_stance_strip",
    "plot_timeline",
    "report_main",
    "resolve_actors",
    "write_html_report",
]

_FIGURES = ("plot_actor_target", "plot_network", "plot_stance_strip", "plot_timeline")


def __getattr__(name: str) -> Any:
    # matplotlib loads on first use of a figure function
    if name in _FIGURES:
        from stancekit.corpus import figures

        return getattr(figures, name)
    raise AttributeError(f"module 'stancekit.corpus' has no attribute {name!r}")
