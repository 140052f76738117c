"""Stage 3: actors and targets -> the (sentence, holder, target) pairs to judge.

A target is judged in every sentence where it is mentioned or referred to, once for each
holder of the sentence (the speakers and agents found by the actors stage) and once for
the text's own voice. An actor is never judged toward itself.

Example:
    >>> from stancekit.pairs.build import Pair          # doctest: +SKIP
    >>> pairs = build_pairs(parsed.document, actors, TargetIndex(DEFAULT_TARGETS))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stancekit.actors import Actor
from stancekit.actors.targets import Target, TargetIndex
from stancekit.scoring.model import PairInput
from stancekit.text.document import Document, Mention, Sentence
from stancekit.text.screening import mask_surrogates

if TYPE_CHECKING:
    from stancekit.actors import ActorAnalysis

__all__ = [
    "Pair",
    "PairRequest",
    "build_pairs",
    "names_match",
    "request_pairs",
    "scoring_input",
    "within_unit",
]

_PRONOUN_KINDS = {"PRON", "ROLE"}


@dataclass(frozen=True)
class Pair:
    """One (sentence, holder, target) question, with the evidence offsets."""

    sentence: Sentence
    holder: Actor | None
    attribution: str
    holder_mention: Mention | None
    target: Target
    target_mention: Mention | None

    def model_input(self) -> PairInput:
        """The pair as the model sees it: names plus sentence-relative mention spans."""
        s0 = self.sentence.start
        hm, tm = self.holder_mention, self.target_mention
        return PairInput(
            sentence=self.sentence.text,
            holder=None if self.holder is None else self.holder.name,
            target=self.target.name,
            holder_span=None if hm is None else (hm.start - s0, hm.end - s0),
            target_span=None if tm is None else (tm.start - s0, tm.end - s0),
        )


def _pick_target_mention(mentions: tuple[Mention, ...], avoid: Mention | None) -> Mention | None:
    usable = [m for m in mentions if avoid is None or m.end <= avoid.start or m.start >= avoid.end]
    named = [m for m in usable if m.kind not in _PRONOUN_KINDS]
    best = named or usable
    return best[0] if best else None


def build_pairs(document: Document, actors: ActorAnalysis, index: TargetIndex) -> list[Pair]:
    """All pairs of ``document`` in sentence order (author voice first in each sentence)."""
    mentions = index.mentions(document, actors)
    target_ids: dict[str, list[int]] = {}
    pairs: list[Pair] = []
    for sentence in document.sentences:
        holders = []
        seen: set[str] = set()
        for att in actors.holders(sentence.index):
            if att.actor.name not in seen:
                seen.add(att.actor.name)
                holders.append(att)
        for ti, target in enumerate(index.targets):
            in_sent = index.in_sentence(mentions[ti], sentence)
            if not in_sent:
                continue
            pairs.append(
                Pair(sentence, None, "author", None, target, _pick_target_mention(in_sent, None))
            )
            for att in holders:
                key = att.actor.name
                if key not in target_ids:
                    target_ids[key] = index.targets_of(att.actor)
                if ti in target_ids[key]:
                    continue
                pairs.append(
                    Pair(
                        sentence,
                        att.actor,
                        att.role,
                        att.mention,
                        target,
                        _pick_target_mention(in_sent, att.mention),
                    )
                )
    return pairs


@dataclass(frozen=True)
class PairRequest:
    """A pair to judge that the caller chose (e.g. a gold span): the unit's offsets in the
    document, the holder's name (None: the text's own voice), the target's name, and
    optionally ``[start, end]`` document offsets of the holder and target mentions."""

    start: int
    end: int
    holder: str | None
    target: str
    holder_mention: tuple[int, int] | None = None
    target_mention: tuple[int, int] | None = None


def _name_key(name: str) -> str:
    from stancekit.actors.lexicon import TITLE_WORDS

    words = re.sub(r"[’']s\b", "", name).replace(".", ". ").split()
    kept = [w for w in words if w.casefold() not in TITLE_WORDS and w.casefold() != "the"]
    return " ".join(kept or words).casefold().strip(" .,")


def names_match(a: str, b: str) -> bool:
    """Whether two names mean the same actor: equal after case, titles, "the" and
    possessives are dropped, or one is the other's surname ("Pashinian" ~ "Nikol Pashinian").

    >>> names_match("Prime Minister Nikol Pashinian", "pashinian"), names_match("Zas", "Baku")
    (True, False)
    """
    ka, kb = _name_key(a), _name_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long_ = sorted((ka, kb), key=len)
    return " " not in short and long_.split()[-1] == short


def _resolve_holder(name: str, actors: ActorAnalysis) -> Actor:
    for actor in actors.actors:
        if any(names_match(name, n) for n in (actor.name, *actor.aliases)):
            return actor
    return Actor(name=name, kind="UNKNOWN")


def _mention_in(
    doc: Document, span: tuple[int, int] | None, unit: Sentence, kind: str
) -> Mention | None:
    if span is None or not (unit.start <= span[0] <= span[1] <= unit.end):
        return None
    return doc.mention(span[0], span[1], kind)


def request_pairs(
    document: Document,
    actors: ActorAnalysis,
    requests: list[PairRequest],
    targets: dict[str, Target],
    index: TargetIndex,
) -> list[Pair]:
    """Pairs for caller-chosen requests: holders resolved by name against the document's
    actors (the whole document is the context), mentions taken from the request when they
    lie in the unit, else found in the unit."""
    mentions = dict(zip(index.targets, index.mentions(document, actors), strict=True))
    pairs = []
    for req in requests:
        if not 0 <= req.start <= req.end <= len(document.text):
            raise ValueError(
                f"request ({req.start}, {req.end}) is outside the text of length "
                f"{len(document.text)}"
            )
        containing = document.sentence_at(req.start)
        unit = Sentence(
            req.start,
            req.end,
            containing.index if containing else 0,
            document.text[req.start : req.end],
        )
        target = targets[req.target]
        holder = None if req.holder is None else _resolve_holder(req.holder, actors)
        h_m = _mention_in(document, req.holder_mention, unit, "HOLDER")
        if holder is not None and h_m is None:
            own = [m for m in holder.mentions if unit.start <= m.start and m.end <= unit.end]
            h_m = _pick_target_mention(tuple(own), None)
        t_m = _mention_in(document, req.target_mention, unit, "TARGET")
        if t_m is None:
            t_m = _pick_target_mention(index.in_sentence(mentions[target], unit), h_m)
        role = "author" if holder is None else "given"
        pairs.append(Pair(unit, holder, role, h_m, target, t_m))
    return pairs


def within_unit(pair: Pair) -> Pair:
    """``pair`` without a holder or target mention that is not inside its unit.

    The actor stage finds known names again anywhere in the text, so on rare inputs (long
    lines without full stops) a name can straddle a sentence boundary; as evidence it would
    point outside the judged sentence, and the model could not mark it."""
    unit = pair.sentence

    def inside(m: Mention | None) -> bool:
        return m is None or unit.start <= m.start <= m.end <= unit.end

    if inside(pair.holder_mention) and inside(pair.target_mention):
        return pair
    return replace(
        pair,
        holder_mention=pair.holder_mention if inside(pair.holder_mention) else None,
        target_mention=pair.target_mention if inside(pair.target_mention) else None,
    )


def scoring_input(pair: Pair) -> PairInput:
    """The pair's model input, with surrogate code points read as U+FFFD (the tokenizer
    cannot encode them; the length, and so the mention spans, stay the same)."""
    pi = pair.model_input()
    return replace(
        pi,
        sentence=mask_surrogates(pi.sentence),
        holder=None if pi.holder is None else mask_surrogates(pi.holder),
        target=mask_surrogates(pi.target),
    )
