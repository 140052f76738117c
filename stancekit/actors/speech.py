"""Holders: who speaks (or acts) in each sentence.

* **speaker** — the subject of a speech or stance verb ("said", "told", "dismissed",
  "described", "cited", "expressed", "vetoed", ...), wherever the verb stands in the
  sentence: "what Zas called ..." makes Zas a speaker. Participles and conjoined verbs
  without a subject take their governor's ("..., citing ..." / "cited ... and stressed");
  a passive takes its "by" agent; "who" takes the noun it qualifies; "according to X"
  makes X the speaker. Verbs inside quotation marks count only when nothing outside does.
* **agent** — the actor subject of a main-clause verb that is not already a speaker.
* A quote-only sentence inherits the speaker of the sentence that opens or closes the
  quote (``mention=None``); a headline without verb gets the first person it names.

Example:
    >>> from stancekit.actors import find_actors
    >>> from stancekit.text.segment import parse_many
    >>> text = "“We will not yield,” the minister said. “Never.”"
    >>> a = find_actors(next(parse_many([("d", text, {})])))
    >>> [(h.actor.name, h.role, h.cue) for h in a.holders(0) + a.holders(1)]
    [('the minister', 'speaker', 'said'), ('the minister', 'speaker', 'said')]
"""

from __future__ import annotations

from dataclasses import dataclass

from stancekit.actors.context import Context, Entity, Registry, Token
from stancekit.actors.coref import actor_of
from stancekit.actors.lexicon import speech_base
from stancekit.text.document import Mention

__all__ = ["Holder", "find_holders", "link_first_person"]

_INHERIT = frozenset({"advcl", "xcomp", "conj", "pcomp"})
_RELATIVE = frozenset({"who", "which", "that"})


@dataclass(frozen=True)
class Holder:
    """A holder found for a sentence (entity-level; turned into an ``Attribution``)."""

    sentence: int
    entity: Entity
    role: str
    mention: Mention | None
    cue: str | None


def _subject(tok: Token, passive: bool) -> list[Token]:
    """The subject tokens of verb ``tok``: its own, its passive agent, or its governor's.

    With ``passive`` a passive subject counts too ("The lawmaker would not be drawn").
    """
    for _ in range(6):
        kids = list(tok.children)
        subj = [c for c in kids if c.dep_ == "nsubj"]
        subj = subj or [
            p for c in kids if c.dep_ == "agent" for p in c.children if p.dep_ == "pobj"
        ]
        if passive:
            subj = subj or [c for c in kids if c.dep_ == "nsubjpass"]
        if subj:
            out = []
            for s in subj:
                if s.lower_ in _RELATIVE and s.head.dep_ == "relcl":
                    s = s.head.head
                out.append(s)
                out.extend(c for c in s.children if c.dep_ == "conj")
            return out
        if tok.dep_ not in _INHERIT or tok.head is tok:
            return []
        tok = tok.head
    return []


def _reported(tok: Token, speaking: set[int], ctx: Context) -> bool:
    """Whether verb ``tok`` sits inside what another speaker in the sentence says."""
    head = tok
    for _ in range(12):
        if head.head is head:
            return False
        head = head.head
        if ctx.g(head) in speaking:
            return True
    return False


def _speakers(ctx: Context, reg: Registry, sent: int, quoted: bool) -> list[Holder]:
    found: list[tuple[Token, Holder]] = []
    for g in ctx.sentence_tokens(sent):
        tok = ctx.tokens[g]
        if ctx.quoted[g] != quoted:
            continue
        if tok.lower_ == "according" and any(c.lower_ == "to" for c in tok.children):
            subjects = [p for c in tok.children for p in c.children if p.dep_ == "pobj"]
            cue = "according to"
        elif tok.pos_ == "VERB" and tok.dep_ != "amod" and speech_base(tok.text):
            subjects, cue = _subject(tok, passive=False), tok.text
        else:
            continue
        for s in subjects:
            hit = actor_of(ctx, reg, s)
            if hit is not None:
                inside = ctx.sent_of[ctx.g(s)] == sent
                found.append(
                    (tok, Holder(sent, hit[0], "speaker", hit[1] if inside else None, cue))
                )
    # "She said Moscow had threatened Kyiv": Moscow's threat is what she reports.
    speaking = {ctx.g(tok) for tok, _ in found}
    return [h for tok, h in found if not _reported(tok, speaking - {ctx.g(tok)}, ctx)]


