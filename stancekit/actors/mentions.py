"""Named mentions: spaCy entities, checked against the gazetteer and the document, merged.

spaCy's labels are votes, not verdicts. A span is a country if the gazetteer says so, a
demonym ("Azerbaijani") is a mention of its country, a capital in an actor's position
("sought by Yerevan") stands for its state, and a surname that elsewhere ends a full
PERSON name ("Khachatrian" after "Armen Khachatrian") is that person whatever its label.
Aliases merge: titles and possessives are stripped, a surname joins its full name, an
acronym joins the name it abbreviates ("Collective Security Treaty Organization (CSTO)").
Afterwards every known name is searched again, so that mentions spaCy missed count too.

Example:
    >>> from stancekit.text.segment import parse_many
    >>> from stancekit.actors.context import Context, Registry
    >>> ctx = Context.build(next(parse_many([("d", "Ms. Ann Lee spoke. Lee left.", {})])))
    >>> reg = Registry(); find_names(ctx, reg)
    >>> [(e.kind, sorted(set(e.names))) for e in reg.entities]
    [('PERSON', ['Ann Lee', 'Lee'])]
"""

from __future__ import annotations

import re

from stancekit.actors.aliases import Candidate, group_names, vote_kind
from stancekit.actors.context import Context, Entity, Registry
from stancekit.actors.gazetteer import capital_of, country_of, demonym_country, is_country
from stancekit.actors.lexicon import (
    FEMALE,
    GPE_ROLES,
    MALE,
    ORG_ROLES,
    STATE_HEADS,
    TITLE_WORDS,
    role_classes,
)

__all__ = ["find_names"]

_LABELS = {"PERSON": "PERSON", "ORG": "ORG", "GPE": "GPE", "NORP": "NORP", "LOC": "GPE"}
_DETS = frozenset({"the", "a", "an"})
_POSS = frozenset({"'s", "’s", "'", "’"})
_NOT_NAMES = TITLE_WORDS | ORG_ROLES | GPE_ROLES
#: An all-capital word of 2 to 6 letters tagged as a noun is taken for an
#: organisation's acronym where spaCy saw no entity ("Aliyev praised the CSTO"), except
#: these, which name no organisation.
_NOT_ACRONYMS = frozenset(
    {"AM", "PM", "TV", "OK", "CEO", "GDP", "COVID", "AIDS", "HIV", "PR", "VIP", "ID", "AI"}
    | {"IT", "PS", "FYI", "USD", "EUR", "RUB", "AMD", "AZN"}
)


