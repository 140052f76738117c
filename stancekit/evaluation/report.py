"""Writing an evaluation: ``report.md`` with its tables and PNG figures, each file
written atomically (:mod:`stancekit.atomic`; ``atomic_write`` is re-exported here).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stancekit.atomic import atomic_write
from stancekit.evaluation.figures import plot_confusion, plot_per_target, plot_reliability

if TYPE_CHECKING:
    from stancekit.evaluation import EvaluationReport

__all__ = ["atomic_write", "write_report"]


def _num(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def _ci(section: dict[str, Any], key: str) -> str:
    ci = (section.get("ci95") or {}).get(key)
    return "" if not ci else f" [{ci[0]:.3f}, {ci[1]:.3f}]"


def _head_section(name: str, sec: dict[str, Any], out: Path, lines: list[str]) -> None:
    lines += [f"## {name.capitalize()} (n = {sec['n']})", ""]
    lines += ["| metric | value (95% CI) |", "|---|---|"]
    lines.append(f"| macro-F1 | {_num(sec['macro_f1'])}{_ci(sec, 'macro_f1')} |")
    if sec.get("f_avg") is not None:
        lines.append(f"| F_avg (favor, against) | {_num(sec['f_avg'])}{_ci(sec, 'f_avg')} |")
    lines.append(f"| accuracy | {_num(sec['accuracy'])}{_ci(sec, 'accuracy')} |")
    lines.append(f"| Brier | {_num(sec.get('brier'))} |")
    lines.append(f"| ECE (10 bins) | {_num(sec.get('ece'))} |")
    lines += ["", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, m in sec["per_class"].items():
        lines.append(
            f"| {label} | {_num(m['precision'])} | {_num(m['recall'])} | "
            f"{_num(m['f1'])} | {m['support']} |"
        )
    cm = plot_confusion(
        sec["confusion"],
        sec["labels"],
        title=f"{name}: confusion",
        path=out / f"{name}_confusion.png",
    )
    lines += ["", f"![{name} confusion matrix]({cm.name})"]
    if sec.get("reliability"):
        rel = plot_reliability(
            sec["reliability"], title=f"{name}: reliability", path=out / f"{name}_reliability.png"
        )
        lines += [f"![{name} reliability diagram]({rel.name})"]
    lines.append("")


def write_report(report: EvaluationReport, directory: str | os.PathLike[str]) -> Path:
    """Write ``report.md`` and its figures into ``directory``; return the Markdown path."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    d = report.to_dict()
    lines = [
        f"# stancekit evaluation: {d['model']}",
        "",
        f"Mode **{d['mode']}**, {d['n_documents']} documents, {d['n_spans']} gold spans.",
        "",
    ]
    for head in ("stance", "sentiment"):
        if d[head] is not None:
            _head_section(head, d[head], out, lines)
    if d["extract"] is not None:
        e = d["extract"]
        lines += [
            "## Extraction",
            "",
            "| | precision | recall | F1 |",
            "|---|---|---|---|",
            f"| (holder, target, stance) | {_num(e['precision'])} | {_num(e['recall'])} "
            f"| {_num(e['f1'])} |",
            f"| holder attribution | {_num(e['holder_precision'])} | "
            f"{_num(e['holder_recall'])} | {_num(e['holder_f1'])} |",
            "",
        ]
    for title, key in (("target", "per_target"), ("holder", "per_holder")):
        groups = d[key]
        if not groups:
            continue
        lines += [
            f"## Per {title}",
            "",
            f"| {title} | n | stance macro-F1 | stance F_avg | sentiment macro-F1 |",
            "|---|---|---|---|---|",
        ]
        for name, g in groups.items():
            st, se = g["stance"] or {}, g["sentiment"] or {}
            lines.append(
                f"| {name} | {g['n']} | {_num(st.get('macro_f1'))} | "
                f"{_num(st.get('f_avg'))} | {_num(se.get('macro_f1'))} |"
            )
        bars = {
            n: {"macro_f1": (g["stance"] or g["sentiment"] or {}).get("macro_f1"), "n": g["n"]}
            for n, g in groups.items()
        }
        fig = plot_per_target(
            bars, metric="macro_f1", title=f"macro-F1 per {title}", path=out / f"per_{title}.png"
        )
        lines += ["", f"![macro-F1 per {title}]({fig.name})", ""]
    if d["directed"] is not None:
        dr = d["directed"]
        lines += [
            "## Directed pairs (5-class view of Park et al. 2021)",
            "",
            f"{dr['n_pairs']} pairs; macro-F1 {_num(dr['macro_f1'])}, "
            f"micro-F1 {_num(dr['micro_f1'])}.",
            "",
        ]
    return atomic_write(out / "report.md", "\n".join(lines) + "\n")
