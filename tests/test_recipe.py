"""The default-model recipe end to end on a tiny data folder: train, finalize, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

STANCE = [
    ("Alvarez praised Brenner for the new budget.", "Alvarez", "Brenner", "favor"),
    ("Alvarez attacked Brenner over the tax plan.", "Alvarez", "Brenner", "against"),
    ("Corvin met Dalton in the capital on Monday.", "Corvin", "Dalton", "none"),
    ("Dalton thanked Corvin for the generous aid.", "Dalton", "Corvin", "favor"),
    ("Corvin condemned Dalton for the border raid.", "Corvin", "Dalton", "against"),
    ("Eskew and Farrow arrived at the summit.", "Eskew", "Farrow", "none"),
]
SENTIMENT = [
    ("The Greenleaf plan was a remarkable success.", "Greenleaf", "positive"),
    ("Critics called the Greenleaf plan a disaster.", "Greenleaf", "negative"),
    ("The Harlow council meets on Tuesday.", "Harlow", "neutral"),
    ("Harlow's new school won a national award.", "Harlow", "positive"),
    ("Harlow's hospital failed its inspection again.", "Harlow", "negative"),
    ("The Greenleaf report runs to forty pages.", "Greenleaf", "neutral"),
]


def _stance_doc(i: int, text: str, holder: str, target: str, label: str) -> dict[str, Any]:
    h, t = text.index(holder), text.index(target)
    span = {
        "start": 0,
        "end": len(text),
        "holder": holder,
        "target": target,
        "stance": label,
        "holder_mention": [h, h + len(holder)],
        "target_mention": [t, t + len(target)],
    }
    return {"id": f"s{i}", "text": text, "spans": [span]}


def _sentiment_doc(i: int, text: str, target: str, label: str) -> dict[str, Any]:
    t = text.index(target)
    span = {
        "start": 0,
        "end": len(text),
        "holder": None,
        "target": target,
        "sentiment": label,
        "target_mention": [t, t + len(target)],
    }
    return {"id": f"m{i}", "text": text, "spans": [span]}


def _write(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")


def write_recipe(tmp_path: Path, encoder: Path) -> tuple[Path, Path, Path]:
    """A data folder, a recipe config naming its files (training ``encoder``, a model
    folder), and the model folder to write."""
    data = tmp_path / "data"
    data.mkdir()
    stance = [_stance_doc(i, *row) for i, row in enumerate(STANCE)]
    sentiment = [_sentiment_doc(i, *row) for i, row in enumerate(SENTIMENT)]
    _write(data / "stance_train.jsonl", stance)
    _write(data / "sentiment_train.jsonl", sentiment)
    _write(data / "stance_dev.jsonl", stance[::-1])
    _write(data / "sentiment_dev.jsonl", sentiment[::-1])
    config = {
        "_comment": "a smoke-test recipe",
        "name": "tiny-recipe",
        "version": "0.0.1",
        "encoder": str(encoder),
        "datasets": [
            {"name": "stance_set", "file": "stance_train.jsonl"},
            {"name": "sentiment_set", "file": "sentiment_train.jsonl", "weight": 0.5},
        ],
        "dev": [
            {"name": "stance_dev", "file": "stance_dev.jsonl", "note": "stance dev"},
            {"name": "sentiment_dev", "file": "sentiment_dev.jsonl"},
        ],
        "calibrate_stance_on": "stance_dev",
        "calibrate_sentiment_on": "sentiment_dev",
        "batch_size": 4,
        "max_length": 64,
        "window_stride": 16,
        "max_steps": 2,
        "save_steps": 2,
        "save_total_limit": 2,
        "logging_steps": 1,
        "work_dir": str(tmp_path / "work"),
        "num_threads": 2,
        "bootstrap_samples": 20,
        "ece_bins": 5,
        "eval_batch_size": 8,
    }
    cfg_path = tmp_path / "recipe.json"
    cfg_path.write_text(json.dumps(config), encoding="utf-8")
    return data, cfg_path, tmp_path / "model"


def test_recipe_trains_finalizes_and_resumes(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tiny 1-layer encoder of conftest stands in for MiniLM to keep this fast."""
    from stancekit.scoring.model import PairInput, StanceModel
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main(argv) == 0
    log = capsys.readouterr().out
    assert "resuming from" not in log

    model = StanceModel.load(out, device="cpu")
    scores = model.predict([PairInput("Alvarez praised Brenner.", "Alvarez", "Brenner")])
    assert scores.stance.shape == (1, 3)
    card = json.loads((out / "stancekit.json").read_text(encoding="utf-8"))
    assert card["temperature_stance"] > 0 and card["temperature_sentiment"] > 0
    assert len(card["weights_sha256"]) == 64
    assert card["extra"]["training"]["global_step"] == 2
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["sets"]) == {"stance_dev", "sentiment_dev"}
    assert set(metrics["sets"]["stance_dev"]) == {"n_pairs", "stance", "windowed_pairs"}
    head = metrics["sets"]["sentiment_dev"]["sentiment"]
    keys = ("macro_f1", "macro_f1_present_labels", "accuracy", "ece_before", "ece_after")
    for key in (*keys, "ece_own_temperature"):
        lo, hi = head[key]["ci95"]
        assert lo <= hi
    assert metrics["temperature_stance"] == card["temperature_stance"]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "# tiny-recipe 0.0.1" in readme and "| ECE, own T |" in readme
    names = {p.name for p in out.iterdir()}
    assert not [n for n in names if "checkpoint" in n or n.endswith((".bin", ".pt", ".pth"))]
    assert "optimizer.pt" not in names and "trainer_state.json" not in names

    # a rerun with the same work dir continues from the last checkpoint
    assert main([*argv, "--phase", "train", "--max-steps", "3"]) == 0
    log = capsys.readouterr().out
    assert "resuming from" in log and "checkpoint-2" in log
    info = json.loads((tmp_path / "work" / "train_info.json").read_text())
    assert info["global_step"] == 3


