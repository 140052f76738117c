"""What the recipe writes next to the model: ``metrics.json``
(:func:`stancekit.training.dev_metrics.build_metrics`) and the model card ``README.md``
(:func:`model_card`); :func:`write_card` writes both. The card's design-specific
paragraphs are in :mod:`stancekit.training.card_sections`, its hand-written parts are read
by :mod:`stancekit.training.card_notes`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stancekit.training.card_notes import read_card_notes
from stancekit.training.card_sections import (
    adapter_training_line,
    augmentation_lines,
    averaging_line,
    nli_line,
    packed_lines,
    per_pair_lines,
)
from stancekit.training.config import RecipeConfig

__all__ = ["RECIPE_FILES", "model_card", "write_card"]


def write_card(out: Path, config: RecipeConfig, metrics: dict[str, Any]) -> None:
    """Write ``metrics.json`` and the model card ``README.md`` into the model folder."""
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "README.md").write_text(model_card(config, metrics), encoding="utf-8")


#: The recipe file of each shipped model (the card's last line names it).
RECIPE_FILES = {
    "stancekit-minilm": "configs/fast-packed.json",
    "stancekit-mpnet": "configs/mpnet-model.json",
}

_SOURCES = {
    "dsa": (
        'Park, Pan & Joo, "Who Blames or Endorses Whom? Entity-to-Entity Directed '
        'Sentiment Extraction in News Text", Findings of ACL 2021',
        "free to use with citation",
    ),
    "newsmtsc": (
        'Hamborg & Donnay, "NewsMTSC: A Dataset for (Multi-)Target-dependent '
        'Sentiment Classification in Political News Articles", EACL 2021',
        "MIT-style",
    ),
    "ibm_claims": (
        'Bar-Haim et al., "Stance Classification of Context-Dependent Claims" '
        "(IBM Debater Claim Stance), EACL 2017",
        "CC BY-SA 3.0",
    ),
    "ibm_argq": (
        'Gretz et al., "A Large-scale Dataset for Argument Quality Ranking" '
        "(IBM-ArgQ-Rank-30k), AAAI 2020",
        "CC BY-SA 3.0",
    ),
    "gwsd": (
        'Luo, Card & Jurafsky, "Detecting Stance in Media on Global Warming", '
        "Findings of EMNLP 2020",
        "research use; no licence file",
    ),
    "vast": (
        'Allaway & McKeown, "Zero-Shot Stance Detection: A Dataset and Model using '
        'Generalized Topic Representations" (VAST), EMNLP 2020',
        "research use; no licence file",
    ),
    "snli": (
        'Bowman et al., "A large annotated corpus for learning natural language '
        'inference" (SNLI), EMNLP 2015',
        "CC BY-SA 4.0",
    ),
}


def _source_key(name: str) -> str:
    for key in sorted(_SOURCES, key=len, reverse=True):
        if name.startswith(key):
            return key
    return name


def _fmt(m: dict[str, Any]) -> str:
    return f"{m['value']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"


def _own(h: dict[str, Any]) -> str:
    """The cross-fitted own-temperature ECE cell (absent in metrics of older recipes)."""
    own = h.get("ece_own_temperature")
    return f"{_fmt(own)} (T {own['temperature']:.2f})" if own else "–"


def model_card(config: RecipeConfig, metrics: dict[str, Any]) -> str:
    """The model card (``README.md``) from the recipe and its ``metrics.json``
    (:func:`~stancekit.training.dev_metrics.build_metrics`)."""
    info = metrics.get("training", {})
    counts = info.get("train_set_counts", {})
    dsa_f1 = metrics["sets"].get("dsa_valid", {}).get("stance", {}).get("f1_per_label", {})
    weakest = min(dsa_f1.items(), key=lambda kv: kv[1]) if dsa_f1 else None
    distinct = info.get("train_set_size", 0)
    if any(d.repeat > 1 for d in config.datasets):  # train_set_size counts the copies
        distinct = sum(counts.values())
    epochs_seen = info.get("trained_examples_seen", 0) / max(distinct, 1)
    head_lines = (
        packed_lines(config, metrics)
        if config.design == "packed"
        else per_pair_lines(config, metrics)
    )
    lines = [
        f"# {config.name} {config.version}",
        "",
        *head_lines,
        "## Training data",
        "",
        "| dataset | file | pairs used | labels trained | source | licence |",
        "|---|---|---|---|---|---|",
    ]
    for spec in config.datasets:
        cite, lic = _SOURCES.get(_source_key(spec.name), ("see data README", "see data README"))
        head = "sentiment" if spec.name.startswith("newsmtsc") else "stance"
        extra = f" (cap {spec.cap})" if spec.cap else ""
        if spec.holdout_fraction:
            extra += f"; {spec.holdout_fraction:.0%} of {spec.holdout_group}s held out"
        if spec.repeat > 1:
            extra += f"; {spec.repeat} copies per epoch"
        lines.append(
            f"| {spec.name} | `{spec.file}` | {counts.get(spec.name, '?')}{extra} | "
            f"{head} | {cite} | {lic} |"
        )
    lines += [
        "",
        "DSA's directed labels (holder positive / negative / neutral toward the target) "
        "come in the data folder as stance `favor` / `against` / `none` and are used as "
        "such, both directions of each sentence; they train the stance head only (a "
        "holder's sentiment toward an entity is not how the sentence portrays it); "
        "NewsMTSC trains the sentiment head "
        "only (holder = the author); the other sets train the stance head with the author "
        "as holder. The loss masks the head a pair has no label for. " + nli_line(config),
        "",
        *augmentation_lines(config, counts, info),
        f"Training: {info.get('global_step', '?')} steps of batch {config.batch_size} "
        f"(≈{info.get('trained_examples_seen', '?')} pairs seen, "
        f"{distinct or '?'} distinct), AdamW lr {config.learning_rate}, "
        f"linear decay, warm-up {config.warmup_ratio:.0%}, max_length {config.max_length}, "
        f"seed {config.seed}, on 2 CPU cores"
        + (
            f", {info['train_seconds_this_run'] / 60:.0f} min of training"
            if isinstance(info.get("train_seconds_this_run"), (int, float))
            else ""
        )
        + (
            f" (stopped by the time budget before the planned {info.get('planned_steps')} steps)"
            if info.get("stopped_early")
            else ""
        )
        + "."
        + averaging_line(info)
        + adapter_training_line(config, info),
        "",
        "## Development metrics",
        "",
        f"Measured with the shipped {metrics.get('weights_dtype')} weights through "
        "`StanceModel.predict`. 95% percentile-bootstrap CIs over pairs "
        f"({metrics['bootstrap']['samples']} resamples). ECE uses {metrics['ece_bins']} "
        'equal-width confidence bins; "after" is with the temperatures below. '
        "Macro-F1 is over all three labels of the head; where a set lacks a label (ArgQ has "
        "no `none`), the macro-F1 over the labels present is given too.",
        "",
        f"Temperatures: stance {metrics['temperature_stance']} (fitted on "
        f"{metrics['calibration_sets']['stance']}), sentiment {metrics['temperature_sentiment']} "
        f"(fitted on {metrics['calibration_sets']['sentiment']}). The ECE after scaling on "
        "those two sets is in-sample for the (single) temperature parameter. "
        '"ECE, own T" is what a temperature fitted on data like the set itself gives '
        "(`stancekit calibrate`): two-fold cross-fitted, each half scaled with the "
        "temperature fitted on the other half; the temperature fitted on the whole set is "
        "in brackets.",
        "",
        "| set | head | n | macro-F1 | macro-F1 (present labels) "
        "| accuracy | ECE before | ECE after | ECE, own T |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in metrics["sets"].items():
        for head in ("stance", "sentiment"):
            if head in entry:
                h = entry[head]
                lines.append(
                    f"| {name} | {head} | {h['n']} | {_fmt(h['macro_f1'])} | "
                    f"{_fmt(h['macro_f1_present_labels'])} | {_fmt(h['accuracy'])} | "
                    f"{_fmt(h['ece_before'])} | {_fmt(h['ece_after'])} | {_own(h)} |"
                )
    directed = {
        n: e["directed_five_class"]
        for n, e in metrics["sets"].items()
        if "directed_five_class" in e
    }
    if directed:
        lines += [
            "",
            "5-class view of Park et al. (2021) over entity pairs labelled in both "
            "directions (neutral, positive/negative A→B, B→A; A is the entity mentioned "
            "first, as in the paper):",
            "",
        ]
        lines += [
            f"- {n}: {d['n_pairs']} pairs, macro-F1 {d['macro_f1']:.3f}, "
            f"micro-F1 {d['micro_f1']:.3f}"
            for n, d in directed.items()
        ]
    notes = {e.name: e.note for e in config.dev if e.note}
    held_notes = {
        f"{d.name}_heldout": f"{d.holdout_fraction:.0%} of {d.name} by {d.holdout_group}"
        + (f" (the group is the id's match of `{d.holdout_key}`)" if d.holdout_key else "")
        + ", never trained on"
        for d in config.datasets
        if d.holdout_fraction and d.format != "pipeline"  # unlabelled: nothing to measure
    }
    lines += ["", *[f"- `{k}`: {v}" for k, v in {**notes, **held_notes}.items()]]
    hand = read_card_notes(config.card_notes, config) if config.card_notes else None
    if hand:
        lines += ["", hand.sections.strip("\n")]
    lines += [
        "",
        "## Known limits",
        "",
        *(hand.limits if hand else []),
        (
            f"- The {config.adapter.frozen_layers} lower layers of the base were not adapted; "
            f"{epochs_seen:.1f} epochs over the training mix on 2 CPU cores. "
            if config.adapter
            else "- Small (22M-parameter) encoder trained on 2 CPU cores for "
            f"{epochs_seen:.1f} epochs over the training mix. "
        )
        + "Expect errors on sarcasm, reported-speech chains, negation and long sentences.",
        "- Pairs whose `holder → target` segment would leave the sentence no more than "
        "`window_stride` tokens (names of a hundred tokens or more) were dropped from "
        "training and dev sets; at inference `StanceModel.encode` cuts such names.",
        "- DSA is ~83% `none`: the stance head is conservative between named entities"
        + (
            f"; its weakest class on dsa_valid is `{weakest[0]}` (F1 {weakest[1]:.2f})."
            if weakest
            else "."
        ),
        "- The sentiment head was trained on NewsMTSC (author voice) and its reported-speech "
        "copies only; its output for other named holders is less tested.",
        "- English news and debate text only; topics and actors outside 2010s US/EU "
        "politics are under-represented. Test splits of the source sets were not used; "
        "the numbers above are development numbers, not test results.",
        "- Licences differ per set (CC BY-SA 3.0 for the IBM sets, CC BY-SA 4.0 for SNLI, "
        "research use for GWSD and VAST): check them before redistributing the weights "
        "commercially.",
        "",
        "Produced by `python -m stancekit.training.recipe --config "
        f"{RECIPE_FILES.get(config.name, 'RECIPE.json')}`; full numbers in `metrics.json`.",
        "",
    ]
    return "\n".join(lines)
