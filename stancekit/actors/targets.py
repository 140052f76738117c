"""Stage 2b: targets — what stances are about, and where each is mentioned in a document.

A :class:`Target` has a name, aliases and an optional description. It is found in a
sentence by its name or aliases (whole words, possessives included), and through the
actors stage: when an actor *is* the target (same name or alias), every mention of that
actor counts, pronouns and role nouns included ("its", "the alliance"); a country target
also matches its demonym and capital ("Azerbaijani attacks", "Baku"). An organisation
target is also found by the role nouns its own names and description use ("the alliance",
"the Russian-led bloc", "the organization" for a CSTO described as "a Russian-led military
alliance"; see :data:`ROLE_SYNONYMS`), but only in an article that names it, only after it
is first named, and never where the actors stage linked the phrase to another actor.

Targets files are TOML::

    [[target]]
    name = "CSTO"
    aliases = ["Collective Security Treaty Organization"]
    description = "the Russian-led military alliance of ex-Soviet states"

Example:
    >>> from stancekit.actors.targets import Target, DEFAULT_TARGETS
    >>> [t.name for t in DEFAULT_TARGETS]
    ['CSTO', 'Azerbaijan']
    >>> Target("NATO", aliases=["North Atlantic Treaty Organization"]).aliases
    ('North Atlantic Treaty Organization',)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stancekit.errors import TargetsFileError
from stancekit.text.document import Document, Mention, Sentence

if TYPE_CHECKING:
    from stancekit.actors import Actor, ActorAnalysis

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "DEFAULT_TARGETS",
    "ROLE_SYNONYMS",
    "Target",
    "TargetIndex",
    "as_targets",
    "load_targets",
]


@dataclass(frozen=True)
class Target:
    """Something stances are taken toward: an organisation, a country, a person, a topic.

    Args:
        name: the canonical name, e.g. ``"CSTO"``.
        aliases: other names that mean it, e.g. ``["Collective Security Treaty Organization"]``.
        description: optional words that describe it ("the Russian-led military alliance");
            its organisation nouns, with those of the aliases, let "the alliance" or "the
            bloc" refer to the target in an article that names it (:attr:`role_nouns`).
    """

    name: str
    aliases: Sequence[str] = ()  # stored as a tuple
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"Target 'name' must be a non-empty string, got {self.name!r}")
        aliases = (self.aliases,) if isinstance(self.aliases, str) else tuple(self.aliases)
        for a in aliases:
            if not isinstance(a, str) or not a.strip():
                raise ValueError(
                    f"Target {self.name!r}: every alias must be a non-empty string, got {a!r}"
                )
        object.__setattr__(self, "aliases", aliases)
        if self.description is not None and not isinstance(self.description, str):
            raise ValueError(
                f"Target {self.name!r}: 'description' must be a string or None, "
                f"got {type(self.description).__name__}"
            )

    @property
    def role_nouns(self) -> frozenset[str]:
        """Organisation nouns that may refer back to the target: the last word of each
        name, alias and description phrase that is one of :data:`ROLE_SYNONYMS`' words,
        with its synonyms ("alliance" brings "bloc" and "pact")."""
        phrases = [*self.names, *re.split(r"[,;()]", self.description or "")]
        found: set[str] = set()
        for phrase in phrases:
            words = re.findall(r"[A-Za-z]+", phrase)
            if words and words[-1].casefold() in _ROLE_GROUP:
                found |= _ROLE_GROUP[words[-1].casefold()]
        return frozenset(found)

    @property
    def names(self) -> tuple[str, ...]:
        """The name followed by the aliases."""
        return (self.name, *self.aliases)

    def to_dict(self) -> dict[str, Any]:
        """The target as a plain dict."""
        return asdict(self)


#: Organisation nouns that refer back to an organisation target, by groups of synonyms.
ROLE_SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset({"alliance", "bloc", "pact"}),
    frozenset({"organization", "organisation"}),
    frozenset({"union"}),
    frozenset({"treaty"}),
    frozenset({"coalition"}),
)
_ROLE_GROUP = {w: group for group in ROLE_SYNONYMS for w in group}

DEFAULT_TARGETS: tuple[Target, ...] = (
    Target(
        "CSTO",
        aliases=(
            "Collective Security Treaty Organization",
            "Collective Security Treaty Organisation",
            "Russian-led military alliance",
            "Russian-led alliance",
        ),
        description="the Collective Security Treaty Organization, a Russian-led military alliance",
    ),
    Target("Azerbaijan", aliases=("Azerbaijani", "Baku"), description="the state of Azerbaijan"),
)


def as_targets(targets: Iterable[Target | str] | None) -> tuple[Target, ...]:
    """Normalise a user's targets: strings become ``Target(name)``; None gives the defaults."""
    if targets is None:
        return DEFAULT_TARGETS
    if isinstance(targets, (str, Target)):
        targets = [targets]
    out: list[Target] = []
    for i, t in enumerate(targets):
        if isinstance(t, str):
            out.append(Target(t))
        elif isinstance(t, Target):
            out.append(t)
        else:
            raise TypeError(
                f"targets[{i}] must be a Target or a str, got {type(t).__name__}; "
                "e.g. targets=['NATO', Target('CSTO', aliases=[...])]"
            )
    names = [t.name.casefold() for t in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"targets: duplicate target names {dupes}; give each target once")
    return tuple(out)


