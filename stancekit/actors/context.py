"""The parsed document seen as one token sequence, and the registry of entities found in it.

spaCy parses each line separately; :class:`Context` numbers all tokens of a document
globally (``g``), with their document offsets, sentence index and whether they stand
inside double quotes. :class:`Registry` holds the entities under construction and which
tokens each mention covers.

Example:
    >>> from stancekit.text.segment import parse_many
    >>> from stancekit.actors.context import Context
    >>> ctx = Context.build(next(parse_many([("d", "Title\\n\\n“Yes,” he said.", {})])))
    >>> [ctx.tokens[g].text for g in range(*ctx.sent_range[1])][:3], ctx.quoted[1]
    (['“', 'Yes', ','], True)
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stancekit.text.document import Document, Mention
from stancekit.text.segment import Parsed

Token = Any  # a spaCy Token

_OPEN = frozenset({"“", "«", "„"})
_CLOSE = frozenset({"”", "»"})
_TOGGLE = frozenset({'"', "''", "``"})


@dataclass
class Context:
    """All tokens of a parsed document in order, with offsets and sentence indices."""

    document: Document
    tokens: list[Token]
    starts: list[int]
    ends: list[int]
    sent_of: list[int]
    quoted: list[bool]
    sent_range: list[tuple[int, int]]
    base: dict[int, int]

    @classmethod
    def build(cls, parsed: Parsed) -> Context:
        """Index the tokens of ``parsed``."""
        doc = parsed.document
        sent_starts = [s.start for s in doc.sentences]
        tokens: list[Token] = []
        starts: list[int] = []
        ends: list[int] = []
        sent_of: list[int] = []
        quoted: list[bool] = []
        base: dict[int, int] = {}
        for line in parsed.lines:
            base[id(line.doc)] = len(tokens)
            inside = False
            for tok in line.doc:
                start = line.start + tok.idx
                tokens.append(tok)
                starts.append(start)
                ends.append(start + len(tok.text))
                sent_of.append(max(bisect_right(sent_starts, start) - 1, 0))
                text = tok.text
                if text in _OPEN or (text in _TOGGLE and not inside):
                    inside = True
                    quoted.append(True)
                elif text in _CLOSE or text in _TOGGLE:
                    inside = False
                    quoted.append(True)
                else:
                    quoted.append(inside)
        sent_range = [(0, 0)] * len(doc.sentences)
        for g in range(len(tokens) - 1, -1, -1):
            if not doc.sentences:
                break
            s = sent_of[g]
            lo, hi = sent_range[s]
            sent_range[s] = (g, hi if hi > lo else g + 1)
        return cls(doc, tokens, starts, ends, sent_of, quoted, sent_range, base)

    def g(self, tok: Token) -> int:
        """The global index of a spaCy token."""
        return self.base[id(tok.doc)] + int(tok.i)

    def text(self, g0: int, g1: int) -> str:
        """The document text covered by tokens ``g0 .. g1 - 1``."""
        return self.document.text[self.starts[g0] : self.ends[g1 - 1]]

    def mention(self, g0: int, g1: int, kind: str) -> Mention:
        """A document mention of tokens ``g0 .. g1 - 1``."""
        return self.document.mention(self.starts[g0], self.ends[g1 - 1], kind)

    def sentence_tokens(self, index: int) -> range:
        """Global indices of the tokens of sentence ``index``."""
        return range(*self.sent_range[index])

    def is_title(self, index: int) -> bool:
        """Whether sentence ``index`` is a headline (title case is not a cue there)."""
        return self.document.sentences[index].kind == "title"


@dataclass
class Entity:
    """An actor under construction."""

    id: int
    kind: str
    names: list[str] = field(default_factory=list)
    titled: list[str] = field(default_factory=list)
    mentions: dict[tuple[int, int], Mention] = field(default_factory=dict)
    roles: set[str] = field(default_factory=set)
    nationality: set[str] = field(default_factory=set)
    gender: str | None = None
    country: str | None = None
    label: str | None = None

    def first(self) -> int:
        """Offset of the first mention (or a large number when there is none)."""
        return min((s for s, _ in self.mentions), default=1 << 60)


@dataclass
class Registry:
    """Entities, and the entity mention covering each token."""

    entities: list[Entity] = field(default_factory=list)
    at: dict[int, tuple[int, Mention]] = field(default_factory=dict)

    def new(self, kind: str) -> Entity:
        """A fresh entity."""
        ent = Entity(len(self.entities), kind)
        self.entities.append(ent)
        return ent

    def add(self, ent: Entity, g0: int, g1: int, mention: Mention, *, nested: bool = False) -> bool:
        """Record ``mention`` (tokens ``g0..g1-1``) for ``ent``.

        A name claims all its tokens and fails when one is taken; a ``nested`` mention (a
        role noun phrase such as "a senior Armenian lawmaker", which contains the demonym
        "Armenian") only needs its last token, the head, to be free.
        """
        if g1 <= g0:
            return False
        if nested:
            if g1 - 1 in self.at:
                return False
        elif any(g in self.at for g in range(g0, g1)):
            return False
        for g in range(g0, g1):
            self.at.setdefault(g, (ent.id, mention))
        ent.mentions[(mention.start, mention.end)] = mention
        return True

    def covering(self, g: int) -> tuple[Entity, Mention] | None:
        """The entity and mention covering token ``g``, if any."""
        hit = self.at.get(g)
        return None if hit is None else (self.entities[hit[0]], hit[1])

    def in_range(self, g0: int, g1: int) -> Iterator[tuple[int, Entity, Mention]]:
        """Each mention starting inside tokens ``g0..g1-1``, as (first token, entity, mention)."""
        seen: set[tuple[int, int]] = set()
        for g in range(g0, g1):
            hit = self.at.get(g)
            if hit is not None and (hit[1].start, hit[1].end) not in seen:
                seen.add((hit[1].start, hit[1].end))
                yield g, self.entities[hit[0]], hit[1]
