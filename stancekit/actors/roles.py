"""Role nouns: appositions, anaphora ("the lawmaker") and cataphora ("A senior lawmaker ...").

A person's roles are learnt from the title in front of the name ("Prime Minister") and
from appositions ("Armen Khachatrian, the deputy chairman of the parliament committee");
role nouns are then linked to the person whose roles fit (see
:func:`stancekit.actors.lexicon.roles_match`). A definite role noun looks back, an
indefinite one in subject position (typical of news leads) or in a headline looks forward
to the person named later. Organisation and state role nouns ("the alliance", "the
country") go to the nearest preceding organisation or state. A role noun that fits nobody
and is a subject becomes an actor of its own ("the minister").

Example:
    >>> from stancekit.text.segment import parse_many
    >>> from stancekit.actors.context import Context, Registry
    >>> from stancekit.actors.mentions import find_names
    >>> text = "A top diplomat said no. Ann Lee, the ambassador, spoke later."
    >>> ctx = Context.build(next(parse_many([("d", text, {})])))
    >>> reg = Registry(); find_names(ctx, reg); link_appositions(ctx, reg)
    >>> link_role_nouns(ctx, reg)
    >>> [m.text for m in reg.entities[0].mentions.values()]
    ['Ann Lee', 'the ambassador', 'A top diplomat']
"""

from __future__ import annotations

from bisect import bisect_left

from stancekit.actors.context import Context, Entity, Registry, Token
from stancekit.actors.gazetteer import demonym_country
from stancekit.actors.lexicon import GPE_ROLES, ORG_ROLES, ROLE_CLASSES, role_classes, roles_match

__all__ = ["link_appositions", "link_role_nouns"]

_DEFINITE = frozenset({"the", "this", "that"})
_SUBJECT = frozenset({"nsubj", "nsubjpass"})
_LOOKBACK_SENTENCES = 4


def _np_span(ctx: Context, tok: Token) -> tuple[int, int]:
    """Tokens from the left edge of ``tok``'s phrase to ``tok`` itself."""
    g = ctx.g(tok)
    g0 = max(ctx.g(tok.left_edge), ctx.sent_range[ctx.sent_of[g]][0])
    while g0 < g and not any(ch.isalnum() for ch in ctx.tokens[g0].text):
        g0 += 1
    return g0, g + 1


def _descriptor(tok: Token) -> tuple[frozenset[str], set[str]]:
    """Role classes and nationalities in a descriptor phrase (head, compounds, of-phrases)."""
    words = [t.lower_ for t in tok.subtree if t.pos_ in ("NOUN", "PROPN", "ADJ")]
    title = [t.lower_ for t in tok.lefts] + [tok.lower_]
    nations = {c for t in tok.subtree if (c := demonym_country(t.text))}
    return role_classes(words, modifiers=False) | role_classes(title), nations


def link_appositions(ctx: Context, reg: Registry) -> None:
    """Give named people the roles of their appositions, and register those as mentions."""
    for ent in list(reg.entities):
        if ent.kind != "PERSON":
            continue
        for start, end in list(ent.mentions):
            g = _token_at(ctx, start)
            if g is None:
                continue
            span = range(
                g,
                next(
                    (h for h in range(g, len(ctx.starts)) if ctx.starts[h] >= end), len(ctx.starts)
                ),
            )
            head = next(
                (ctx.tokens[h] for h in span if ctx.g(ctx.tokens[h].head) not in span),
                ctx.tokens[span[-1]] if span else ctx.tokens[g],
            )
            apps = [c for c in head.children if c.dep_ == "appos" and c.pos_ == "NOUN"]
            if head.dep_ == "appos" and head.head.pos_ == "NOUN":
                apps.append(head.head)
            for app in apps:
                classes, nations = _descriptor(app)
                if not classes:
                    continue
                ent.roles |= classes
                ent.nationality |= nations
                g0, g1 = _np_span(ctx, app)
                g0 = max(g0, ctx.g(app) - 3)
                reg.add(ent, g0, g1, ctx.mention(g0, g1, "ROLE"), nested=True)


def _token_at(ctx: Context, offset: int) -> int | None:
    g = bisect_left(ctx.starts, offset)
    return g if g < len(ctx.starts) and ctx.starts[g] == offset else None


def _kind_of(word: str) -> str | None:
    if word in ROLE_CLASSES:
        return "PERSON"
    if word in ORG_ROLES:
        return "ORG"
    if word in GPE_ROLES:
        return "GPE"
    return None


