from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stancekit.errors import ModelConfigError, ModelNotFoundError, UnsafeModelWarning
from stancekit.scoring.bases import sha256_file as _sha256
from stancekit.scoring.model import (
    CONFIG_NAME,
    ModelConfig,
    PairInput,
    StanceModel,
    Template,
    default_model_path,
)

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


# -- untrusted model folders -----------------------------------------------------------------


@pytest.fixture
def pickled_dir(tiny_model_dir: Path, tiny_model: StanceModel, tmp_path: Path) -> Path:
    """The tiny model with its weights as a pickle (pytorch_model.bin) instead of safetensors."""
    import torch

    out = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, out)
    (out / "model.safetensors").unlink()
    torch.save(tiny_model.model.state_dict(), out / "pytorch_model.bin")
    cfg = json.loads((out / CONFIG_NAME).read_text())
    cfg["weights_sha256"] = _sha256(out / "pytorch_model.bin")
    (out / CONFIG_NAME).write_text(json.dumps(cfg))
    return out


def test_pickle_weights_are_refused_by_default_with_the_reason_and_the_fix(
    pickled_dir: Path,
) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        StanceModel.load(pickled_dir)
    message = str(info.value)
    for part in ("['pytorch_model.bin']", "arbitrary code", "safetensors", "allow_pickle=True"):
        assert part in message


