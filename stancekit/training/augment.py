"""Training-set augmentations of the recipe, each switched on by a fraction in the config.

Both target a gap between the training data and what the analyzer asks on news: the
holder of a stance is often named by a pronoun or a role noun ("He", "the lawmaker"), or
is the speaker of a quote whose content carries the stance.

- :func:`role_holders`: copies of directed examples whose holder mention is replaced by a
  pronoun or role noun, while the first segment keeps the holder's name, exactly as the
  analyzer writes a pair whose holder was found through coreference.
- :func:`reported_speech`: copies of text-voice examples (holder ``None``: arguments,
  claims, news sentences) wrapped as a speaker's quote or statement, with the speaker as
  holder and the labels kept: whoever says "X is a disaster" is against X.

Speaker names are drawn from the holders of the training data itself; all draws are
seeded, so a recipe builds the same set every time.

>>> from stancekit.scoring.model import PairInput
>>> from stancekit.training.data import Example
>>> ex = Example(PairInput("Banning guns saves lives.", None, "gun control"), 0, None, "x", "d")
>>> pair = reported_speech([ex], 1.0, names=["Jane Roe"], seed=1)[0].pair
>>> pair.sentence
'“Banning guns saves lives,” the lawmaker argued.'
>>> pair.holder == pair.sentence[slice(*pair.holder_span)]
True
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import cast

from stancekit.scoring.model import PairInput
from stancekit.training.data import Example

__all__ = [
    "ROLE_NOUNS",
    "class_weights",
    "reported_speech",
    "role_holders",
    "spacy_person_check",
    "speaker_names",
]

#: Role nouns that stand in for a named holder (template vocabulary, not a gazetteer).
ROLE_NOUNS: tuple[str, ...] = (
    "the official",
    "the lawmaker",
    "the minister",
    "the spokesman",
    "the spokeswoman",
    "the leader",
    "the senator",
    "the diplomat",
    "the president",
    "the secretary general",
)
_PRONOUNS: tuple[str, ...] = ("he", "she")
_SPEECH_VERBS: tuple[str, ...] = ("said", "told reporters", "argued", "insisted", "wrote")
_NAME_RE = re.compile(r"^[A-Z][\w.'-]+(?: [A-Z][\w.'-]+){0,2}$")


def _capitalise_at(text: str, pos: int, word: str) -> str:
    before = text[:pos].rstrip()
    starts = not before or before[-1] in ".!?“\"‘'(:"
    return word[0].upper() + word[1:] if starts else word


def _shift(span: tuple[int, int] | None, at: int, delta: int) -> tuple[int, int] | None:
    if span is None:
        return None
    s, e = span
    return (s + delta, e + delta) if s >= at else span


def role_holders(
    examples: Sequence[Example],
    fraction: float,
    *,
    seed: int,
    is_person: Callable[[list[tuple[str, tuple[int, int]]]], list[bool]] | None = None,
) -> list[Example]:
    """Copies of a ``fraction`` of the examples with a named holder mention (1-3 capitalised
    words) whose mention is replaced by a pronoun or role noun; labels unchanged.

    ``is_person`` (default: :func:`spacy_person_check`) tells, for a batch of
    ``(sentence, span)``, which spans name a person; only those are replaced."""
    rng = random.Random(seed)
    chosen: list[Example] = []
    for ex in examples:
        p = ex.pair
        if p.holder is None or p.holder_span is None or rng.random() >= fraction:
            continue
        hs, he = p.holder_span
        mention = p.sentence[hs:he]
        if not _NAME_RE.match(mention) or p.sentence[:hs].rstrip().lower().endswith("the"):
            continue
        if p.target_span is not None and not (p.target_span[1] <= hs or p.target_span[0] >= he):
            continue
        chosen.append(ex)
    check = is_person or spacy_person_check
    keep = check([(e.pair.sentence, cast(tuple[int, int], e.pair.holder_span)) for e in chosen])
    out: list[Example] = []
    for ex, ok in zip(chosen, keep, strict=True):
        if not ok:
            continue
        p = ex.pair
        hs, he = cast(tuple[int, int], p.holder_span)
        possessive = p.sentence[he : he + 2] in ("'s", "’s")
        pool = ROLE_NOUNS if possessive else ROLE_NOUNS + _PRONOUNS * 3
        word = _capitalise_at(p.sentence, hs, rng.choice(pool))
        sentence = p.sentence[:hs] + word + p.sentence[he:]
        delta = len(word) - (he - hs)
        pair = replace(
            p,
            sentence=sentence,
            holder_span=(hs, hs + len(word)),
            target_span=_shift(p.target_span, he, delta),
        )
        out.append(replace(ex, pair=pair, source=f"{ex.source}+role"))
    return out


def spacy_person_check(items: list[tuple[str, tuple[int, int]]]) -> list[bool]:
    """Whether each ``(sentence, span)`` is exactly a PERSON entity in spaCy's analysis and
    the subject of its clause (so that "he" or "the official" reads well in its place)."""
    from stancekit.text.nlp import load_spacy

    nlp = load_spacy()
    keep: list[bool] = []
    for doc, (_, (s, e)) in zip(nlp.pipe(t for t, _ in items), items, strict=True):
        ent = next((x for x in doc.ents if x.start_char == s and x.end_char == e), None)
        keep.append(
            ent is not None
            and ent.label_ == "PERSON"
            and ent.root.dep_ in ("nsubj", "nsubjpass")
            and (ent.start == 0 or doc[ent.start - 1].pos_ not in ("PROPN", "DET", "NOUN"))
        )
    return keep


def speaker_names(examples: Sequence[Example]) -> list[str]:
    """Distinct holder names of ``examples`` that look like names (1-3 capitalised words),
    sorted, to draw speakers from."""
    names = {e.pair.holder for e in examples if e.pair.holder and _NAME_RE.match(e.pair.holder)}
    return sorted(names)


def reported_speech(
    examples: Sequence[Example], fraction: float, *, names: Sequence[str], seed: int
) -> list[Example]:
    """Copies of a ``fraction`` of the text-voice examples (holder ``None``) as a speaker's
    quote (``“…,” NAME said.``) or statement (``NAME said: “…”``), half and half; the
    speaker is a name from ``names`` or a role noun and becomes the holder."""
    if not names:
        raise ValueError("reported_speech: names is empty; give at least one speaker name")
    rng = random.Random(seed)
    out: list[Example] = []
    for ex in examples:
        p = ex.pair
        if p.holder is not None or rng.random() >= fraction:
            continue
        unit = p.sentence.strip()
        lead = p.sentence.index(unit[:1]) if unit else 0
        name = rng.choice(names) if rng.random() < 0.6 else rng.choice(ROLE_NOUNS)
        verb = rng.choice(_SPEECH_VERBS)
        if rng.random() < 0.5:  # “unit,” NAME said.
            body = unit[:-1] + "," if unit.endswith(".") else unit
            head = "“"
            sentence = f"{head}{body}” "
            hs = len(sentence)
            sentence += f"{name} {verb}."
            offset = len(head) - lead
        else:  # NAME said: “unit”
            cap = _capitalise_at("", 0, name)
            hs = 0
            sentence = f"{cap} {verb}: “"
            offset = len(sentence) - lead
            sentence += unit + "”"
            name = cap
        ts = p.target_span
        if ts is not None:
            ts = (ts[0] + offset, ts[1] + offset)
            if not (0 <= ts[0] < ts[1] <= len(sentence)):
                ts = None
        pair = PairInput(sentence, name, p.target, (hs, hs + len(name)), ts)
        out.append(replace(ex, pair=pair, source=f"{ex.source}+speech"))
    return out


def class_weights(labels: Sequence[int | None], n_classes: int, power: float) -> list[float]:
    """Per-class loss weights ``(N / (K * n_c)) ** power`` over the labelled rows (power 0:
    all ones; 1: fully balanced); a class with no row gets weight 1."""
    if power < 0:
        raise ValueError(f"class_weights: power={power!r} must be >= 0")
    counts = [0] * n_classes
    for y in labels:
        if y is not None:
            counts[y] += 1
    total = sum(counts)
    return [(total / (n_classes * c)) ** power if c and total else 1.0 for c in counts]
