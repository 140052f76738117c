"""Pictures of a corpus: actor x target heatmap, stance timeline, signed network, and the
stance strip of one article.

Figures are drawn on matplotlib's Agg canvas without pyplot (no display, no global state).
Each function returns the :class:`~matplotlib.figure.Figure`; with a ``path`` it also
saves it, as PNG or SVG by the path's suffix. Colours: green favor, red against, grey none;
"net" is mean p(favor) - mean p(against).

Example:
    >>> from stancekit.corpus.figures import plot_actor_target     # doctest: +SKIP
    >>> fig = plot_actor_target(corpus, "out/heatmap.png")          # doctest: +SKIP
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from stancekit.atomic import atomic_open
from stancekit.corpus.corpus import Corpus
from stancekit.corpus.network import ActorNetwork
from stancekit.results.judgements import AUTHOR, DocumentResult

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["plot_actor_target", "plot_network", "plot_stance_strip", "plot_timeline"]

DPI = 120
FAVOR, AGAINST, NONE = "#1a9850", "#d73027", "#9e9e9e"
_CMAP = "RdYlGn"
PathArg = str | os.PathLike[str] | None


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: PathArg, func: str) -> Figure:
    """Save ``fig`` to ``path`` (PNG or SVG by suffix) when a path is given."""
    if path is None:
        return fig
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise ValueError(
            f"The 'path' parameter of {func} must end in .png or .svg. Got {str(out)!r} instead."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out, "wb") as f:
        fig.savefig(f, format=fmt, dpi=DPI, bbox_inches="tight")
    return fig


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="grey")
    ax.set_axis_off()


def _colour(net: float) -> str:
    return FAVOR if net > 0.05 else AGAINST if net < -0.05 else NONE


def _busiest(table: pd.DataFrame, column: str, n: int) -> list[Any]:
    """The ``n`` values of ``column`` with most sentences in ``table``."""
    counts = table.groupby(column)["n_sentences"].sum().sort_values(ascending=False)
    return list(counts.head(n).index)


def plot_actor_target(
    corpus: Corpus,
    path: PathArg = None,
    *,
    max_actors: int = 20,
    max_targets: int = 12,
    title: str = "Stance by actor and target",
) -> Figure:
    """Heatmap of net stance (actor rows x target columns); each cell shows the net value
    and its number of sentences. The actors and targets with most sentences are kept."""
    table = corpus.actor_target(n_bootstrap=0)
    actors = _busiest(table, "holder", max_actors)
    targets = _busiest(table, "target", max_targets)
    fig = _figure(2.6 + 1.1 * max(len(targets), 1), 1.4 + 0.45 * max(len(actors), 1))
    ax = fig.add_subplot()
    ax.set_title(title)
    if not actors:
        _message(ax, "no judgements")
        return _save(fig, path, "plot_actor_target")
    net = table.pivot(index="holder", columns="target", values="net").reindex(
        actors, columns=targets
    )
    count = table.pivot(index="holder", columns="target", values="n_sentences")
    count = count.reindex(actors, columns=targets)
    ax.set_facecolor("#f2f2f2")
    image = ax.imshow(np.ma.masked_invalid(net.to_numpy(float)), cmap=_CMAP, vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="net: p(favor) - p(against)")
    ax.set_xticks(range(len(targets)), labels=targets, rotation=35, ha="right")
    ax.set_yticks(range(len(actors)), labels=actors)
    values, counts = net.to_numpy(float), count.to_numpy(float)
    for i in range(len(actors)):
        for j in range(len(targets)):
            n, v = counts[i, j], values[i, j]
            if not np.isnan(n):
                ink = "white" if abs(v) > 0.6 else "black"
                ax.text(
                    j, i, f"{v:+.2f}\nn={int(n)}", ha="center", va="center", fontsize=8, color=ink
                )
    return _save(fig, path, "plot_actor_target")


def plot_timeline(
    corpus: Corpus,
    path: PathArg = None,
    *,
    target: str | None = None,
    actors: list[str] | None = None,
    freq: str = "M",
    max_actors: int = 6,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> Figure:
    """Net stance of each actor toward ``target`` per day/week/month, with its 95%
    bootstrap band. Without ``target``, the target with most dated sentences; without
    ``actors``, the ``max_actors`` actors with most sentences toward it."""
    table = corpus.over_time(freq, target=target, n_bootstrap=n_bootstrap, seed=seed)
    if target is None and len(table):
        target = str(table.groupby("target")["n_sentences"].sum().idxmax())
        table = table[table["target"] == target]
    if actors is None:
        actors = (
            table.groupby("holder")["n_sentences"]
            .sum()
            .sort_values(ascending=False)
            .head(max_actors)
            .index.tolist()
        )
    fig = _figure(8.0, 4.2)
    ax = fig.add_subplot()
    ax.set_title(f"Stance toward {target} over time" if target else "Stance over time")
    if not actors:
        _message(ax, "no dated judgements (add dates with Corpus.with_metadata)")
        return _save(fig, path, "plot_timeline")
    colours = [f"C{i % 10}" for i in range(len(actors))]
    for actor, colour in zip(actors, colours, strict=True):
        rows = table[table["holder"] == actor].sort_values("period")
        if rows.empty:
            continue
        x = rows["period"].to_numpy()
        ax.plot(x, rows["net"], marker="o", color=colour, label=actor)
        if n_bootstrap:
            ax.fill_between(x, rows["net_ci_low"], rows["net_ci_high"], color=colour, alpha=0.15)
    ax.axhline(0.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("net: p(favor) - p(against)")
    ax.legend(fontsize=8, loc="best")
    fig.autofmt_xdate()
    return _save(fig, path, "plot_timeline")


def plot_network(
    source: Corpus | ActorNetwork,
    path: PathArg = None,
    *,
    min_sentences: int = 1,
    title: str = "Who is for or against whom",
) -> Figure:
    """The signed actor network: an arrow per edge, green favor / red against / grey none,
    its width growing with |net|; node size grows with the actor's sentences."""
    import networkx as nx  # type: ignore[import-untyped]

    net = source.network(min_sentences=min_sentences) if isinstance(source, Corpus) else source
    fig = _figure(7.5, 6.5)
    ax = fig.add_subplot()
    ax.set_title(title)
    if net.edges.empty:
        _message(ax, "no actor is the target of another actor")
        return _save(fig, path, "plot_network")
    graph = net.to_networkx()
    pos = nx.spring_layout(graph.to_undirected(), seed=0)
    for e in net.edges.to_dict("records"):
        weight = float(e["weight"])
        ax.annotate(
            "",
            xy=pos[e["target"]],
            xytext=pos[e["source"]],
            arrowprops={
                "arrowstyle": "-|>",
                "color": _colour(weight) if e["sign"] else NONE,
                "lw": 1.0 + 3.0 * abs(weight),
                "shrinkA": 14,
                "shrinkB": 14,
                "connectionstyle": "arc3,rad=0.12",
            },
        )
    sizes = {str(r["actor"]): int(r["n_sentences"]) for r in net.nodes.to_dict("records")}
    xy = np.array([pos[a] for a in sizes])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=[120 + 30 * min(n, 30) for n in sizes.values()],
        color="#4c72b0",
        zorder=3,
    )
    for actor, (x, y) in zip(sizes, xy, strict=True):
        ax.text(x, y + 0.07, actor, ha="center", va="bottom", fontsize=9, zorder=4)
    handles = [
        Line2D([], [], color=c, lw=2, label=lab)
        for c, lab in ((FAVOR, "favor"), (AGAINST, "against"), (NONE, "none"))
    ]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.margins(0.15)
    ax.set_axis_off()
    return _save(fig, path, "plot_network")


