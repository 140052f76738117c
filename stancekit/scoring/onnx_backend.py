"""ONNX Runtime as the scorer's engine (``pip install stancekit[onnx]``).

:meth:`StanceModel.use_onnx <stancekit.scoring.model.StanceModel.use_onnx>` (or
``StanceModel.load(path, backend="onnx")``, ``StanceAnalyzer(backend="onnx")``) exports the
loaded PyTorch model to ONNX once, caches the file, and from then on runs every forward
pass in an ONNX Runtime session on the CPU. Tokenisation, windows, calibration and the
probabilities are stancekit's as with PyTorch; only the forward pass changes (logits equal
to float32 rounding; the test checks 1e-4 on the probabilities).

The cache: ``$STANCEKIT_CACHE/onnx`` (default ``$XDG_CACHE_HOME/stancekit/onnx``, else
``~/.cache/stancekit/onnx``), one file per distinct model, named by a SHA-256 of its
weights, its ``config.json`` and the exporter's version, so a changed model never reuses a
stale graph. Files are written to a temporary name and renamed into place, so a process
killed mid-export leaves no half file under the real name. The model folder itself stays
as it is (safetensors only). ONNX files are protobuf data, not pickles.

``quantize=True`` adds ONNX Runtime's dynamic int8 quantisation of the exported graph
(weights int8, activations quantised on the fly), cached beside it.

Export uses PyTorch's TorchScript-based exporter (``dynamo=False``), which needs no
package beyond ``onnx``; the newer dynamo exporter would also need ``onnxscript``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["OPSET", "OnnxRunner", "onnx_cache_dir", "onnx_runner"]

#: ONNX opset of the exported graphs.
OPSET = 17
#: Bumped when the export itself changes, so old cached graphs are not reused.
_EXPORT_FORMAT = "stancekit-onnx-1"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
#: The inputs of a packed model's graph (:mod:`stancekit.scoring.packed`): the window rows with
#: their position ids and 4-D additive mask, then each slot's row and pooled columns.
_PACKED_INPUTS = (
    "input_ids",
    "token_type_ids",
    "position_ids",
    "attention_mask",
    "slot_rows",
    "slot_cols",
)
_INSTALL_HINT = (
    "the ONNX backend needs onnxruntime and onnx: pip install 'stancekit[onnx]' "
    "(or: pip install onnxruntime onnx)"
)


def onnx_cache_dir() -> Path:
    """Where exported graphs are kept: ``$STANCEKIT_CACHE/onnx``, else
    ``$XDG_CACHE_HOME/stancekit/onnx``, else ``~/.cache/stancekit/onnx``."""
    root = os.environ.get("STANCEKIT_CACHE")
    if root:
        return Path(root) / "onnx"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "stancekit" / "onnx"


class OnnxRunner:
    """An ONNX Runtime session that maps padded ``input_ids`` / ``attention_mask`` /
    ``token_type_ids`` arrays to the classifier's logits."""

    def __init__(self, path: Path, *, threads: int | None = None):
        ort = _import_ort()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only
        self.path = path
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.input_names = tuple(i.name for i in self.session.get_inputs())
        self.threads = opts.intra_op_num_threads

        self._float_inputs = {
            i.name for i in self.session.get_inputs() if i.type == "tensor(float)"
        }

    def __call__(self, feats: Mapping[str, Any]) -> np.ndarray:
        """Logits (float32, ``(batch, num_labels)``) for padded inputs (arrays or tensors)."""
        feed = {
            k: np.asarray(feats[k], dtype=np.float32 if k in self._float_inputs else np.int64)
            for k in self.input_names
        }
        logits: np.ndarray = self.session.run(None, feed)[0]
        return logits.astype(np.float32, copy=False)

    def packed(self, tensors: Mapping[str, torch.Tensor], slots: Sequence[Any]) -> np.ndarray:
        """Logits of a packed batch (:func:`stancekit.scoring.packing.encode_packed`'s tensors and
        slots), for a graph exported from a packed model."""
        from stancekit.scoring.packing import slot_index

        rows, cols = slot_index(slots)
        return self({**tensors, "slot_rows": rows, "slot_cols": cols})


