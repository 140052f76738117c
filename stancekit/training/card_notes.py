"""The hand-written parts of a model card (the recipe's ``card_notes`` file): figures
measured by hand on one model version, kept out of a retrained model's card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.runtime import log

__all__ = ["CardNotes", "read_card_notes"]


@dataclass(frozen=True)
class CardNotes:
    """Hand-written parts of a model card: ``sections`` go before the generated
    ``## Known limits``; ``limits`` are bullets put first in that list."""

    sections: str
    limits: tuple[str, ...]


_NOTES_HEADER = re.compile(r"<!--\s*card notes for (\S+) (\S+)\s*-->")


def read_card_notes(path: str | Path, config: RecipeConfig) -> CardNotes | None:
    """Read the recipe's ``card_notes`` file, or None (logged) when it was written for
    another model version: hand-written figures belong to the weights they were measured
    on, so a retrain leaves them out until they are measured again and the header updated.

    The file's first line is ``<!-- card notes for NAME VERSION -->`` (an HTML comment for
    the file's editors may follow it and is left out); then Markdown
    sections (``### ...`` subsections continue the generated development metrics,
    ``## ...`` sections follow them). A ``## Known limits`` section holds ``- `` bullets
    that go first in the card's generated list.

    >>> import tempfile, pathlib
    >>> from stancekit.training.config import RecipeConfig
    >>> cfg = RecipeConfig.from_dict({"datasets": [{"name": "d", "file": "d.jsonl"}]})
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "notes.md"
    >>> _ = f.write_text(f"<!-- card notes for {cfg.name} {cfg.version} -->\\n## Speed\\n\\n"
    ...                  "Fast.\\n\\n## Known limits\\n\\n- Slow on long text.\\n")
    >>> notes = read_card_notes(f, cfg)
    >>> notes.sections.strip(), notes.limits
    ('## Speed\\n\\nFast.', ('- Slow on long text.',))
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"recipe: card_notes={str(p)!r} cannot be read ({exc})") from exc
    first, _, body = text.partition("\n")
    m = _NOTES_HEADER.fullmatch(first.strip())
    if not m:
        raise RecipeError(
            f"recipe: card_notes={str(p)!r} must start with the line "
            f"'<!-- card notes for {config.name} {config.version} -->'; got {first!r}"
        )
    if (m.group(1), m.group(2)) != (config.name, config.version):
        log(
            f"card notes {p} are for {m.group(1)} {m.group(2)}, not {config.name} "
            f"{config.version}: left out of the card (measure again, then update the header)"
        )
        return None
    body = re.sub(r"\A\s*<!--.*?-->[ \t]*\n", "", body, flags=re.S)  # a comment for editors
    kept: list[str] = []
    limits: list[str] = []
    in_limits = False
    for line in body.splitlines():
        if line.startswith("## "):
            in_limits = line.strip() == "## Known limits"
            if in_limits:
                continue
        if not in_limits:
            kept.append(line)
        elif line.startswith("- "):
            limits.append(line)
        elif line.strip() and limits:
            limits[-1] += " " + line.strip()  # a bullet continued on the next line
    return CardNotes("\n".join(kept), tuple(limits))
