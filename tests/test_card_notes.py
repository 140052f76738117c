from __future__ import annotations

import re
from pathlib import Path

import pytest

from stancekit.errors import RecipeError
from stancekit.training.card_notes import read_card_notes
from stancekit.training.config import RecipeConfig

_CFG = RecipeConfig.from_dict(
    {"name": "m", "version": "2.0.0", "datasets": [{"name": "d", "file": "d.jsonl"}]}
)


def test_notes_of_the_recipes_version_give_sections_and_limits(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text(
        "<!-- card notes for m 2.0.0 -->\n<!-- editors -->\n### Speed\n\nFast.\n\n"
        "## Known limits\n\n- Slow on\n  long text.\n- Misses irony.\n"
    )
    notes = read_card_notes(f, _CFG)
    assert notes is not None
    assert "editors" not in notes.sections and notes.sections.strip() == "### Speed\n\nFast."
    assert notes.limits == ("- Slow on long text.", "- Misses irony.")


def test_notes_of_another_version_are_none(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text("<!-- card notes for m 1.0.0 -->\n### Speed\n")
    assert read_card_notes(f, _CFG) is None


def test_notes_without_the_header_or_unreadable_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text("### Speed\n")
    header = "must start with the line '<!-- card notes for m 2.0.0 -->'"
    with pytest.raises(RecipeError, match=re.escape(header)):
        read_card_notes(f, _CFG)
    with pytest.raises(RecipeError, match=r"card_notes=.*cannot be read"):
        read_card_notes(tmp_path / "absent.md", _CFG)
