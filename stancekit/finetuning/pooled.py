"""Fine-tuning an adapter model (stance model 1.0, ``accurate``: a LoRA adapter and a
marker-pooling head over a pinned base, :mod:`stancekit.scoring.pairmodel`).

A loaded adapter model scores with its LoRA merged into the base. To train it further,
:func:`trainable_copy` rebuilds the model as PEFT would train it: the pinned base (SHA-256
checked), the model's own adapter loaded unmerged as trainable LoRA weights (same rank,
alpha and adapted modules) and a copy of its head; everything else stays frozen.
:func:`~stancekit.finetuning.finetune` trains that copy with the same loop as a per-pair
model, and :func:`merged` folds the trained adapter back into the base for scoring. The
saved folder is again a small adapter and head over the same pinned base, loaded as the
shipped one is.

Example::

    >>> from stancekit import finetune
    >>> res = finetune("seeds/csto-armenia-2022-11-28.gold.jsonl", base="accurate",
    ...                out="/tmp/sk-ft", epochs=1, min_per_class=1, quiet=True)  # doctest: +SKIP
"""

from __future__ import annotations

import copy

from stancekit.scoring.model import StanceModel
from stancekit.scoring.pairmodel import MarkerPairClassifier, load_base_encoder, load_lora_weights

__all__ = ["merged", "trainable_copy"]


def trainable_copy(sm: StanceModel) -> StanceModel:
    """A training copy of the adapter model ``sm``: the pinned base with ``sm``'s LoRA
    adapter loaded unmerged (PEFT; the LoRA weights trainable) and a trainable copy of its
    head (``model.encoder`` is the PEFT model). ``sm`` itself is not changed.

    Raises ValueError when ``sm`` is not an adapter model or its adapter does not fit the
    base."""
    from peft import LoraConfig, get_peft_model

    model, adapter = sm.model, sm.config.adapter
    if not isinstance(model, MarkerPairClassifier) or adapter is None:
        raise ValueError(
            f"model {sm.config.name!r} is not an adapter model (no LoRA adapter over a pinned "
            "base); fine-tune it as a per-pair or packed model"
        )
    acfg, weights = model.adapter_config, model.adapter_weights
    if acfg is None or weights is None:
        raise ValueError(
            f"model {sm.config.name!r} holds no unmerged LoRA adapter (adapter_weights is "
            "None); load it from its folder with StanceModel.load"
        )
    encoder = load_base_encoder(adapter["base"], weights_sha256=adapter["base_weights_sha256"])
    lcfg = LoraConfig(
        r=int(acfg["r"]),
        lora_alpha=acfg["lora_alpha"],
        lora_dropout=float(acfg.get("lora_dropout") or 0.0),
        target_modules=acfg["target_modules"],
        bias="none",
    )
    peft_encoder = get_peft_model(encoder, lcfg)
    misfit = load_lora_weights(peft_encoder, weights)
    if misfit:
        raise ValueError(
            f"model {sm.config.name!r}: its adapter does not fit the base {adapter['base']!r} "
            f"({misfit})"
        )
    head = copy.deepcopy(model.head).float()
    for p in head.parameters():
        p.requires_grad = True
    train_model = MarkerPairClassifier(peft_encoder, head)
    train_model.adapter_config = dict(acfg)
    return StanceModel(train_model, sm.tokenizer, sm.config, device="cpu")


def merged(trained: StanceModel) -> StanceModel:
    """The trained copy of :func:`trainable_copy` as an inference model: its LoRA folded
    into the base (as loading its saved folder does), the unmerged adapter kept for
    saving. ``trained`` must not be used afterwards (PEFT merges in place)."""
    from peft import get_peft_model_state_dict

    peft_encoder = trained.model.encoder
    weights = {
        k: v.detach().clone().contiguous()
        for k, v in get_peft_model_state_dict(peft_encoder).items()
    }
    head = trained.model.head
    model = MarkerPairClassifier(peft_encoder.merge_and_unload(), head)
    model.adapter_config = trained.model.adapter_config
    model.adapter_weights = weights
    model.eval()
    return StanceModel(model, trained.tokenizer, trained.config, device="cpu")
