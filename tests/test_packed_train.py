"""Training a packed model through the recipe (design "packed"): grouping, batches,
finalize, resume and distillation from a per-pair teacher."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_recipe import write_recipe

from stancekit.errors import RecipeError
from stancekit.scoring.model import PairInput
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example
from stancekit.training.packed_train import group_requests, request_batches

SENT = "Alvarez praised Brenner and attacked Corvin."


def _ex(holder: str | None, target: str, source: str = "d", doc: str = "1") -> Example:
    t = SENT.index(target)
    hs = None if holder is None else (SENT.index(holder), SENT.index(holder) + len(holder))
    return Example(PairInput(SENT, holder, target, hs, (t, t + len(target))), 0, None, source, doc)


def test_examples_of_one_sentence_and_holder_become_one_request() -> None:
    exs = [
        _ex("Alvarez", "Brenner"),
        _ex("Alvarez", "Corvin"),
        _ex(None, "Brenner"),
        _ex("Alvarez", "Corvin", source="other"),
    ]
    requests, members = group_requests(exs)
    assert members == [[0, 1], [2], [3]]
    assert requests[0].target_spans == (exs[0].pair.target_span, exs[1].pair.target_span)
    assert requests[1].holder is None


def test_request_batches_are_a_fixed_partition_of_about_batch_size_judgements() -> None:
    sizes = [1, 3, 2, 1, 1, 2, 4, 1]
    lengths = [50, 10, 30, 20, 80, 60, 40, 70]
    a = request_batches(sizes, lengths, 4, seed=3)
    assert sorted(i for b in a for i in b) == list(range(len(sizes)))
    assert all(sum(sizes[i] for i in b) >= 4 for b in a[:-1])
    assert a == request_batches(sizes, lengths, 4, seed=3)
    # one length-sorted group holds them all here; groups of one batch follow the seed
    assert request_batches(sizes, lengths, 4, seed=3, group=1) != request_batches(
        sizes, lengths, 4, seed=4, group=1
    )


def test_a_packed_recipe_refuses_settings_it_does_not_support() -> None:
    base = {"datasets": [{"name": "d", "file": "d.jsonl"}], "design": "packed"}
    with pytest.raises(RecipeError, match=r"design='packed' does not support \['train_seeds'\]"):
        RecipeConfig.from_dict({**base, "train_seeds": [1, 2]})
    with pytest.raises(RecipeError, match="design='stacked' must be 'pair' or 'packed'"):
        RecipeConfig.from_dict({**base, "design": "stacked"})


@pytest.mark.slow
def test_a_packed_recipe_trains_finalizes_and_resumes_as_if_never_stopped(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safetensors.torch import load_file

    from stancekit.scoring.model import StanceModel
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(design="packed", max_steps=4, save_steps=2)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path)]
    assert main(argv) == 0
    log = capsys.readouterr().out
    assert "(sentence, holder) requests" in log and "resuming" not in log
    sm = StanceModel.load(out, device="cpu")
    assert sm.packed
    s = sm.predict([PairInput("Alvarez praised Brenner.", "Alvarez", "Brenner", (0, 7), (16, 23))])
    assert s.stance.shape == (1, 3)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["sets"]) == {"stance_dev", "sentiment_dev"}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "once per holder" in card and "AutoModelForSequenceClassification" not in card
    straight = load_file(str(tmp_path / "work" / "final" / "model.safetensors"))

    # the same run stopped by its time budget after one step, then resumed, ends with the
    # same weights
    cfg.update(work_dir=str(tmp_path / "again"), max_train_minutes=1e-9)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main([*argv, "--phase", "train"]) == 0
    assert "reached at step 1; stopping" in capsys.readouterr().out
    cfg.update(max_train_minutes=None)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main([*argv, "--phase", "train"]) == 0
    assert "resuming the packed model from step 1 of 4" in capsys.readouterr().out
    resumed = load_file(str(tmp_path / "again" / "final" / "model.safetensors"))
    for k, v in straight.items():
        np.testing.assert_allclose(resumed[k].numpy(), v.numpy(), atol=1e-6)


@pytest.mark.slow
def test_a_packed_student_learns_from_a_per_pair_teacher_scored_once(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    from safetensors.torch import load_file

    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(design="packed", distill_from=str(tiny_model_dir), distill_alpha=1.0)
    cfg.update(learning_rate=1e-2)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path), "--phase", "train"]
    assert main(argv) == 0
    work = tmp_path / "work"
    probs = np.load(work / "teacher-pairs.npy")
    info = json.loads((work / "train_info.json").read_text())
    assert probs.shape == (info["train_set_size"], 6)
    np.testing.assert_allclose(probs[:, :3].sum(axis=1), 1.0, atol=1e-5)
    distilled = load_file(str(work / "final" / "model.safetensors"))

    cfg.update(distill_from=None, work_dir=str(tmp_path / "plain"))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    assert main(argv) == 0
    plain = load_file(str(tmp_path / "plain" / "final" / "model.safetensors"))
    assert any(not torch.allclose(distilled[k], plain[k]) for k in plain)

    cfg.update(distill_from=str(tiny_model_dir), work_dir=str(work))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    capsys.readouterr()
    assert main([*argv, "--max-steps", "3"]) == 0
    log = capsys.readouterr().out
    assert "teacher scored" not in log and "resuming the packed model from step 2 of 3" in log


@pytest.mark.slow
def test_a_packed_student_trains_on_unlabelled_pipeline_pairs_with_its_teacher(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    news = {"id": "n1", "text": "Nikol Pashinian said the CSTO failed Armenia.", "spans": []}
    (data / "news.jsonl").write_text(json.dumps(news) + "\n", encoding="utf-8")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["datasets"].append({"name": "news", "file": "news.jsonl", "format": "pipeline"})
    cfg.update(design="packed", distill_from=str(tiny_model_dir), max_steps=2)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path), "--phase", "train"]
    assert main(argv) == 0
    assert "news: the pipeline built" in capsys.readouterr().out
    info = json.loads((tmp_path / "work" / "train_info.json").read_text())
    assert info["train_set_counts"]["news"] >= 3  # author and Pashinian toward CSTO, ...
    assert info["distilled_from"]["unlabelled_sets"] == ["news"]
    probs = np.load(tmp_path / "work" / "teacher-pairs.npy")
    assert probs.shape == (info["train_set_size"], 6)


@pytest.mark.slow
def test_a_set_with_distill_false_is_not_scored_by_the_teacher_and_learns_its_labels(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["datasets"][1]["distill"] = False
    cfg.update(design="packed", distill_from=str(tiny_model_dir), max_steps=2)
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    argv = ["--data", str(data), "--out", str(out), "--config", str(cfg_path), "--phase", "train"]
    assert main(argv) == 0
    info = json.loads((tmp_path / "work" / "train_info.json").read_text())
    counts = info["train_set_counts"]
    off = sum(n for name, n in counts.items() if name.split("+")[0] == "sentiment_set")
    assert off > 0
    probs = np.load(tmp_path / "work" / "teacher-pairs.npy")
    assert probs.shape == (info["train_set_size"] - off, 6)
    assert info["distilled_from"]["labels_only_sets"] == ["sentiment_set"]
    assert f"on {info['train_set_size'] - off} of {info['train_set_size']} pairs" in (
        capsys.readouterr().out
    )


def test_a_packed_recipe_refuses_init_from_a_per_pair_model(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from stancekit.training.recipe import main

    data, cfg_path, out = write_recipe(tmp_path, tiny_model_dir)
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg.update(design="packed", init_from=str(tiny_model_dir))
    cfg_path.write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(RecipeError, match="is a 'pair' model, but this recipe trains design="):
        main(["--data", str(data), "--config", str(cfg_path), "--out", str(out)])
    assert not out.exists()
