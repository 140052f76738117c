"""Alias merging and the kind of a name, from document-level evidence.

Candidates with the same text merge; a single word that ends a full person name elsewhere
joins it ("Khachatrian" -> "Armen Khachatrian", the nearest preceding one when two people
share a surname); an acronym joins the name it abbreviates, by initials or by brackets
("Collective Security Treaty Organization (CSTO)"). The kind of a merged group is a vote:
spaCy's labels count once each (NORP half: the small model puts it on surnames), a full
PERSON name, a title in front, a person-shaped name ("Olaf Scholz"), an acronym, an
organisation word ("... Party") and being the subject of "said/told" add evidence.

Example:
    >>> initials("Collective Security Treaty Organization"), initials("Organization for "
    ...     "Security and Co-operation in Europe")
    ('CSTO', 'OSCE')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stancekit.actors.context import Context
from stancekit.actors.lexicon import words

__all__ = ["ACRONYM", "Candidate", "group_names", "initials", "person_shape", "vote_kind"]

ACRONYM = re.compile(r"^[A-Z][A-Z0-9&/.\-]{1,11}$")
_ORG_WORDS = words(
    "organization organisation party service ministry council union committee agency bank "
    "company group corporation inc ltd court parliament assembly army forces alliance "
    "fund institute university association front movement network television tv radio "
    "news times post commission office department contract"
)
_FUNCTION = words("of the and for in on de du la le")
_KINDS = ("PERSON", "ORG", "GPE", "NORP")


@dataclass
class Candidate:
    """A name span: tokens ``g0..g1-1``, spaCy's label (None if unknown), its text."""

    g0: int
    g1: int
    label: str | None
    text: str
    title: int = -1  # first token of a title in front of the name, or -1


def initials(text: str) -> str:
    """The capitals of the significant words: what an acronym of ``text`` would be."""
    parts = [w for w in re.split(r"[\s\-]+", text) if w and w.lower() not in _FUNCTION]
    return "".join(w[0] for w in parts if w[0].isupper())


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def group_names(ctx: Context, names: list[Candidate]) -> list[list[Candidate]]:
    """Partition name candidates into one group per actor."""
    parent = list(range(len(names)))

    def union(a: int, b: int) -> None:
        parent[_find(parent, a)] = _find(parent, b)

    by_text: dict[str, int] = {}
    full: dict[str, list[int]] = {}
    for i, c in enumerate(names):
        if c.text in by_text:
            union(i, by_text[c.text])
        by_text.setdefault(c.text, i)
        if c.g1 - c.g0 > 1 and (c.label == "PERSON" or c.title >= 0 or person_shape(ctx, c)):
            full.setdefault(ctx.tokens[c.g1 - 1].text, []).append(i)
    by_initials: dict[str, list[int]] = {}
    ending_at: dict[int, int] = {}
    for i, c in enumerate(names):
        ending_at[c.g1 - 1] = i
        if c.g1 - c.g0 > 1:
            by_initials.setdefault(initials(c.text), []).append(i)
    for i, c in enumerate(names):
        if c.g1 - c.g0 == 1 and c.text in full:
            owners = full[c.text]
            before = [j for j in owners if names[j].g0 < c.g0]
            union(i, before[-1] if before else owners[0])
        if ACRONYM.match(c.text):
            for j in by_initials.get(c.text.replace(".", ""), ()):
                union(i, j)
            j = ending_at.get(c.g0 - 2, -1)  # "Organization (CSTO)": the name before "("
            if j >= 0 and ctx.tokens[c.g0 - 1].text == "(":
                union(i, j)
    groups: dict[int, list[Candidate]] = {}
    for i, c in enumerate(names):
        groups.setdefault(_find(parent, i), []).append(c)
    return list(groups.values())


def person_shape(ctx: Context, c: Candidate) -> bool:
    """ "Olaf Scholz": 2-4 capitalised words, no organisation word, heading its phrase."""
    toks = [ctx.tokens[g] for g in range(c.g0, c.g1)]
    if not 2 <= len(toks) <= 4 or toks[-1].dep_ in ("compound", "amod", "nmod"):
        return False
    if c.g0 > 0 and ctx.tokens[c.g0 - 1].lower_ == "the":
        return False
    return all(
        t.is_alpha
        and t.text[0].isupper()
        and not t.is_upper
        and t.lower_ not in _ORG_WORDS
        and t.lower_ not in _FUNCTION
        for t in toks
    )


def vote_kind(ctx: Context, group: list[Candidate]) -> str:
    """The kind of a group of names: PERSON, ORG, GPE or NORP."""
    votes: dict[str, float] = dict.fromkeys(_KINDS, 0.0)
    for c in group:
        head = ctx.tokens[c.g1 - 1]
        plural = head.tag_ in ("NNS", "NNPS")  # "Republicans", "Kurds": a group
        if c.label:
            votes[c.label] += 0.5 if c.label == "NORP" and not plural else 1.0
        if c.label == "PERSON" and c.g1 - c.g0 > 1:
            votes["PERSON"] += 2
        if c.title >= 0:
            votes["PERSON"] += 3
        elif c.label != "PERSON" and person_shape(ctx, c):
            votes["PERSON"] += 1.5
        if ACRONYM.match(c.text):
            votes["ORG"] += 2
        if c.text.split()[-1].lower() in _ORG_WORDS:
            votes["ORG"] += 3
        said = head.head.lower_ in ("said", "says", "told", "tells")
        if head.dep_ == "nsubj" and said and not plural:
            votes["PERSON"] += 1
    return max(_KINDS, key=lambda k: (votes[k], -_KINDS.index(k)))
