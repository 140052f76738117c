"""Model folders on disk (stancekit.scoring.modelfiles): what is written, what is read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stancekit.errors import ModelConfigError
from stancekit.scoring.model import PairInput, StanceModel
from stancekit.scoring.modelfiles import read_folder, write_folder

PAIR = PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20))


@pytest.mark.parametrize("fixture", ["tiny_model_dir", "tiny_packed_dir"])
def test_a_written_folder_reads_back_to_the_same_probabilities(
    fixture: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sm = StanceModel.load(request.getfixturevalue(fixture), device="cpu")
    out = write_folder(
        tmp_path / "copy",
        sm.model,
        sm.tokenizer,
        sm.config,
        packed=sm.packed,
        extra_files={"NOTES.md": "hello"},
    )
    assert (out / "NOTES.md").read_text() == "hello"
    assert not [p for p in out.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    model, tokenizer, config = read_folder(out)
    again = StanceModel(model, tokenizer, config, device="cpu")
    np.testing.assert_allclose(again.predict([PAIR]).stance, sm.predict([PAIR]).stance, atol=1e-6)
    recorded = json.loads((out / "stancekit.json").read_text())["weights_sha256"]
    assert recorded == config.weights_sha256 and len(recorded) == 64


def test_write_folder_refuses_an_extra_file_that_is_not_a_plain_name(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    sm = StanceModel.load(tiny_model_dir, device="cpu")
    with pytest.raises(ValueError, match="must be a plain file name"):
        write_folder(
            tmp_path / "x", sm.model, sm.tokenizer, sm.config, extra_files={"../y.md": "no"}
        )
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob(".x.*"))


def test_read_folder_refuses_weights_that_do_not_match_their_recorded_hash(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_model_dir, bad)
    cfg = json.loads((bad / "stancekit.json").read_text())
    cfg["weights_sha256"] = "0" * 64
    (bad / "stancekit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match="SHA-256 does not match weights_sha256"):
        read_folder(bad)
