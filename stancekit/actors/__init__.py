"""Stage 2a: actors — who is in the text, every way they are referred to, and who speaks.

:func:`find_actors` reads a :class:`~stancekit.text.segment.Parsed` document and returns an
:class:`ActorAnalysis`: the :class:`Actor` s (people, organisations, states, groups), each
with its canonical name, aliases and all its mentions — names, pronouns, role nouns,
demonyms — and, per sentence, the :class:`Attribution` s saying who holds the stance
(``speaker`` or ``agent``) and who is merely ``mentioned``. The steps live in small
modules: :mod:`~stancekit.actors.mentions` (names, labels, aliases),
:mod:`~stancekit.actors.roles` (appositions, role nouns, cataphora),
:mod:`~stancekit.actors.coref` (pronouns), :mod:`~stancekit.actors.speech` (holders).

Example:
    >>> from stancekit.actors import find_actors
    >>> from stancekit.text.segment import parse_many
    >>> text = "Chancellor Olaf Scholz met Emmanuel Macron. He said France agreed."
    >>> analysis = find_actors(next(parse_many([("d", text, {})])))
    >>> [(a.name, a.kind) for a in analysis.actors]
    [('Olaf Scholz', 'PERSON'), ('Emmanuel Macron', 'PERSON'), ('France', 'GPE')]
    >>> [(h.actor.name, h.role, h.mention.text, h.cue) for h in analysis.holders(1)]
    [('Olaf Scholz', 'speaker', 'He', 'said')]
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from stancekit.text.document import Mention, Sentence
from stancekit.text.segment import Parsed

__all__ = ["Actor", "ActorAnalysis", "Attribution", "find_actors"]

HOLDER_ROLES = ("speaker", "agent")


@dataclass(frozen=True)
class Actor:
    """Someone who can hold a stance.

    Attributes:
        name: canonical name: the longest clean full name of a person ("Nikol Pashinian"),
            an organisation's acronym when that is its most used form ("CSTO"), a country's
            gazetteer name ("Azerbaijan"), or, for an unnamed actor, its description
            ("the minister").
        kind: ``"PERSON"``, ``"ORG"``, ``"GPE"`` or ``"NORP"``.
        aliases: the other names seen ("Pashinian", "Prime Minister Nikol Pashinian").
        mentions: every mention in text order: names, pronouns (``PRON``), role nouns
            (``ROLE``), demonyms (``NORP`` when they mean the state, else ``DEMONYM``).
        state: the country the actor is or speaks for, by its gazetteer name, when the
            document says so: a country itself, a person's nationality from a title or
            apposition ("Armenian Foreign Minister Ararat Mirzoyan" -> ``"Armenia"``), an
            organisation's country word ("Azerbaijani Foreign Ministry"); None when unknown
            or ambiguous. ``DocumentResult.summary(level="state")`` rolls actors up by it.
    """

    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    state: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The actor as a plain dict."""
        return {
            "name": self.name,
            "kind": self.kind,
            "aliases": list(self.aliases),
            "mentions": [m.to_dict() for m in self.mentions],
            "state": self.state,
        }


@dataclass(frozen=True)
class Attribution:
    """An actor's part in one sentence: ``speaker``, ``agent`` or ``mentioned``.

    ``mention`` is the actor's mention in that sentence, or None when the attribution
    comes from outside it (a quote whose speaker is named in the next sentence); ``cue``
    is the speech or action verb ("dismissed", "told"), when there is one.
    """

    sentence_index: int
    actor: Actor
    role: str
    mention: Mention | None = None
    cue: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The attribution as a plain dict (the actor by name)."""
        return {
            "sentence_index": self.sentence_index,
            "actor": self.actor.name,
            "role": self.role,
            "mention": None if self.mention is None else self.mention.to_dict(),
            "cue": self.cue,
        }


@dataclass(frozen=True)
class ActorAnalysis:
    """The actors of a document and the attributions of each sentence."""

    actors: tuple[Actor, ...] = ()
    attributions: tuple[Attribution, ...] = ()
    _by_sentence: dict[int, tuple[Attribution, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _mentions: tuple[tuple[int, int, Actor, Mention], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by: dict[int, list[Attribution]] = {}
        for a in self.attributions:
            by.setdefault(a.sentence_index, []).append(a)
        object.__setattr__(self, "_by_sentence", {k: tuple(v) for k, v in by.items()})
        flat = sorted(
            ((m.start, -m.end, actor, m) for actor in self.actors for m in actor.mentions),
            key=lambda t: (t[0], t[1]),
        )
        object.__setattr__(self, "_mentions", tuple(flat))

    def holders(self, sentence_index: int) -> tuple[Attribution, ...]:
        """The speaker and agent attributions of a sentence (speakers first)."""
        found = self._by_sentence.get(sentence_index, ())
        return tuple(a for role in HOLDER_ROLES for a in found if a.role == role)

    def mentions_in(self, sentence: Sentence) -> tuple[tuple[Actor, Mention], ...]:
        """Every (actor, mention) inside ``sentence``, in text order."""
        i = bisect_left(self._mentions, sentence.start, key=lambda t: t[0])
        out = []
        while i < len(self._mentions) and self._mentions[i][0] < sentence.end:
            _, _, actor, m = self._mentions[i]
            if m.end <= sentence.end:
                out.append((actor, m))
            i += 1
        return tuple(out)

    def actor(self, name: str) -> Actor | None:
        """The actor called ``name`` (or having it as an alias), if any."""
        for a in self.actors:
            if a.name == name:
                return a
        return next((a for a in self.actors if name in a.aliases), None)

    def to_dict(self) -> dict[str, Any]:
        """The analysis as a plain dict."""
        return {
            "actors": [a.to_dict() for a in self.actors],
            "attributions": [a.to_dict() for a in self.attributions],
        }


def find_actors(parsed: Parsed) -> ActorAnalysis:
    """Find the actors of a parsed document and who holds the stance in each sentence."""
    from stancekit.actors.build import analyse

    return analyse(parsed)