def _agents(ctx: Context, reg: Registry, sent: int) -> list[Holder]:
    out: list[Holder] = []
    for g in ctx.sentence_tokens(sent):
        tok = ctx.tokens[g]
        main = tok.dep_ == "ROOT" or (tok.dep_ == "conj" and tok.head.dep_ == "ROOT")
        if not main or ctx.quoted[g] or tok.pos_ not in ("VERB", "AUX"):
            continue
        for s in _subject(tok, passive=True):
            hit = actor_of(ctx, reg, s)
            if hit is not None and ctx.sent_of[ctx.g(s)] == sent:
                out.append(Holder(sent, hit[0], "agent", hit[1], tok.text))
    return out


def _headline(ctx: Context, reg: Registry, sent: int) -> list[Holder]:
    found = list(reg.in_range(*ctx.sent_range[sent]))
    people = [f for f in found if f[1].kind == "PERSON"]
    named = [f for f in found if f[2].kind not in ("DEMONYM", "NORP")]
    for _, ent, mention in people[:1] or named[:1]:
        return [Holder(sent, ent, "agent", mention, None)]
    return []


def _quote_state(ctx: Context, sent: int) -> tuple[bool, bool, bool]:
    """(starts inside a quote, ends inside a quote, mostly quoted) for a sentence."""
    g0, g1 = ctx.sent_range[sent]
    if g1 <= g0:
        return False, False, False
    words = [g for g in range(g0, g1) if ctx.tokens[g].is_alpha]
    mostly = bool(words) and sum(ctx.quoted[g] for g in words) >= 0.8 * len(words)
    end_open = ctx.quoted[g1 - 1] and ctx.tokens[g1 - 1].text not in ("”", '"', "»")
    return ctx.quoted[g0], end_open, mostly


def find_holders(ctx: Context, reg: Registry) -> list[Holder]:
    """The speakers and agents of every sentence, in sentence order."""
    n = len(ctx.document.sentences)
    per: list[list[Holder]] = []
    for sent in range(n):
        holders = _speakers(ctx, reg, sent, quoted=False) or _speakers(ctx, reg, sent, True)
        if ctx.is_title(sent) and not holders:
            holders = _headline(ctx, reg, sent)
        speakers = {h.entity.id for h in holders}
        holders += [h for h in _agents(ctx, reg, sent) if h.entity.id not in speakers]
        per.append(_dedupe(holders))
    for sent in range(n):
        if per[sent] or not _quote_state(ctx, sent)[2]:
            continue
        start_open, end_open, _ = _quote_state(ctx, sent)
        order = [sent + 1, sent - 1] if end_open or not start_open else [sent - 1, sent + 1]
        for other in order:
            src = [h for h in per[other] if h.role == "speaker"] if 0 <= other < n else []
            if src:
                per[sent] = [Holder(sent, h.entity, "speaker", None, h.cue) for h in src]
                break
    return [h for hs in per for h in hs]


def _dedupe(holders: list[Holder]) -> list[Holder]:
    seen: set[tuple[int, str]] = set()
    out = []
    for h in holders:
        if (h.entity.id, h.role) not in seen:
            seen.add((h.entity.id, h.role))
            out.append(h)
    return out


_FIRST_PERSON = frozenset({"i", "me", "my", "myself", "mine"})


def link_first_person(ctx: Context, reg: Registry, holders: list[Holder]) -> None:
    """Quoted "I/me/my" is the sentence's (single) speaker: “I will stay,” Lee said."""
    speakers: dict[int, set[int]] = {}
    for h in holders:
        if h.role == "speaker":
            speakers.setdefault(h.sentence, set()).add(h.entity.id)
    for sent, ids in speakers.items():
        if len(ids) != 1:
            continue
        ent = reg.entities[next(iter(ids))]
        if ent.kind != "PERSON":
            continue
        for g in ctx.sentence_tokens(sent):
            if ctx.quoted[g] and ctx.tokens[g].lower_ in _FIRST_PERSON:
                reg.add(ent, g, g + 1, ctx.mention(g, g + 1, "PRON"))
