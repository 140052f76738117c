"""PNG figures of evaluation results: confusion matrix, per-target scores, reliability.

Figures are drawn on matplotlib's Agg canvas without pyplot, so nothing needs a display
and no global figure state is kept. Each function writes one PNG (creating its folder)
and returns its path.

Example:
    >>> from stancekit.evaluation.figures import plot_confusion      # doctest: +SKIP
    >>> plot_confusion([[5, 1], [2, 7]], ["favor", "against"],       # doctest: +SKIP
    ...                title="Stance", path="out/confusion.png")
    PosixPath('out/confusion.png')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from stancekit.atomic import atomic_open

__all__ = ["plot_confusion", "plot_per_target", "plot_reliability"]

DPI = 120


def _save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG to ``path`` and release it."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    with atomic_open(out, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight")
    fig.clear()
    return out


def plot_confusion(
    confusion: Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    title: str,
    path: str | Path,
) -> Path:
    """Confusion matrix (rows = true, columns = predicted) with the count in each cell."""
    cm = np.asarray(confusion, dtype=float)
    k = len(labels)
    if cm.shape != (k, k):
        raise ValueError(
            f"The 'confusion' parameter of plot_confusion must have shape ({k}, {k}) to match "
            f"'labels'. Got shape {cm.shape} instead."
        )
    side = 1.6 + 0.9 * k
    fig = Figure(figsize=(side + 1.0, side))
    ax = fig.add_subplot()
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ticks = list(range(k))
    ax.set_xticks(ticks, labels=list(labels), rotation=45, ha="right")
    ax.set_yticks(ticks, labels=list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = cm.max() / 2 if cm.size else 0.0
    for i in range(k):
        for j in range(k):
            colour = "white" if cm[i, j] > threshold else "black"
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", color=colour)
    return _save(fig, path)


def plot_per_target(
    per_target: Mapping[str, Mapping[str, float]],
    *,
    metric: str = "macro_f1",
    title: str,
    path: str | Path,
) -> Path:
    """Horizontal bars of ``metric`` per target, labelled ``target (n=...)``.

    ``per_target`` maps a target to its scores, e.g. ``{"NATO": {"macro_f1": 0.6, "n": 40}}``;
    ``n`` is shown when present. A missing or None score is drawn as an empty bar marked n/a.
    """
    names = list(per_target)
    values: list[float] = []
    ticks: list[str] = []
    for name in names:
        scores = per_target[name]
        value = scores.get(metric)
        values.append(math.nan if value is None else float(value))
        n = scores.get("n")
        ticks.append(name if n is None else f"{name} (n={int(n)})")
    fig = Figure(figsize=(7.0, 1.2 + 0.4 * max(len(names), 1)))
    ax = fig.add_subplot()
    y = np.arange(len(names))
    ax.barh(y, np.nan_to_num(values), color="tab:blue")
    ax.set_yticks(y, labels=ticks)
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.05)
    ax.set_xlabel(metric)
    ax.set_title(title)
    for yi, value in enumerate(values):
        text = "n/a" if math.isnan(value) else f"{value:.2f}"
        ax.text((0.0 if math.isnan(value) else value) + 0.01, yi, text, va="center")
    return _save(fig, path)


def plot_reliability(
    reliability: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    path: str | Path,
) -> Path:
    """Reliability diagram from ``classification_metrics(...)["reliability"]``.

    Bars show the accuracy of each confidence bin, dots its mean confidence against its
    accuracy, the dashed diagonal perfect calibration; each bin is marked with its count.
    """
    lower = [float(v or 0.0) for v in reliability["bin_lower"]]
    upper = [float(v or 0.0) for v in reliability["bin_upper"]]
    counts = [int(c or 0) for c in reliability["count"]]
    conf, acc = reliability["confidence"], reliability["accuracy"]
    fig = Figure(figsize=(5.5, 5.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    widths = [u - lo for lo, u in zip(lower, upper, strict=True)]
    heights = [0.0 if a is None else float(a) for a in acc]
    ax.bar(
        lower,
        heights,
        width=widths,
        align="edge",
        alpha=0.35,
        edgecolor="tab:blue",
        label="accuracy",
    )
    full = [
        (float(c), float(a))
        for c, a in zip(conf, acc, strict=True)
        if c is not None and a is not None
    ]
    if full:
        xs, ys = zip(*full, strict=True)
        ax.plot(xs, ys, marker="o", color="tab:orange", label="confidence vs accuracy")
    for lo, w, h, n in zip(lower, widths, heights, counts, strict=True):
        if n:
            ax.text(lo + w / 2, min(h + 0.02, 1.0), str(n), ha="center", fontsize=8)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