def _alnum(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _clean(ctx: Context, g0: int, g1: int, label: str | None) -> tuple[int, int]:
    toks = ctx.tokens
    while g0 < g1 and (toks[g0].lower_ in _DETS or not _alnum(toks[g0].text)):
        g0 += 1
    while g1 > g0 and (toks[g1 - 1].text in _POSS or not _alnum(toks[g1 - 1].text)):
        g1 -= 1
    if label in ("PERSON", None):
        while g1 - g0 > 1 and toks[g0].lower_ in TITLE_WORDS and toks[g0].text[:1].isupper():
            g0 += 1
    return g0, g1


def _title_before(ctx: Context, g0: int) -> int:
    """First token of a title right before token ``g0`` ("Prime Minister"), or -1."""
    g, sent = g0, ctx.sent_of[g0]
    while g > 0 and ctx.sent_of[g - 1] == sent and ctx.tokens[g - 1].lower_ in TITLE_WORDS:
        g -= 1
    return g if g < g0 else -1


def _bracket_parts(ctx: Context, g0: int, g1: int) -> list[tuple[int, int]]:
    """ "World Health Organization (WHO)" as one entity: the name and the acronym apart."""
    parts, start = [], g0
    for g in range(g0, g1):
        if ctx.tokens[g].text in ("(", ")", "[", "]"):
            parts.append((start, g))
            start = g + 1
    parts.append((start, g1))
    return [(a, b) for a, b in parts if b > a]


def _raw_candidates(ctx: Context) -> list[Candidate]:
    out: list[Candidate] = []
    taken: set[int] = set()
    titles = {i for i, s in enumerate(ctx.document.sentences) if s.kind == "title"}
    for tok in ctx.tokens:
        if tok.i != 0:
            continue
        for ent in tok.doc.ents:
            label = _LABELS.get(ent.label_)
            base = ctx.g(tok)
            if label is None or ctx.sent_of[base + ent.start] in titles:
                continue  # headline entities are unreliable; known names are found again
            for a, b in _bracket_parts(ctx, base + ent.start, base + ent.end):
                g0, g1 = _clean(ctx, a, b, label)
                if g1 - g0 == 1 and ctx.tokens[g0].lower_ in _NOT_NAMES:
                    continue  # "State" in "Secretary of State"
                if g1 > g0:
                    out.append(Candidate(g0, g1, label, ctx.text(g0, g1)))
                    taken.update(range(g0, g1))
    for g, tok in enumerate(ctx.tokens):  # countries, demonyms, capitals spaCy did not see
        text = tok.text
        if (
            g not in taken
            and 2 <= len(text) <= 6
            and text.isalpha()
            and text.isupper()
            and tok.tag_.startswith("NN")  # spaCy tags "CSTO" NNS as often as NNP
            and text not in _NOT_ACRONYMS
            and not is_country(text)
            and ctx.sent_of[g] not in titles
        ):
            out.append(Candidate(g, g + 1, "ORG", text))  # an acronym: "the CSTO"
            continue
        if (
            g not in taken
            and text[:1].isupper()
            and text.isalpha()
            and (
                is_country(text)
                or demonym_country(text)
                or (tok.tag_ == "NNP" and capital_of(text))
            )
        ):
            out.append(Candidate(g, g + 1, None, text))
    return _split_possessives(ctx, out)


def _split_possessives(ctx: Context, cands: list[Candidate]) -> list[Candidate]:
    """Split "Pashinian’s Civil Contract" when "Pashinian" is a name met elsewhere."""
    known = {c.text for c in cands} | {ctx.tokens[c.g1 - 1].text for c in cands if c.g1 - c.g0 > 1}
    out: list[Candidate] = []
    for c in cands:
        cut = next((g for g in range(c.g0 + 1, c.g1 - 1) if ctx.tokens[g].text in _POSS), -1)
        if cut > 0 and ctx.text(c.g0, cut) in known:
            out.append(Candidate(c.g0, cut, None, ctx.text(c.g0, cut)))
            out.append(Candidate(cut + 1, c.g1, c.label, ctx.text(cut + 1, c.g1)))
        else:
            out.append(c)
    return sorted(out, key=lambda c: c.g0)


def _is_metonymy(tok: object) -> bool:
    dep = getattr(tok, "dep_", "")
    head = getattr(tok, "head", None)
    return dep in ("nsubj", "nsubjpass", "poss") or (
        dep == "pobj" and getattr(head, "dep_", "") == "agent"
    )


def _country_entity(reg: Registry, cache: dict[str, Entity], country: str) -> Entity:
    if country not in cache:
        cache[country] = reg.new("GPE")
        cache[country].country = country
        cache[country].names.append(country)
    return cache[country]


def find_names(ctx: Context, reg: Registry) -> None:
    """Add the named entities of the document, with all their name mentions, to ``reg``."""
    cands = _raw_candidates(ctx)
    surnames = {ctx.tokens[c.g1 - 1].text for c in cands if c.label == "PERSON" and c.g1 - c.g0 > 1}
    countries: dict[str, Entity] = {}
    names: list[Candidate] = []
    for c in cands:
        tok = ctx.tokens[c.g0]
        single = c.g1 - c.g0 == 1
        if single and c.text in surnames:
            names.append(c)
        elif is_country(c.text):
            ent = _country_entity(reg, countries, country_of(c.text) or c.text)
            ent.names.append(c.text)
            reg.add(ent, c.g0, c.g1, ctx.mention(c.g0, c.g1, "GPE"))
        elif single and demonym_country(c.text) and not capital_of(c.text):
            ent = _country_entity(reg, countries, demonym_country(c.text) or c.text)
            state = tok.head.lower_ in STATE_HEADS or tok.tag_ in ("NNS", "NNPS")
            reg.add(ent, c.g0, c.g1, ctx.mention(c.g0, c.g1, "NORP" if state else "DEMONYM"))
        elif single and capital_of(c.text) and _is_metonymy(ctx.tokens[c.g1 - 1]):
            ent = _country_entity(reg, countries, capital_of(c.text) or c.text)
            ent.titled.append(c.text)
            reg.add(ent, c.g0, c.g1, ctx.mention(c.g0, c.g1, "GPE"))
        elif (single and capital_of(c.text)) or (c.label == "GPE" and country_of(c.text)):
            names.append(Candidate(c.g0, c.g1, "GPE", c.text))
        elif c.label == "NORP" and (tok.dep_ == "amod" or not tok.tag_.startswith("NN")):
            continue  # "ex-Soviet": an adjective that names no state
        else:
            c.title = _title_before(ctx, c.g0)
            names.append(c)
    for group in group_names(ctx, names):
        kind = vote_kind(ctx, group)
        ent = reg.new(kind)
        for c in group:
            ent.names.append(c.text)
            if reg.add(ent, c.g0, c.g1, ctx.mention(c.g0, c.g1, kind)) and c.title >= 0:
                _learn_title(ctx, ent, c)
    _rescan(ctx, reg)


def _learn_title(ctx: Context, ent: Entity, c: Candidate) -> None:
    """Roles, gender and nationality from "Russian President ..." / "Ms. ..."."""
    ent.titled.append(ctx.text(c.title, c.g1))
    title = [ctx.tokens[g].lower_ for g in range(c.title, c.g0)]
    ent.roles |= role_classes(title)
    if ent.gender is None:
        ent.gender = "m" if MALE & set(title) else "f" if FEMALE & set(title) else None
    if c.title > 0 and ctx.sent_of[c.title - 1] == ctx.sent_of[c.g0]:
        country = demonym_country(ctx.tokens[c.title - 1].text)
        if country:
            ent.nationality.add(country)


def _rescan(ctx: Context, reg: Registry) -> None:
    """Find every known name again, wherever spaCy missed it (e.g. in a headline)."""
    alias: dict[str, int] = {}
    for ent in reg.entities:
        for name in ent.names:
            if len(name) > 1 and any(ch.isupper() for ch in name) and name.lower() not in _DETS:
                alias.setdefault(name, ent.id)
    surnames: dict[str, set[int]] = {}  # "Lopez" for "Maria Lopez", unless two people share it
    for ent in reg.entities:
        if ent.kind == "PERSON":
            for name in ent.names:
                last = name.split()[-1]
                if len(name.split()) > 1 and last[:1].isupper() and len(last) > 2:
                    surnames.setdefault(last, set()).add(ent.id)
    for last, owners in surnames.items():
        if len(owners) == 1:
            alias.setdefault(last, next(iter(owners)))
    if not alias:
        return
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(a) for a in sorted(alias, key=len, reverse=True))
        + r")(?!\w)"
    )
    at_start = {s: g for g, s in enumerate(ctx.starts)}
    at_end = {e: g for g, e in enumerate(ctx.ends)}
    for m in pattern.finditer(ctx.document.text):
        g0, g1 = at_start.get(m.start()), at_end.get(m.end())
        if g0 is None or g1 is None or g1 < g0 or ctx.sent_of[g0] != ctx.sent_of[g1]:
            continue  # a name never spans two sentences ("... the CSTO.\nBaku ...")
        ent = reg.entities[alias[m.group()]]
        kind = "GPE" if ent.country else ent.kind
        reg.add(ent, g0, g1 + 1, ctx.mention(g0, g1 + 1, kind))
