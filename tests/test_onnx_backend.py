"""The ONNX Runtime backend (``stancekit[onnx]``): same probabilities as PyTorch, one
export per model (cached outside the model folder), and clear refusals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from stancekit.scoring.model import PairInput, StanceModel

PAIRS = [
    PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)),
    PairInput("The author doubts Baku.", None, "Azerbaijan", None, (18, 22)),
    # longer than the tiny model's 48 tokens: scored in several windows
    PairInput(
        "Baku rejected the CSTO plan " + "and many more words " * 30 + "today.",
        None,
        "CSTO",
        None,
        (18, 22),
    ),
    PairInput("x", None, "NATO", None, None),
]


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STANCEKIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


def _needs_ort() -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")


def test_onnx_backend_gives_the_torch_probabilities(tiny_model_dir: Path, cache: Path) -> None:
    _needs_ort()
    ref = StanceModel.load(tiny_model_dir, device="cpu").predict(PAIRS, batch_size=2)
    onnx = StanceModel.load(tiny_model_dir, backend="onnx")
    assert onnx.backend == "onnx"
    got = onnx.predict(PAIRS, batch_size=2)
    assert got.windowed.tolist() == ref.windowed.tolist() == [False, False, True, False]
    np.testing.assert_allclose(got.stance, ref.stance, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.sentiment, ref.sentiment, atol=1e-4, rtol=0)


def test_onnx_export_is_cached_outside_the_model_folder_and_reused(
    tiny_model_dir: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_ort()
    before = sorted(p.name for p in tiny_model_dir.iterdir())
    StanceModel.load(tiny_model_dir, backend="onnx")
    assert [p.suffix for p in cache.iterdir()] == [".onnx"]
    assert sorted(p.name for p in tiny_model_dir.iterdir()) == before

    import stancekit.scoring.onnx_backend as ob

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(ob, "_export", no_export)
    again = StanceModel.load(tiny_model_dir, backend="onnx")
    assert again.predict(PAIRS[:1]).stance.shape == (1, 3)


def test_changed_weights_get_their_own_onnx_graph(tiny_model_dir: Path, cache: Path) -> None:
    _needs_ort()
    import torch

    a = StanceModel.load(tiny_model_dir, device="cpu")
    b = StanceModel.load(tiny_model_dir, device="cpu")
    with torch.no_grad():
        b.model.classifier.bias += 1.0
    ref_b = b.predict(PAIRS)
    a.use_onnx()
    b.use_onnx()
    assert a._onnx.path != b._onnx.path
    np.testing.assert_allclose(b.predict(PAIRS).stance, ref_b.stance, atol=1e-4, rtol=0)


def test_a_damaged_cached_graph_is_exported_again(tiny_model_dir: Path, cache: Path) -> None:
    _needs_ort()
    StanceModel.load(tiny_model_dir, backend="onnx")
    (graph,) = cache.iterdir()
    graph.write_bytes(b"not an onnx file")
    model = StanceModel.load(tiny_model_dir, backend="onnx")
    assert model.predict(PAIRS[:1]).stance.shape == (1, 3)
    assert graph.stat().st_size > 1000


def test_onnx_int8_scores_near_float32_and_cannot_be_saved(
    tiny_model_dir: Path, cache: Path, tmp_path: Path
) -> None:
    _needs_ort()
    ref = StanceModel.load(tiny_model_dir, device="cpu").predict(PAIRS)
    q = StanceModel.load(tiny_model_dir, backend="onnx", quantize=True)
    assert q.config.extra["quantized"] == "int8"
    assert sorted(p.name.endswith("-int8.onnx") for p in cache.iterdir()) == [False, True]
    np.testing.assert_allclose(q.predict(PAIRS).stance, ref.stance, atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="quantized"):
        q.save(tmp_path / "out")


@pytest.mark.slow  # spaCy
def test_analyzer_with_onnx_backend_gives_the_torch_judgements(
    tiny_model_dir: Path, cache: Path, seed_text: str
) -> None:
    _needs_ort()
    from stancekit.analyzer import StanceAnalyzer

    torch_res = StanceAnalyzer(model=tiny_model_dir, device="cpu").analyze(seed_text)
    onnx_res = StanceAnalyzer(model=tiny_model_dir, backend="onnx").analyze(seed_text)
    assert len(onnx_res.judgements) == len(torch_res.judgements) > 0
    for a, b in zip(onnx_res.judgements, torch_res.judgements, strict=True):
        assert (a.sentence, a.holder_name, a.target) == (b.sentence, b.holder_name, b.target)
        for k, v in b.stance_probs.items():
            assert a.stance_probs[k] == pytest.approx(v, abs=1e-4)


def test_onnx_backend_refuses_a_gpu_device_and_unknown_backends(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="CPU only"):
        StanceModel.load(tiny_model_dir, backend="onnx", device="cuda")
    with pytest.raises(ValueError, match="backend"):
        StanceModel.load(tiny_model_dir, backend="tensorrt")


def test_onnx_backend_without_onnxruntime_says_how_to_install(
    tiny_model_dir: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"stancekit\[onnx\]"):
        StanceModel.load(tiny_model_dir, backend="onnx")