def load_targets(path: str | Path) -> tuple[Target, ...]:
    """Read a TOML targets file (``[[target]]`` tables with name, aliases, description)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TargetsFileError(f"targets file {str(p)!r} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise TargetsFileError(f"targets file {str(p)!r} is not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TargetsFileError(f"targets file {str(p)!r} is not valid TOML: {exc}") from exc
    entries = data.get("target")
    if not isinstance(entries, list) or not entries:
        raise TargetsFileError(
            f"targets file {str(p)!r}: no [[target]] entries; write e.g.\n"
            '[[target]]\nname = "CSTO"\naliases = ["Collective Security Treaty Organization"]'
        )
    extra = sorted(set(data) - {"target"})
    if extra:
        raise TargetsFileError(f"targets file {str(p)!r}: unknown top-level keys {extra}")
    out = []
    for i, entry in enumerate(entries, start=1):
        where = f"targets file {str(p)!r}, target {i}"
        unknown = sorted(set(entry) - {"name", "aliases", "description"})
        if unknown:
            raise TargetsFileError(
                f"{where}: unknown fields {unknown}; allowed: name, aliases, description"
            )
        if "name" not in entry:
            raise TargetsFileError(f"{where}: field 'name' is missing")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list):
            raise TargetsFileError(
                f"{where}: field 'aliases' must be a list of strings, got {aliases!r}"
            )
        try:
            out.append(Target(entry["name"], tuple(aliases), entry.get("description")))
        except ValueError as exc:
            raise TargetsFileError(f"{where}: {exc}") from exc
    try:
        return as_targets(out)
    except ValueError as exc:
        raise TargetsFileError(f"targets file {str(p)!r}: {exc}") from exc


def _norm(name: str) -> str:
    name = re.sub(r"^(the)\s+", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[’']s$", "", name).casefold()


class TargetIndex:
    """Finds the mentions of each target in a document (by name, alias, and actor link)."""

    def __init__(self, targets: Sequence[Target]):
        self.targets = tuple(targets)

    @cached_property
    def _patterns(self) -> list[re.Pattern[str]]:
        pats = []
        for t in self.targets:
            alts = sorted({a for a in t.names}, key=len, reverse=True)
            parts = []
            for a in alts:
                esc = r"\s+".join(re.escape(w) for w in a.split())
                # acronyms match case-sensitively ("CSTO" but not "csto" inside words)
                parts.append(esc if a.isupper() else f"(?i:{esc})")
            pats.append(re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)"))
        return pats

    @cached_property
    def _role_patterns(self) -> list[re.Pattern[str] | None]:
        """Per target: "the" + up to three modifiers + one of its role nouns, or None."""
        pats: list[re.Pattern[str] | None] = []
        for t in self.targets:
            nouns = sorted(t.role_nouns)
            pats.append(
                re.compile(
                    r"(?<!\w)(?i:the)\s+(?:[\w’'-]+\s+){0,3}?(?i:"
                    + "|".join(map(re.escape, nouns))
                    + r")(?![\w-])"
                )
                if nouns
                else None
            )
        return pats

    @cached_property
    def _keys(self) -> list[set[str]]:
        from stancekit.actors.gazetteer import country_of

        keys = []
        for t in self.targets:
            k = {_norm(n) for n in t.names}
            country = country_of(t.name)
            if country is not None:
                k.add(_norm(country))
            keys.append(k)
        return keys

    def mentions(
        self, document: Document, actors: ActorAnalysis | None = None
    ) -> list[tuple[Mention, ...]]:
        """For each target (in order), all its mentions in ``document``, in text order."""
        text = document.text
        found: list[dict[tuple[int, int], Mention]] = [{} for _ in self.targets]
        for ti, pat in enumerate(self._patterns):
            for hit in pat.finditer(text):
                span = (hit.start(), hit.end())
                found[ti][span] = Mention(*span, hit.group(), "TARGET")
        taken: list[tuple[int, int]] = []
        if actors is not None:
            for actor in actors.actors:
                mine = self.targets_of(actor)
                for ti in mine:
                    for mention in actor.mentions:
                        found[ti].setdefault((mention.start, mention.end), mention)
                if not mine:
                    taken += [(m.start, m.end) for m in actor.mentions]
        for ti, role in enumerate(self._role_patterns):
            named = [s for s, m in found[ti].items() if m.kind == "TARGET"]
            if role is None or not named:
                continue
            first = min(s for s, _ in named)
            for hit in role.finditer(text, first):
                span = (hit.start(), hit.end())
                if _foreign(hit.group()):
                    continue  # "the Armenian organization" is another body
                if not any(a < span[1] and span[0] < b for a, b in taken):
                    found[ti].setdefault(span, Mention(*span, hit.group(), "ROLE"))
        return [_drop_nested(sorted(f.values(), key=lambda m: (m.start, -m.end))) for f in found]

    def targets_of(self, actor: Actor) -> list[int]:
        """Indices of the targets that ``actor`` is (by name, alias or country)."""
        from stancekit.actors.gazetteer import country_of, is_country

        names = {_norm(n) for n in (actor.name, *actor.aliases)}
        # a country's other names count ("U.S." ~ "United States"); a city standing for its
        # state is merged into the country actor upstream, so a city alone ("in Kyiv") is
        # not its country
        country = country_of(actor.name) if is_country(actor.name) else None
        if country is not None:
            names.add(_norm(country))
        return [ti for ti, keys in enumerate(self._keys) if names & keys]

    @staticmethod
    def in_sentence(mentions: Sequence[Mention], sentence: Sentence) -> tuple[Mention, ...]:
        """The mentions that lie inside ``sentence``."""
        return tuple(m for m in mentions if sentence.start <= m.start and m.end <= sentence.end)


def _foreign(phrase: str) -> bool:
    """True when a modifier of a role-noun phrase is a demonym or a country name."""
    from stancekit.actors.gazetteer import demonym_country, is_country

    words = phrase.split()[1:-1]
    return any(demonym_country(w) or is_country(w) for w in words)


def _drop_nested(mentions: list[Mention]) -> tuple[Mention, ...]:
    out: list[Mention] = []
    for m in mentions:
        if out and m.start < out[-1].end:
            continue  # inside or overlapping the previous, longer-or-earlier mention
        out.append(m)
    return tuple(out)
