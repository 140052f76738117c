"""What a fine-tuning run returns (:class:`FineTuneResult`) and the model card it writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FineTuneResult", "finetune_card"]


@dataclass(frozen=True)
class FineTuneResult:
    """The outcome of :func:`stancekit.finetune`.

    Attributes:
        path: the saved model folder (load it with ``StanceAnalyzer(model=path)``).
        base: the base model folder, ``kind`` ``"stancekit"`` or ``"encoder"``.
        args: the settings used (:class:`~stancekit.finetuning.FineTuneArgs` as a dict).
        data: documents, spans and labels per target of train and dev, and where dev
            came from.
        base_metrics, metrics: the evaluation harness's pairs-mode figures (stance and
            sentiment heads, 95% CIs) on dev for the base and the fine-tuned model.
        comparison: the paired bootstrap of fine-tuned minus base on dev.
        temperatures: the refitted calibration temperatures per head.
        best_step, steps, stopped_early: the kept checkpoint and the training length.
        seconds: wall time of the whole run.
        warnings: the input checks' warnings.
    """

    path: str
    base: str
    base_kind: str
    args: Mapping[str, Any]
    data: Mapping[str, Any]
    base_metrics: Mapping[str, Any]
    metrics: Mapping[str, Any]
    comparison: Mapping[str, Any]
    temperatures: Mapping[str, float]
    best_step: int | None
    steps: int
    stopped_early: bool
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=str))  # type: ignore[no-any-return]

    def to_dataframe(self) -> pd.DataFrame:
        """One row per (head, metric): base value, fine-tuned value, their CIs, and the
        paired difference with its CI."""
        import pandas as pd

        return pd.DataFrame(metric_rows(self.base_metrics, self.metrics, self.comparison))


_METRICS = {
    "stance": ("macro_f1", "f_avg", "accuracy", "ece"),
    "sentiment": ("macro_f1", "accuracy", "ece"),
}


def metric_rows(
    base: Mapping[str, Any], tuned: Mapping[str, Any], comparison: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Rows of :meth:`FineTuneResult.to_dataframe`."""
    rows: list[dict[str, Any]] = []
    for head, names in _METRICS.items():
        b, t = base.get(head), tuned.get(head)
        if not b or not t:
            continue
        for m in names:
            if m not in t:
                continue
            diff = (comparison.get(head) or {}).get(m) or {}
            rows.append(
                {
                    "head": head,
                    "metric": m,
                    "base": b.get(m),
                    "base_ci95": (b.get("ci95") or {}).get(m),
                    "finetuned": t.get(m),
                    "finetuned_ci95": (t.get("ci95") or {}).get(m),
                    "difference": diff.get("difference"),
                    "difference_ci95": diff.get("ci95"),
                }
            )
    return rows


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3f}"
    if isinstance(x, Sequence) and not isinstance(x, str) and len(x) == 2:
        return f"[{_fmt(x[0])}, {_fmt(x[1])}]"
    return "–" if x is None else str(x)


def finetune_card(
    *,
    name: str,
    path: str,
    base: str,
    base_kind: str,
    args: Mapping[str, Any],
    data: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    temperatures: Mapping[str, float],
    seconds: float,
    warnings: Sequence[str],
) -> str:
    """The fine-tuned model's ``README.md``."""
    lines = [
        f"# {name}",
        "",
        "A stancekit model fine-tuned with `stancekit finetune`: (sentence, holder, target) →",
        "stance (favor/against/none) and sentiment (positive/neutral/negative).",
        "",
        "## Base model",
        f"`{base}` ({base_kind}).",
        "",
        "## Data",
    ]
    for side in ("train", "dev"):
        d = data[side]
        lines.append(
            f"- **{side}**: {d['documents']} documents, {d['spans']} spans; labels "
            f"{json.dumps(d['labels'])}"
        )
    lines.append(f"- dev set: {data['dev_source']}")
    if data.get("mixed"):
        lines.append(f"- mixed in against forgetting: {data['mixed']} original training pairs")
    lines += ["", "Spans per target (train):", "", "| target | spans | labels |", "|---|---|---|"]
    for target, info in list(data["train"]["per_target"].items())[:30]:
        lines.append(f"| {target} | {info['spans']} | {json.dumps(info['labels'])} |")
    lines += [
        "",
        "## Dev metrics (evaluation harness, pairs mode, 95% bootstrap CIs)",
        "",
        "| head | metric | base | fine-tuned | difference (paired bootstrap) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['head']} | {r['metric']} | {_fmt(r['base'])} {_fmt(r['base_ci95'])} | "
            f"{_fmt(r['finetuned'])} {_fmt(r['finetuned_ci95'])} | "
            f"{_fmt(r['difference'])} {_fmt(r['difference_ci95'])} |"
        )
    lines += [
        "",
        f"Calibration temperatures refitted on dev: {json.dumps(temperatures)}.",
        "",
        "## Arguments",
        "",
        "```json",
        json.dumps(dict(args), indent=2),
        "```",
        "",
        f"Time taken: {seconds / 60:.1f} min.",
    ]
    if warnings:
        lines += ["", "## Warnings from the input checks", ""] + [f"- {w}" for w in warnings]
    lines += [
        "",
        "## Use",
        "",
        "```python",
        "from stancekit import StanceAnalyzer",
        "",
        f"analyzer = StanceAnalyzer(model={json.dumps(path)})",  # double quotes, as ruff formats
        "```",
        "",
    ]
    return "\n".join(lines)