def test_allow_pickle_loads_them_with_a_loud_warning_and_no_remote_code(
    pickled_dir: Path, tiny_model: StanceModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    seen: list[dict[str, Any]] = []
    for cls in (AutoModelForSequenceClassification, AutoTokenizer):
        real = cls.from_pretrained

        def spy(*args: Any, _real: Any = real, **kwargs: Any) -> Any:
            seen.append(kwargs)
            return _real(*args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", spy)
    with pytest.warns(UnsafeModelWarning, match="LOADING PICKLE WEIGHTS.*arbitrary code"):
        model = StanceModel.load(pickled_dir, device="cpu", allow_pickle=True)
    np.testing.assert_allclose(model.predict(PAIRS).stance, tiny_model.predict(PAIRS).stance)
    assert len(seen) == 2 and all(kw["trust_remote_code"] is False for kw in seen)
    assert seen[0]["use_safetensors"] is False


def test_allow_pickle_still_checks_the_recorded_sha256(pickled_dir: Path) -> None:
    weights = pickled_dir / "pytorch_model.bin"
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.warns(UnsafeModelWarning), pytest.raises(ModelConfigError, match="SHA-256"):
        StanceModel.load(pickled_dir, allow_pickle=True)


def test_allow_pickle_reads_only_pytorch_model_bin(pickled_dir: Path) -> None:
    (pickled_dir / "pytorch_model.bin").rename(pickled_dir / "weights.pt")
    with pytest.raises(
        ModelNotFoundError, match=r"reads 'pytorch_model.bin' only.*\['weights.pt'\]"
    ):
        StanceModel.load(pickled_dir, allow_pickle=True)


def test_analyzer_passes_allow_pickle_on(pickled_dir: Path) -> None:
    from stancekit.analyzer import StanceAnalyzer

    with pytest.raises(ModelNotFoundError, match="pickle weights"):
        StanceAnalyzer(model=pickled_dir)
    with pytest.warns(UnsafeModelWarning):
        StanceAnalyzer(model=pickled_dir, allow_pickle=True, device="cpu")


def test_a_folder_without_any_weights_says_so(tiny_model_dir: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(tiny_model_dir, bare)
    (bare / "model.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match=r"model\.safetensors' is missing\. Copy"):
        StanceModel.load(bare, allow_pickle=True)


@pytest.mark.skipif(
    not (default_model_path() / CONFIG_NAME).exists(), reason="default model not built"
)
def test_default_model_records_the_sha256_of_its_weights() -> None:
    cfg = json.loads((default_model_path() / CONFIG_NAME).read_text())
    assert len(cfg["weights_sha256"]) == 64
    assert _sha256(default_model_path() / "model.safetensors") == cfg["weights_sha256"]


# -- config schema ---------------------------------------------------------------------------

BAD_CONFIGS = [
    ({"name": ""}, ["name=''", "non-empty string"]),
    ({"version": 1}, ["version=1", "non-empty string"]),
    ({"stance_labels": "favor"}, ["stance_labels='favor'", "list of two or more labels"]),
    ({"stance_labels": ["favor"]}, ["stance_labels=['favor']", "two or more"]),
    ({"sentiment_labels": ["a", 1]}, ["sentiment_labels=['a', 1]", "not a non-empty string"]),
    ({"stance_labels": ["a", "a"]}, ["stance_labels=['a', 'a'] repeats a label"]),
    ({"sentiment_labels": ["none", "x"]}, ["['none']", "both", "rename"]),
    ({"max_length": "128"}, ["max_length='128' must be a positive integer"]),
    ({"max_length": True}, ["max_length=True must be a positive integer"]),
    ({"max_length": 0}, ["max_length=0"]),
    ({"window_stride": -1}, ["window_stride=-1"]),
    ({"window_stride": 48.0}, ["window_stride=48.0"]),
    ({"window_stride": 125}, ["window_stride=125 must be below max_length=128", "lower"]),
    ({"temperature_stance": 0}, ["temperature_stance=0 must be a finite number > 0", "1.0"]),
    ({"temperature_sentiment": -1.5}, ["temperature_sentiment=-1.5"]),
    ({"temperature_stance": float("inf")}, ["temperature_stance=inf"]),
    ({"temperature_stance": float("nan")}, ["temperature_stance=nan"]),
    ({"temperature_stance": "1.0"}, ["temperature_stance='1.0' must be a number"]),
    ({"temperature_sentiment": None}, ["temperature_sentiment=None must be a number"]),
    ({"temperature_stance": True}, ["temperature_stance=True must be a number"]),
    ({"weights_sha256": "abc"}, ["weights_sha256='abc'", "64 lower-case hex", "null"]),
    ({"weights_sha256": "A" * 64}, ["64 lower-case hex"]),
    ({"extra": []}, ["extra=[] must be an object"]),
    ({"template": []}, ["template=[] must be an object"]),
    ({"template": {"bogus": 1}}, ["unknown template fields ['bogus']"]),
    ({"template": {"first": ""}}, ["template.first=''"]),
    ({"template": {"first": "{holder} {x}"}}, ["template.first=", "{x}", "only {holder}"]),
    ({"template": {"first": "{holder:>999999999}"}}, ["has the field {holder}", "format spec"]),
    ({"template": {"first": "{holder!r}"}}, ["has the field {holder}"]),
    ({"template": {"first": "{0}"}}, ["has the field {0}"]),
    ({"template": {"first": "{"}}, ["does not format", "{{"]),
    ({"template": {"holder_markers": ["<h>"]}}, ["template.holder_markers=['<h>']", "two"]),
    ({"template": {"target_markers": ["<t>", ""]}}, ["template.target_markers"]),
]


@pytest.mark.parametrize(("change", "parts"), BAD_CONFIGS, ids=[str(c) for c, _ in BAD_CONFIGS])
def test_config_schema_errors_name_the_field_the_value_and_the_fix(
    change: dict[str, Any], parts: list[str]
) -> None:
    raw = {**ModelConfig().to_dict(), **change}
    with pytest.raises(ModelConfigError) as info:
        ModelConfig.from_dict(raw, source="m/stancekit.json")
    message = str(info.value)
    assert message.startswith("m/stancekit.json: ")
    for part in parts:
        assert part in message


def test_config_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ModelConfigError, match=r"x: the config must be a JSON object, got list"):
        ModelConfig.from_dict([1], source="x")  # type: ignore[arg-type]


def test_every_valid_default_field_passes_the_schema() -> None:
    cfg = ModelConfig(temperature_stance=2, window_stride=120, weights_sha256="a" * 64)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg


def test_a_bad_config_in_a_folder_is_refused_before_the_weights_are_read(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "badcfg"
    shutil.copytree(tiny_model_dir, bad)
    cfg = json.loads((bad / CONFIG_NAME).read_text())
    (bad / CONFIG_NAME).write_text(json.dumps({**cfg, "temperature_stance": -1}))
    with pytest.raises(ModelConfigError, match=r"badcfg/stancekit.json: temperature_stance=-1"):
        StanceModel.load(bad)


def test_max_length_beyond_the_encoders_positions_is_refused(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    long = tmp_path / "long"
    shutil.copytree(tiny_model_dir, long)
    cfg = json.loads((long / CONFIG_NAME).read_text())
    (long / CONFIG_NAME).write_text(json.dumps({**cfg, "max_length": 200}))
    with pytest.raises(ModelConfigError, match=r"max_length=200 is more than.*=128"):
        StanceModel.load(long)


def test_predict_returns_freed_memory_after_each_batch(
    tiny_model: StanceModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.scoring.model as model_module

    calls: list[int] = []

    def counted() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(model_module, "release_freed_memory", counted)
    pairs = [PairInput(("word " * k) + "CSTO.", None, "CSTO", None, None) for k in range(1, 11)]
    tiny_model.predict(pairs, batch_size=4)
    assert len(calls) == 3  # 10 windows in batches of 4
    monkeypatch.setenv("STANCEKIT_MALLOC_TRIM", "0")  # the opt-out
    tiny_model.predict(pairs[:5], batch_size=4)
    assert len(calls) == 3


def test_shipped_models_are_found_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stancekit.scoring.model import MODEL_NAMES, model_path

    assert model_path("fast").name == MODEL_NAMES["fast"] == "stancekit-minilm"
    assert model_path("accurate").name == "stancekit-mpnet"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast").mkdir()  # a folder of that name wins over the name
    assert model_path("fast") == Path("fast")
    assert model_path(tmp_path / "x") == tmp_path / "x"


def test_stancekit_model_env_takes_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from stancekit.scoring.model import default_model_path

    monkeypatch.setenv("STANCEKIT_MODEL", "fast")
    assert default_model_path().name == "stancekit-minilm"


def test_a_name_whose_model_is_not_shipped_says_which_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stancekit.errors import ModelNotFoundError
    from stancekit.scoring import model as model_mod

    monkeypatch.setitem(model_mod.MODEL_NAMES, "future", "stancekit-not-there")
    with pytest.raises(ModelNotFoundError, match="model='future' names stancekit-not-there") as e:
        StanceModel.load("future")
    assert "'fast'" in str(e.value)