def test_recipe_with_two_train_seeds_saves_the_mean_of_two_runs_from_one_start(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    from safetensors.torch import load_file

    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["train_seeds"] = [1, 2]
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main([*argv, "--phase", "train"]) == 0
    work = tmp_path / "work"
    a = load_file(str(work / "seed-1" / "member.safetensors"))
    b = load_file(str(work / "seed-2" / "member.safetensors"))
    soup = load_file(str(work / "final" / "model.safetensors"))
    floats = [k for k, v in a.items() if v.is_floating_point()]
    assert any(not torch.equal(a[k], b[k]) for k in floats)  # the seeds trained differently
    for k in floats:
        assert torch.allclose(soup[k], (a[k].double() + b[k].double()).div(2).float(), atol=1e-6)
    info = json.loads((work / "train_info.json").read_text())
    assert info["soup_of_train_seeds"] == [1, 2]
    assert [r["train_seed"] for r in info["runs"]] == [1, 2]
    assert info["trained_examples_seen"] == 2 * 2 * 4

    # a rerun keeps the finished runs instead of training them again
    capsys.readouterr()
    assert main([*argv, "--phase", "train"]) == 0
    log = capsys.readouterr().out
    assert "run 1/2 (train seed 1) is done" in log and "run 2/2 (train seed 2) is done" in log
    again = load_file(str(work / "final" / "model.safetensors"))
    assert all(torch.equal(again[k], soup[k]) for k in floats)


def test_recipe_intermediate_stage_trains_once_and_the_main_stage_starts_from_it(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    from safetensors.torch import load_file

    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["intermediate"] = [{"name": "stance_pre", "file": "stance_train.jsonl"}]
    cfg["intermediate_learning_rate"] = 1e-3
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main([*argv, "--phase", "train", "--max-steps", "1"]) == 0
    work = tmp_path / "work"
    stage = load_file(str(work / "intermediate" / "weights.safetensors"))
    info = json.loads((work / "train_info.json").read_text())
    assert info["intermediate"]["train_set_counts"] == {"stance_pre": len(STANCE)}
    assert info["intermediate"]["learning_rate"] == 1e-3
    assert info["intermediate"]["global_step"] == 1

    # resumed with more steps: the stage is kept, the main stage goes on from checkpoint-1
    capsys.readouterr()
    assert main([*argv, "--phase", "train", "--max-steps", "2"]) == 0
    log = capsys.readouterr().out
    assert "intermediate stage is done" in log
    assert load_file(str(work / "intermediate" / "weights.safetensors")).keys() == stage.keys()

    # the main stage started from the stage's weights, not the encoder's: with a zero
    # learning rate its final weights are the stage's
    cfg.update(learning_rate=1e-12, work_dir=str(tmp_path / "work0"))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    (tmp_path / "work0").mkdir()
    (tmp_path / "work0" / "intermediate").mkdir()
    (work / "intermediate" / "weights.safetensors").rename(
        tmp_path / "work0" / "intermediate" / "weights.safetensors"
    )
    (work / "intermediate" / "run_info.json").rename(
        tmp_path / "work0" / "intermediate" / "run_info.json"
    )
    assert main([*argv, "--phase", "train", "--max-steps", "1"]) == 0
    final = load_file(str(tmp_path / "work0" / "final" / "model.safetensors"))
    floats = [k for k, v in stage.items() if v.is_floating_point()]
    assert all(torch.allclose(final[k], stage[k], atol=1e-6) for k in floats)


def test_recipe_refuses_a_held_out_slice_in_the_intermediate_stage() -> None:
    from stancekit.errors import RecipeError
    from stancekit.training.config import RecipeConfig

    base = {"datasets": [{"name": "a", "file": "a.jsonl"}]}
    bad = {"name": "b", "file": "b.jsonl", "holdout_fraction": 0.1}
    with pytest.raises(RecipeError, match=r"intermediate datasets \['b'\] set holdout_fraction"):
        RecipeConfig.from_dict({**base, "intermediate": [bad]})
    with pytest.raises(RecipeError, match="names must be unique"):
        RecipeConfig.from_dict({**base, "intermediate": [{"name": "a", "file": "a.jsonl"}]})


def test_recipe_distils_from_a_teacher_scored_once_on_the_training_inputs(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(distill_from=str(tiny_model_dir), distill_alpha=1.0, learning_rate=1e-2)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main([*argv, "--phase", "train"]) == 0
    log = capsys.readouterr().out
    assert "teacher's argmax agrees with the training labels" in log
    work = tmp_path / "work"
    info = json.loads((work / "train_info.json").read_text())
    # a folder outside the working one is recorded by its name, not the machine's path
    assert info["distilled_from"] == {"teacher": tiny_model_dir.name, "alpha": 1.0}
    probs = np.load(work / "teacher.npy")
    assert probs.shape == (info["train_set_size"], 6)
    distilled = load_file(str(work / "final" / "model.safetensors"))

    # the same run on the labels alone ends elsewhere: the teacher's targets were used
    cfg.update(distill_from=None, work_dir=str(tmp_path / "plain"))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main([*argv, "--phase", "train"]) == 0
    plain = load_file(str(tmp_path / "plain" / "final" / "model.safetensors"))
    assert any(not torch.allclose(distilled[k], plain[k]) for k in plain)

    # a resumed run reads the teacher's probabilities from the cache
    cfg.update(distill_from=str(tiny_model_dir), work_dir=str(work))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    capsys.readouterr()
    assert main([*argv, "--phase", "train", "--max-steps", "3"]) == 0
    log = capsys.readouterr().out
    assert "teacher probabilities from the cache" in log and "resuming from" in log


def test_recipe_trains_a_teacher_recipe_once_then_distils_from_it(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.scoring.model import StanceModel
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    teacher_cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    teacher_cfg.update(name="tiny-teacher", max_steps=1)
    (tmp_path / "teacher.json").write_text(json.dumps(teacher_cfg), encoding="utf-8")
    cfg = {**teacher_cfg, "name": "tiny-recipe", "max_steps": 2, "distill_from": "teacher.json"}
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main([*argv, "--phase", "train"]) == 0
    log = capsys.readouterr().out
    assert "training the teacher model of" in log
    teacher = tmp_path / "work" / "teacher" / "model"
    assert StanceModel.load(teacher, device="cpu").config.name == "tiny-teacher"
    assert (teacher / "metrics.json").is_file()  # finalized: calibrated, measured
    info = json.loads((tmp_path / "work" / "train_info.json").read_text())
    assert info["distilled_from"]["teacher"] == "teacher.json"
    assert info["global_step"] == 2

    assert main([*argv, "--phase", "train", "--max-steps", "3"]) == 0
    log = capsys.readouterr().out
    assert "teacher model is done" in log and "training the teacher" not in log


@pytest.mark.parametrize("design", ["pair", "packed"])
def test_recipe_init_from_starts_the_main_stage_from_a_trained_model(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str], design: str
) -> None:
    import torch
    from safetensors.torch import load_file

    from stancekit.training.recipe import main

    # a trained model to continue from: a first run of the recipe, finalized
    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(learning_rate=1e-2, fp16_weights=False, design=design)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--config", str(cfg_path)]
    assert main([*argv, "--out", str(out)]) == 0
    first = load_file(str(out / "model.safetensors"))

    # with a zero learning rate, a run that starts from it ends on its weights
    cfg.update(init_from="model", learning_rate=1e-12, work_dir=str(tmp_path / "cont"))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")  # "model": next to the config
    capsys.readouterr()
    assert main([*argv, "--out", str(tmp_path / "m2"), "--phase", "train"]) == 0
    assert "the main stage starts from the weights of" in capsys.readouterr().out
    cont = load_file(str(tmp_path / "cont" / "final" / "model.safetensors"))
    floats = [k for k, v in first.items() if v.is_floating_point()]
    assert all(torch.allclose(cont[k], first[k], atol=1e-6) for k in floats)
    info = json.loads((tmp_path / "cont" / "train_info.json").read_text())
    assert info["initialized_from"]["model"] == out.name
    assert len(info["initialized_from"]["weights_sha256"]) == 64

    # the same run from the bare encoder ends elsewhere
    cfg.update(init_from=None, work_dir=str(tmp_path / "bare"))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main([*argv, "--out", str(tmp_path / "m3"), "--phase", "train"]) == 0
    bare = load_file(str(tmp_path / "bare" / "final" / "model.safetensors"))
    assert any(not torch.allclose(bare[k], first[k], atol=1e-4) for k in floats)


def test_recipe_refuses_init_from_a_model_with_another_template(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    import shutil

    from stancekit.training.distill import DistillError
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    other = tmp_path / "other"
    shutil.copytree(tiny_model_dir, other)
    meta = json.loads((other / "stancekit.json").read_text(encoding="utf-8"))
    meta["template"]["first"] = "{target} ← {holder}"
    (other / "stancekit.json").write_text(json.dumps(meta), encoding="utf-8")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["init_from"] = str(other)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    with pytest.raises(DistillError, match=r"init_from=.*other.*input template"):
        main([*argv, "--phase", "train"])


def test_recipe_refuses_init_from_with_an_intermediate_stage() -> None:
    from stancekit.errors import RecipeError
    from stancekit.training.config import RecipeConfig

    base = {"datasets": [{"name": "a", "file": "a.jsonl"}], "init_from": "m"}
    with pytest.raises(RecipeError, match="init_from='m' and an intermediate stage"):
        RecipeConfig.from_dict({**base, "intermediate": [{"name": "b", "file": "b.jsonl"}]})


def test_recipe_trains_one_model_for_the_same_init_from_and_distill_from_recipe(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    base = json.loads(cfg_path.read_text(encoding="utf-8"))
    (tmp_path / "base.json").write_text(json.dumps({**base, "max_steps": 1}), encoding="utf-8")
    cfg = {**base, "max_steps": 1, "init_from": "base.json", "distill_from": "base.json"}
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main([*argv, "--phase", "train"]) == 0
    log = capsys.readouterr().out
    assert log.count("training the teacher model of") == 1 and "init model" not in log
    teacher = tmp_path / "work" / "teacher" / "model"
    assert f"the main stage starts from the weights of {teacher}" in log
    assert not (tmp_path / "work" / "init").exists()
