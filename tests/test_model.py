from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stancekit.errors import ModelConfigError, ModelNotFoundError
from stancekit.model import CONFIG_NAME, ModelConfig, PairInput, StanceModel, Template

PAIRS = [
    PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)),
    PairInput("Baku rejected the claims.", None, "Azerbaijan", None, (0, 4)),
    PairInput("Nothing here.", "Someone", "NATO"),
]


def test_template_marks_holder_and_target_mentions() -> None:
    first, second = Template().format(PAIRS[0])
    assert first == "Zas → CSTO"
    assert second == "<h> Zas </h> praised the <t> CSTO </t>."


def test_template_uses_author_for_the_texts_own_voice() -> None:
    first, _ = Template().format(PAIRS[1])
    assert first == "the author → Azerbaijan"


def test_template_rejects_a_span_outside_the_sentence() -> None:
    with pytest.raises(ValueError, match="outside the sentence of length 4"):
        Template().format(PairInput("Text", "A", "B", (0, 9), None))


def test_probabilities_are_distributions(tiny_model: StanceModel) -> None:
    scores = tiny_model.predict(PAIRS)
    assert scores.stance.shape == (3, 3) and scores.sentiment.shape == (3, 3)
    np.testing.assert_allclose(scores.stance.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(scores.sentiment.sum(axis=1), 1.0, rtol=1e-6)
    assert scores.stance_labels == ("favor", "against", "none")


def test_predictions_do_not_depend_on_batch_size_or_order(tiny_model: StanceModel) -> None:
    full = tiny_model.predict(PAIRS, batch_size=64).stance
    one = tiny_model.predict(PAIRS, batch_size=1).stance
    rev = tiny_model.predict(PAIRS[::-1], batch_size=2).stance[::-1]
    np.testing.assert_allclose(full, one, atol=1e-5)
    np.testing.assert_allclose(full, rev, atol=1e-5)


def test_empty_batch_gives_empty_scores(tiny_model: StanceModel) -> None:
    scores = tiny_model.predict([])
    assert scores.stance.shape == (0, 3)


def test_long_sentence_is_scored_in_windows_not_truncated(tiny_model: StanceModel) -> None:
    filler = "and the talks went on for a long time " * 30
    sentence = f"Zas said {filler}that the CSTO helped."
    t0 = sentence.index("CSTO")
    pair = PairInput(sentence, "Zas", "CSTO", (0, 3), (t0, t0 + 4))
    scores = tiny_model.predict([pair, PAIRS[0]])
    assert scores.windowed.tolist() == [True, False]
    enc = tiny_model.encode([pair])
    assert len(enc["input_ids"]) > 1  # several windows, none longer than max_length
    assert max(len(x) for x in enc["input_ids"]) <= tiny_model.config.max_length


def test_save_and_load_round_trip_gives_identical_predictions(
    tiny_model: StanceModel, tmp_path: Path
) -> None:
    out = tiny_model.save(tmp_path / "m")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", CONFIG_NAME, "tokenizer.json"} <= names
    assert not names & {"pytorch_model.bin", "training_args.bin"}
    assert not list(tmp_path.glob(".m.*")), "temporary folder left behind"
    again = StanceModel.load(out, device="cpu")
    np.testing.assert_allclose(
        again.predict(PAIRS).stance, tiny_model.predict(PAIRS).stance, atol=1e-6
    )
    cfg = json.loads((out / CONFIG_NAME).read_text())
    assert len(cfg["weights_sha256"]) == 64


def test_missing_model_folder_names_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelNotFoundError, match=r"nowhere.*does not exist.*--model DIR"):
        StanceModel.load(missing)


def test_pickle_weights_are_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, bad)
    (bad / "model.safetensors").rename(bad / "pytorch_model.bin")
    with pytest.raises(ModelNotFoundError, match="pickle weights"):
        StanceModel.load(bad)


def test_corrupted_weights_fail_the_checksum(tiny_model_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, bad)
    weights = bad / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelConfigError, match="SHA-256 does not match"):
        StanceModel.load(bad)


def test_config_with_unknown_fields_is_rejected() -> None:
    with pytest.raises(ModelConfigError, match="unknown fields"):
        ModelConfig.from_dict({"labels": ["a"]}, source="x/stancekit.json")


def test_config_round_trips_through_dict() -> None:
    cfg = ModelConfig(name="m", temperature_stance=1.7)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_an_enormous_holder_name_is_cut_not_a_crash(tiny_model: StanceModel) -> None:
    junk = "x" * 50 + " ⌘" * 300
    pair = PairInput("The CSTO met again in Moscow on Monday.", junk, "CSTO", None, (4, 8))
    scores = tiny_model.predict([pair, PAIRS[0]])
    assert scores.stance.shape == (2, 3)


def test_identical_pairs_are_scored_once_with_identical_results(
    tiny_model: StanceModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20))
    b = PairInput("Baku blamed Yerevan.", None, "Yerevan")
    encoded: list[int] = []
    real = StanceModel.encode

    def counting(self: StanceModel, pairs: Any) -> Any:
        encoded.append(len(pairs))
        return real(self, pairs)

    monkeypatch.setattr(StanceModel, "encode", counting)
    scores = tiny_model.predict([a, b, a, a])
    assert encoded == [2]
    np.testing.assert_array_equal(scores.stance[0], scores.stance[2])
    single = tiny_model.predict([b])
    np.testing.assert_allclose(scores.stance[1], single.stance[0], atol=1e-6)


def test_quantized_model_stays_close_and_refuses_to_be_saved(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    plain = StanceModel.load(tiny_model_dir, device="cpu")
    q = StanceModel.load(tiny_model_dir, device="cpu", quantize=True)
    assert "quantized" in type(q.model.bert.encoder.layer[0].attention.self.query).__module__
    a, b = plain.predict(PAIRS).stance, q.predict(PAIRS).stance
    np.testing.assert_allclose(b.sum(axis=1), 1.0, rtol=1e-6)
    assert np.abs(a - b).max() < 0.05
    with pytest.raises(ValueError, match="cannot save a quantized model"):
        q.save(tmp_path / "q")
