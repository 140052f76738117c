"""stancekit.finetune on a packed model (stancekit.finetuning.packed): the saved folder
predicts like the trained model, an interrupted run resumes to the same weights, early
stopping keeps the best epoch, freezing leaves the lower layers as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_finetuning import FAST, PROBE, PROBE_TARGETS, make_docs, probe_at_save

from stancekit import finetune


def _weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_a_packed_base_fine_tunes_into_a_packed_folder_that_predicts_like_it(
    tmp_path: Path, tiny_packed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.scoring.model import StanceModel

    before = probe_at_save(monkeypatch)
    out = tmp_path / "tuned"
    result = finetune(make_docs(30), base=tiny_packed_dir, out=out, quiet=True, **FAST)
    assert result.steps > 0 and result.best_step is not None
    tuned = StanceModel.load(out)
    assert tuned.packed
    base, new = _weights(tiny_packed_dir), _weights(out)
    assert any(not np.allclose(base[k], new[k]) for k in base)  # it trained
    after = StanceAnalyzer(model=out, targets=PROBE_TARGETS).analyze(PROBE, id="probe")
    got = [dict(j.stance_probs) for j in after.judgements]
    assert len(got) == len(before["stance"]) > 0
    for a, b in zip(before["stance"], got, strict=True):
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], atol=1e-5)
    assert not out.with_name("tuned.work").exists()


def test_an_interrupted_packed_run_resumes_to_the_weights_of_an_uninterrupted_one(
    tmp_path: Path, tiny_packed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.finetuning.packed as fp

    docs, args = make_docs(30), {**FAST, "epochs": 3, "early_stopping_patience": 5}
    whole = finetune(docs, base=tiny_packed_dir, out=tmp_path / "whole", quiet=True, **args)

    real = fp.save_checkpoint  # type: ignore[attr-defined]
    saves: list[int] = []

    def interrupting(folder: Path, model: Any, opt: Any, sched: Any, step: int, *a: Any) -> None:
        real(folder, model, opt, sched, step, *a)
        saves.append(step)
        raise KeyboardInterrupt("simulated interruption after the first epoch")

    monkeypatch.setattr(fp, "save_checkpoint", interrupting)
    out = tmp_path / "tuned"
    with pytest.raises(KeyboardInterrupt):
        finetune(docs, base=tiny_packed_dir, out=out, quiet=True, **args)
    assert not out.exists() and len(saves) == 1 and saves[0] < whole.steps
    monkeypatch.setattr(fp, "save_checkpoint", real)
    resumed = finetune(docs, base=tiny_packed_dir, out=out, quiet=True, resume=True, **args)
    assert resumed.steps == whole.steps and resumed.best_step == whole.best_step
    a, b = _weights(tmp_path / "whole"), _weights(out)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=1e-4, err_msg=k)


def test_packed_early_stopping_keeps_the_best_epoch(
    tmp_path: Path, tiny_packed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.finetuning.packed as fp

    scores = iter([0.5, 0.4, 0.3, 0.9])
    monkeypatch.setattr(fp, "dev_score", lambda *a, **k: next(scores))
    args = {**FAST, "epochs": 4, "early_stopping_patience": 2}
    res = finetune(make_docs(30), base=tiny_packed_dir, out=tmp_path / "m", quiet=True, **args)
    per_epoch = res.steps // 4
    assert res.best_step == per_epoch  # epoch 1; epochs 2 and 3 were worse, so it stopped
    assert res.stopped_early
    assert next(scores) == 0.9  # epoch 4 never ran


def test_freezing_a_packed_model_leaves_its_embeddings_as_they_were(
    tmp_path: Path, tiny_packed_dir: Path
) -> None:
    out = tmp_path / "tuned"
    finetune(make_docs(30), base=tiny_packed_dir, out=out, quiet=True, freeze_layers=1, **FAST)
    base, new = _weights(tiny_packed_dir), _weights(out)
    emb = next(k for k in base if "word_embeddings" in k)
    np.testing.assert_array_equal(base[emb], new[emb])
    assert any(not np.allclose(base[k], new[k]) for k in base if k.startswith("head."))


def test_dev_score_is_the_macro_f1_of_the_head_the_dev_set_has(tiny_packed_dir: Path) -> None:
    from sklearn.metrics import f1_score

    from stancekit.finetuning.data import to_examples
    from stancekit.finetuning.packed import dev_score
    from stancekit.scoring.model import StanceModel

    sm = StanceModel.load(tiny_packed_dir)
    dev = to_examples(make_docs(9), source="dev")
    pred = sm.predict([e.pair for e in dev]).stance.argmax(1)
    gold = [int(e.stance or 0) for e in dev]  # every span here has a stance
    want = f1_score(gold, pred, average="macro", labels=sorted(set(gold)))
    assert dev_score(sm, dev, "stance") == pytest.approx(want)
    assert dev_score(sm, dev, "sentiment") == 0.0  # no sentiment labels