def _strip_rows(
    result: DocumentResult | Corpus, document_id: str | None, target: str | None
) -> tuple[str, list[tuple[int, str, list[Mapping[Any, Any]]]]]:
    """``(document id, [(sentence index, text, judgement dicts)])``."""
    if isinstance(result, DocumentResult):
        frame = result.to_dataframe()
        frame["holder"] = frame["holder"].fillna(AUTHOR)
        sentences = [(s.index, s.text) for s in result.document.sentences]
        doc_id = result.document.id
    else:
        if document_id is None:
            raise ValueError(
                "The 'document_id' parameter of plot_stance_strip is required when a Corpus is "
                "given: which article to draw. Got None."
            )
        frame = result.to_dataframe()
        frame = frame[frame["document_id"] == document_id]
        if frame.empty:
            raise ValueError(
                f"The 'document_id' parameter of plot_stance_strip must name a document with "
                f"judgements. Got {document_id!r}; see corpus.documents()."
            )
        first = frame.drop_duplicates("sentence_index").sort_values("sentence_index")
        sentences = list(zip(first["sentence_index"], first["sentence"].astype(str), strict=True))
        doc_id = document_id
    if target is not None:
        frame = frame[frame["target"] == target]
    by_index: dict[int, list[Mapping[Any, Any]]] = {}
    for rec in frame.to_dict("records"):
        by_index.setdefault(int(rec["sentence_index"]), []).append(rec)
    return doc_id, [(i, text, by_index.get(int(i), [])) for i, text in sentences]


def plot_stance_strip(
    result: DocumentResult | Corpus,
    path: PathArg = None,
    *,
    document_id: str | None = None,
    target: str | None = None,
    max_sentences: int = 60,
) -> Figure:
    """One article, sentence by sentence: a coloured cell per judgement (holder -> target,
    green favor / red against / grey none, darker when more confident) and the sentence.
    ``result`` is a DocumentResult, or a Corpus with ``document_id`` (judged sentences only).
    """
    doc_id, rows = _strip_rows(result, document_id, target)
    shown = rows[:max_sentences]
    fig = _figure(11.0, 0.9 + 0.42 * max(len(shown), 1))
    ax = fig.add_subplot()
    ax.set_title(f"{doc_id}: stance by sentence", loc="left", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(len(shown), -0.2)
    ax.set_axis_off()
    for y, (index, text, judged) in enumerate(shown):
        x = 0.0
        for j in sorted(judged, key=lambda r: -max(r["p_favor"], r["p_against"]))[:3]:
            net = float(j["p_favor"]) - float(j["p_against"])
            strength = max(float(j["p_favor"]), float(j["p_against"]))
            colour = _colour(net) if j["stance"] != "none" else NONE
            ax.add_patch(
                Rectangle(
                    (x, y + 0.1),
                    0.15,
                    0.8,
                    color=colour,
                    alpha=0.35 + 0.65 * strength,
                    linewidth=0,
                )
            )
            label = textwrap.shorten(f"{j['holder']} > {j['target']}", 23, placeholder="…")
            ax.text(x + 0.004, y + 0.5, label, va="center", fontsize=6.5)
            x += 0.155
        snippet = textwrap.shorten(str(text).replace("\n", " "), 100, placeholder=" …")
        ax.text(
            0.48,
            y + 0.5,
            f"[{index}] {snippet}",
            va="center",
            fontsize=7.5,
            color="black" if judged else "grey",
        )
    if len(rows) > len(shown):
        ax.text(
            0.0,
            len(shown) - 0.1,
            f"... {len(rows) - len(shown)} more sentences",
            fontsize=7.5,
            color="grey",
        )
    return _save(fig, path, "plot_stance_strip")