def _last_before(ent: Entity, offset: int) -> int:
    """Offset of ``ent``'s last mention before ``offset`` (demonyms aside), or -1."""
    return max(
        (s for (s, _), m in ent.mentions.items() if s < offset and m.kind != "DEMONYM"), default=-1
    )


def _recent_subjects(ctx: Context, reg: Registry, g: int) -> set[int]:
    """Entities that are subjects in the previous sentence or earlier in this one."""
    sent = ctx.sent_of[g]
    lo = ctx.sent_range[sent - 1][0] if sent > 0 else ctx.sent_range[sent][0]
    out = set()
    for h in range(lo, g):
        hit = reg.at.get(h)
        if hit is not None and ctx.tokens[h].dep_ in _SUBJECT:
            out.add(hit[0])
    return out


def _anaphor(
    ctx: Context, reg: Registry, kind: str, classes: frozenset[str], g: int, nations: set[str]
) -> Entity | None:
    offset = ctx.starts[g]
    lo = ctx.sent_range[max(ctx.sent_of[g] - _LOOKBACK_SENTENCES, 0)][0]
    floor = ctx.starts[lo] if lo < len(ctx.starts) else 0
    best: tuple[int, int, Entity] | None = None
    subjects = _recent_subjects(ctx, reg, g)
    for ent in reg.entities:
        last = _last_before(ent, offset)
        if ent.kind != kind or last < 0:
            continue
        if nations and ent.nationality and not nations & ent.nationality:
            continue
        if kind == "PERSON":
            fit = roles_match(classes, frozenset(ent.roles))
            if fit == 0 and (ent.roles or ent.id not in subjects):
                continue  # a person of unknown office fits only as the topic just before
        else:
            fit = 1 if last >= floor else 0
        if best is None or (fit, last) > best[:2]:
            best = (fit, last, ent)
    return None if best is None else best[2]


def _cataphor(
    ctx: Context, reg: Registry, classes: frozenset[str], g: int, nations: set[str]
) -> Entity | None:
    offset = ctx.starts[g]
    best: tuple[int, int, Entity] | None = None
    for ent in reg.entities:
        if ent.kind != "PERSON" or ent.label or ent.first() <= offset:
            continue
        score = roles_match(classes, frozenset(ent.roles)) + (2 if nations & ent.nationality else 0)
        if nations and ent.nationality and not nations & ent.nationality:
            continue
        if score >= 2 and (best is None or (score, -ent.first()) > (best[0], -best[1])):
            best = (score, ent.first(), ent)
    return None if best is None else best[2]


def _role_noun(ctx: Context, reg: Registry, g: int, title: bool) -> None:
    tok = ctx.tokens[g]
    kind = _kind_of(tok.lower_)
    if kind is None or g in reg.at:
        return
    if not title:
        if tok.pos_ not in ("NOUN", "PROPN") or tok.dep_ in ("compound", "amod", "appos"):
            return
        if tok.dep_ == "pobj" and tok.head.head.pos_ in ("NOUN", "PROPN"):
            return  # inside a noun's prepositional phrase: "chairman of the committee"
    g0, g1 = _np_span(ctx, tok) if not title else (g, g + 1)
    left = [ctx.tokens[i] for i in range(max(g0, g - 4) if not title else g - 1, g) if i >= 0]
    nations = {c for t in left if (c := demonym_country(t.text))}
    classes = role_classes([t.lower_ for t in left] + [tok.lower_])
    dets = {c.lower_ for c in tok.children if c.dep_ in ("det", "poss")}
    subject = tok.dep_ in _SUBJECT or title
    ent: Entity | None
    if dets & _DEFINITE and not title:
        ent = _anaphor(ctx, reg, kind, classes, g, nations)
    elif kind == "PERSON" and subject:
        ent = _cataphor(ctx, reg, classes, g, nations)
    else:
        return
    if ent is None:
        if not subject or title:
            return
        ent = reg.new(kind)
        ent.label = ctx.text(g0, g1)
    if kind == "PERSON":
        ent.roles |= classes
        ent.nationality |= nations
    reg.add(ent, g0, g1, ctx.mention(g0, g1, "ROLE"), nested=True)


def link_role_nouns(ctx: Context, reg: Registry) -> None:
    """Link role nouns to actors: body sentences first, then headlines (which look ahead)."""
    titles = [i for i, s in enumerate(ctx.document.sentences) if s.kind == "title"]
    in_title = {g for i in titles for g in ctx.sentence_tokens(i)}
    for g in range(len(ctx.tokens)):
        if g not in in_title:
            _role_noun(ctx, reg, g, title=False)
    for g in sorted(in_title):
        _role_noun(ctx, reg, g, title=True)
