"""The recipe's adapter stage on a tiny MPNet base: train from the layer cache, resume
exactly, finalize into an adapter model folder; and the adapter settings' checks."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BASE
from test_recipe import write_recipe

from stancekit.errors import RecipeError
from stancekit.training.adapter import batches_for_epoch, compute_in_bf16, native_bf16
from stancekit.training.config import RecipeConfig
from stancekit.training.specs import AdapterSpec

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, **adapter: object) -> tuple[Path, RecipeConfig, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    data, cfg_path, out = write_recipe(tmp_path, Path("unused"))
    raw = json.loads(cfg_path.read_text())
    raw["encoder"] = TINY_BASE
    raw["learning_rate"] = 1e-3
    raw["max_steps"] = 4
    raw["adapter"] = {"frozen_layers": 1, "lora_r": 4, "lora_alpha": 8, "bf16": False, **adapter}
    cfg_path.write_text(json.dumps(raw))
    return data, RecipeConfig.from_json(cfg_path), out


def test_adapter_recipe_trains_and_finalizes_a_loadable_folder(
    tmp_path: Path, tiny_base: Path
) -> None:
    from stancekit.scoring.model import PairInput, StanceModel
    from stancekit.training.recipe import train_default

    data, cfg, out = _config(tmp_path, bf16=True)
    train_default(data, out, cfg)
    names = {p.name for p in out.iterdir()}
    assert {"adapter_model.safetensors", "head.safetensors", "stancekit.json"} <= names
    assert "model.safetensors" not in names
    sm = StanceModel.load(out, device="cpu")
    assert sm.pooled
    s = sm.predict([PairInput("Alvarez praised Brenner.", "Alvarez", "Brenner", (0, 7), (16, 23))])
    assert s.stance.shape == (1, 3)
    info = json.loads((out / "stancekit.json").read_text())["extra"]["training"]
    assert info["global_step"] == 4
    assert info["base"]["name"] == TINY_BASE
    assert info["adapter"]["pooling"] == "markers"
    assert info["bf16_compute"] is native_bf16()  # asked for; used where the CPU has it
    work = Path(cfg.work_dir)
    meta = json.loads((work / "layer-cache" / "meta.json").read_text())
    assert meta["done"] == meta["n"] == info["train_set_size"]


def test_bf16_is_used_only_where_the_cpu_computes_it_natively(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert compute_in_bf16(AdapterSpec(bf16=True), native=True) is True
    assert capsys.readouterr().out == ""
    assert compute_in_bf16(AdapterSpec(bf16=True), native=False) is False
    assert "no native bfloat16" in capsys.readouterr().out
    assert compute_in_bf16(AdapterSpec(bf16=False), native=True) is False
    assert compute_in_bf16(AdapterSpec(bf16=False), native=False) is False
    assert capsys.readouterr().out == ""


def test_a_resumed_adapter_run_equals_an_uninterrupted_one(
    tmp_path: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors.torch import load_file

    from stancekit.training.recipe import train

    data, cfg, _ = _config(tmp_path / "a")
    straight = train(cfg, data)
    _, cfg_b, _ = _config(tmp_path / "b")
    train(replace(cfg_b, max_train_minutes=1e-9), data)  # stops after its first step
    assert "stopping" in capsys.readouterr().out
    resumed = train(cfg_b, data)
    assert "resuming the adapter from step 1 of 4" in capsys.readouterr().out
    for name in ("adapter_model.safetensors", "head.safetensors"):
        a, b = load_file(str(straight / name)), load_file(str(resumed / name))
        for k in a:
            np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), atol=1e-6)


def test_cls_pooling_trains_a_smaller_head(tmp_path: Path, tiny_base: Path) -> None:
    from safetensors.torch import load_file

    from stancekit.training.recipe import train

    data, cfg, _ = _config(tmp_path, pooling="cls")
    head = load_file(str(train(cfg, data) / "head.safetensors"))
    assert tuple(head["dense.weight"].shape) == (16, 16)


def test_a_layer_cache_made_for_other_inputs_is_refused(tmp_path: Path, tiny_base: Path) -> None:
    from stancekit.training.recipe import train

    data, cfg, _ = _config(tmp_path)
    train(replace(cfg, max_steps=1), data)
    assert cfg.adapter is not None
    with pytest.raises(ValueError, match="made for other inputs"):
        train(replace(cfg, adapter=replace(cfg.adapter, frozen_layers=2)), data)


def test_batches_cover_every_row_once_and_repeat_per_seed_and_epoch() -> None:
    lengths = np.arange(103) % 17
    a = batches_for_epoch(lengths, 8, seed=1, epoch=0)
    assert sorted(int(i) for b in a for i in b) == list(range(103))
    again = batches_for_epoch(lengths, 8, seed=1, epoch=0)
    assert all(np.array_equal(x, y) for x, y in zip(a, again, strict=True))
    other = batches_for_epoch(lengths, 8, seed=1, epoch=1)
    assert not all(np.array_equal(x, y) for x, y in zip(a, other, strict=True))


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("pooling", "mean", "pooling='mean' must be one of"),
        ("lora_r", 0, "lora_r=0 must be a positive int"),
        ("frozen_layers", -1, "frozen_layers=-1 must be a non-negative int"),
        ("lora_dropout", 1.0, r"lora_dropout=1.0 must be in \[0, 1\)"),
        ("head_learning_rate", 0, "head_learning_rate=0 must be > 0"),
    ],
)
def test_adapter_settings_are_checked(field: str, value: object, match: str) -> None:
    with pytest.raises(RecipeError, match=match):
        AdapterSpec(**{field: value})  # type: ignore[arg-type]


def test_adapter_needs_a_pinned_base(tmp_path: Path) -> None:
    from stancekit.training.adapter import new_pair_model

    _, cfg, _ = _config(tmp_path)
    with pytest.raises(RecipeError, match="encoder to be one of"):
        new_pair_model(replace(cfg, encoder="/some/folder"), cfg.adapter)  # type: ignore[arg-type]


def test_too_many_frozen_layers_are_refused(tmp_path: Path, tiny_base: Path) -> None:
    from stancekit.training.adapter import new_pair_model

    _, cfg, _ = _config(tmp_path)
    with pytest.raises(RecipeError, match="frozen_layers=3 leaves none"):
        new_pair_model(cfg, AdapterSpec(frozen_layers=3))


def test_a_pooling_ablation_reuses_the_shared_layer_cache(
    tmp_path: Path, tiny_base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.training.recipe import train

    shared = str(tmp_path / "shared-cache")
    data, cfg, _ = _config(tmp_path / "a", layer_cache=shared)
    train(replace(cfg, max_steps=1), data)
    assert "layer cache: " in capsys.readouterr().out
    _, cfg_b, _ = _config(tmp_path / "b", layer_cache=shared, pooling="cls")
    train(replace(cfg_b, max_steps=1), data)
    assert "layer cache: " not in capsys.readouterr().out  # read, not rebuilt
    assert not (Path(cfg_b.work_dir) / "layer-cache").exists()


def test_init_from_loads_a_trained_adapter_model_exactly(tmp_path: Path, tiny_base: Path) -> None:
    from stancekit.scoring.model import PairInput, StanceModel
    from stancekit.training.adapter import init_from_adapter_model, new_pair_model
    from stancekit.training.calibration import uncalibrated
    from stancekit.training.recipe import train_default

    data, cfg, out = _config(tmp_path / "a")
    train_default(data, out, cfg)
    assert cfg.adapter is not None
    sm, peft_encoder = new_pair_model(cfg, cfg.adapter)
    pairs = [
        PairInput("Alvarez praised Brenner.", "Alvarez", "Brenner", (0, 7), (16, 23)),
        PairInput("Brenner attacked Alvarez at length.", "Brenner", "Alvarez", (0, 7), (17, 24)),
    ]
    before = sm.predict(pairs).stance
    started = init_from_adapter_model(out, cfg, peft_encoder, sm.model.head)  # type: ignore[arg-type]
    sm.model.eval()
    # LoRA merged into the base, fp16 parts; the fresh model has no temperature
    shipped = uncalibrated(StanceModel.load(out, device="cpu"))
    loaded = sm.predict(pairs).stance
    np.testing.assert_allclose(loaded, shipped.predict(pairs).stance, atol=1e-4)
    assert np.abs(before - loaded).max() > 1e-3  # the fresh model differed
    assert (
        started["weights_sha256"]
        == json.loads((out / "stancekit.json").read_text())["adapter"]["files_sha256"][
            "adapter_model.safetensors"
        ]
    )


def test_an_adapter_recipe_continues_from_init_from(tmp_path: Path, tiny_base: Path) -> None:
    from stancekit.training.recipe import train, train_default

    data, cfg, out = _config(tmp_path / "a")
    train_default(data, out, cfg)
    _, cfg_b, _ = _config(tmp_path / "b")
    info = json.loads(
        (train(replace(cfg_b, init_from=str(out)), data) / "train_info.json").read_text()
    )
    assert (
        info["initialized_from"]["weights_sha256"]
        == json.loads((out / "stancekit.json").read_text())["adapter"]["files_sha256"][
            "adapter_model.safetensors"
        ]
    )
    plain = json.loads((train(cfg_b, data) / "train_info.json").read_text())
    assert "initialized_from" not in plain


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"pooling": "cls"}, "pools 'markers', but adapter.pooling='cls'"),
        ({"lora_r": 8}, "its adapter has r=4, this recipe's 8"),
        ({"frozen_layers": 2}, "its adapter has target_modules="),
    ],
)
def test_init_from_an_adapter_of_other_settings_is_refused(
    tmp_path: Path, tiny_base: Path, change: dict[str, object], match: str
) -> None:
    from stancekit.training.adapter import init_from_adapter_model, new_pair_model
    from stancekit.training.recipe import train_default

    data, cfg, out = _config(tmp_path / "a")
    train_default(data, out, cfg)
    assert cfg.adapter is not None
    other = replace(cfg, adapter=replace(cfg.adapter, **change))  # type: ignore[arg-type]
    assert other.adapter is not None
    sm, peft_encoder = new_pair_model(other, other.adapter)
    with pytest.raises(RecipeError, match=match):
        init_from_adapter_model(out, other, peft_encoder, sm.model.head)  # type: ignore[arg-type]


def test_init_from_a_full_model_is_refused_for_an_adapter_recipe(
    tmp_path: Path, tiny_base: Path
) -> None:
    from stancekit.training.adapter import init_from_adapter_model, new_pair_model

    _, cfg, _ = _config(tmp_path)
    assert cfg.adapter is not None
    full = tmp_path / "full"
    full.mkdir()
    (full / "stancekit.json").write_text(json.dumps({"name": "m", "version": "1"}))
    sm, peft_encoder = new_pair_model(cfg, cfg.adapter)
    with pytest.raises(RecipeError, match="is not an adapter model"):
        init_from_adapter_model(full, cfg, peft_encoder, sm.model.head)  # type: ignore[arg-type]


def test_init_from_an_adapter_folder_with_a_changed_file_is_refused(
    tmp_path: Path, tiny_base: Path
) -> None:
    from stancekit.training.adapter import init_from_adapter_model, new_pair_model
    from stancekit.training.recipe import train_default

    data, cfg, out = _config(tmp_path / "a")
    train_default(data, out, cfg)
    assert cfg.adapter is not None
    head = out / "head.safetensors"
    head.write_bytes(head.read_bytes()[:-2] + b"\x00\x00")
    sm, peft_encoder = new_pair_model(cfg, cfg.adapter)
    with pytest.raises(RecipeError, match=r"init_from=.*head\.safetensors: SHA-256 does not match"):
        init_from_adapter_model(out, cfg, peft_encoder, sm.model.head)  # type: ignore[arg-type]
    head.unlink()
    with pytest.raises(RecipeError, match=r"init_from=.*head\.safetensors' is missing"):
        init_from_adapter_model(out, cfg, peft_encoder, sm.model.head)  # type: ignore[arg-type]


def test_an_adapter_recipe_distils_from_a_teacher_except_on_labels_only_sets(
    tmp_path: Path, tiny_base: Path
) -> None:
    from safetensors.numpy import load_file

    from stancekit.training.recipe import train, train_default

    data, cfg, out = _config(tmp_path / "a")
    train_default(data, out, cfg)  # the teacher: a trained adapter model of the same base
    _, cfg_b, _ = _config(tmp_path / "b")
    datasets = tuple(
        replace(d, distill=False) if d.name == "sentiment_set" else d for d in cfg_b.datasets
    )
    distilled = replace(cfg_b, datasets=datasets, distill_from=str(out), distill_alpha=1.0)
    final = train(distilled, data)
    info = json.loads((final / "train_info.json").read_text())
    assert info["distilled_from"]["alpha"] == 1.0
    assert info["distilled_from"]["labels_only_sets"] == ["sentiment_set"]
    # the teacher scored the distilled set's rows only, with its marker positions
    probs = np.load(Path(distilled.work_dir) / "teacher.npy")
    n_stance_rows = info["train_set_counts"]["stance_set"] + sum(
        n for k, n in info["train_set_counts"].items() if k.startswith("stance_set+")
    )
    assert probs.shape == (n_stance_rows, 6)
    assert np.allclose(probs[:, :3].sum(1), 1.0, atol=1e-5)
    # learning the teacher instead of the labels changes what is learnt
    plain = train(replace(cfg_b, work_dir=str(tmp_path / "plain")), data)
    a = load_file(str(final / "adapter_model.safetensors"))
    b = load_file(str(plain / "adapter_model.safetensors"))
    assert any(not np.allclose(a[k], b[k]) for k in a)
