"""Stage 3: actors and targets -> the (sentence, holder, target) pairs to judge.

A target is judged in every sentence where it is mentioned or referred to, once for each
holder of the sentence (the speakers and agents found by the actors stage) and once for
the text's own voice. An actor is never judged toward itself.

Example:
    >>> from stancekit.pairs import Pair          # doctest: +SKIP
    >>> pairs = build_pairs(parsed.document, actors, TargetIndex(DEFAULT_TARGETS))  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from stancekit.document import Document, Mention, Sentence
from stancekit.model import PairInput
from stancekit.targets import Target, TargetIndex

if TYPE_CHECKING:
    from stancekit.actors import Actor, ActorAnalysis

__all__ = ["Pair", "build_pairs"]

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
    return (named or usable or [None])[0]


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