def onnx_runner(
    model: torch.nn.Module,
    tokenizer: Any,
    *,
    quantize: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> OnnxRunner:
    """An :class:`OnnxRunner` for ``model`` (a ``transformers`` sequence classifier on the
    CPU), exporting it (and quantising it) first unless the cache already holds it."""
    _import_ort()
    folder = Path(cache_dir) if cache_dir is not None else onnx_cache_dir()
    packed = bool(getattr(model, "packs_targets", False))
    names = _PACKED_INPUTS if packed else _input_names(tokenizer)
    fp32 = folder / f"{_model_key(model, names)}.onnx"
    target = fp32.with_name(fp32.stem + "-int8.onnx") if quantize else fp32
    if target.exists():
        try:
            return OnnxRunner(target, threads=threads)
        except Exception:  # a damaged file (a disk error, a stray write): build it again
            pass
    if quantize:
        if not fp32.exists():
            _export(model, tokenizer, names, fp32)
        _quantize(fp32, target)
    else:
        _export(model, tokenizer, names, fp32)
    return OnnxRunner(target, threads=threads)


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return onnxruntime


def _input_names(tokenizer: Any) -> tuple[str, ...]:
    enc = tokenizer("a", "b")
    return tuple(k for k in _INPUTS if k in enc)


def _model_key(model: torch.nn.Module, names: Sequence[str]) -> str:
    """SHA-256 (24 hex digits) of the weights, the model config, the inputs and the
    exporter versions."""
    h = hashlib.sha256()
    for part in (_EXPORT_FORMAT, torch.__version__, str(OPSET), ",".join(names)):
        h.update(part.encode() + b"\0")
    config = getattr(model, "config", None)
    if config is not None:
        h.update(config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous().reshape(-1)
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:24]


class _PackedLogits(torch.nn.Module):
    """A packed model's :meth:`~stancekit.scoring.packed.PackedPairModel.forward_indexed`."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.model.forward_indexed(*inputs)  # type: ignore[operator]
        return logits


def _packed_sample(tokenizer: Any) -> tuple[torch.Tensor, ...]:
    """Example inputs of a packed graph: two requests, a mention and a phrase target."""
    from stancekit.scoring.packing import PackedRequest, encode_packed, slot_index

    text = "Zas praised the CSTO and Armenia."
    reqs = [
        PackedRequest(text, "Zas", (0, 3), ((16, 20), None), ("", "nuclear power")),
        PackedRequest(text, None, None, ((25, 32),)),
    ]
    pb = encode_packed(tokenizer, reqs, max_length=64, stride=16)
    rows, cols = slot_index(pb.slots)
    return (*(pb.tensors[k] for k in _PACKED_INPUTS[:4]), rows, cols)


class _Logits(torch.nn.Module):
    """The classifier with positional inputs and the logits as its only output."""

    def __init__(self, model: torch.nn.Module, names: Sequence[str]):
        super().__init__()
        self.model = model
        self.names = tuple(names)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = self.model(**dict(zip(self.names, inputs, strict=True)))
        logits: torch.Tensor = out.logits
        return logits


def _export(model: torch.nn.Module, tokenizer: Any, names: Sequence[str], out: Path) -> None:
    if next(model.parameters()).device.type != "cpu":
        raise ValueError(
            "the ONNX backend exports from a model on the CPU; load it with device='cpu'"
        )
    wrapper: torch.nn.Module
    if tuple(names) == _PACKED_INPUTS:
        args = _packed_sample(tokenizer)
        axes = {k: {0: "batch", 1: "sequence"} for k in names[:3]}
        axes["attention_mask"] = {0: "batch", 2: "sequence", 3: "keys"}
        axes["slot_rows"] = axes["slot_cols"] = axes["logits"] = {0: "slots"}
        wrapper = _PackedLogits(model)
    else:
        sample = tokenizer(
            ["Zas → CSTO", "the author → Azerbaijan"],
            ["<h> Zas </h> praised the <t> CSTO </t>.", "Talks with <t> Baku </t> stalled again."],
            padding=True,
            return_tensors="pt",
        )
        args = tuple(sample[k] for k in names)
        axes = {k: {0: "batch", 1: "sequence"} for k in names}
        axes["logits"] = {0: "batch"}
        wrapper = _Logits(model, names)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".onnx.tmp", dir=out.parent)
    os.close(fd)
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and exporter deprecation chatter
            torch.onnx.export(
                wrapper,
                args,
                tmp,
                dynamo=False,
                input_names=list(names),
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=OPSET,
                do_constant_folding=True,
            )
        os.replace(tmp, out)
    finally:
        model.train(was_training)
        Path(tmp).unlink(missing_ok=True)


def _quantize(src: Path, out: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".onnx.tmp", dir=out.parent)
    os.close(fd)
    previous = logging.root.manager.disable
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger
            quantize_dynamic(src, tmp, weight_type=QuantType.QInt8)
        os.replace(tmp, out)
    finally:
        logging.disable(previous)
        Path(tmp).unlink(missing_ok=True)
