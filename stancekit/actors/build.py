"""Run the actor steps in order and turn the entities into :class:`Actor` records.

Example:
    >>> from stancekit.text.segment import parse_many
    >>> a = analyse(next(parse_many([("d", "The Collective Security Treaty Organization "
    ...     "(CSTO) met. The CSTO said no. CSTO members agreed.", {})])))
    >>> [(x.name, x.aliases) for x in a.actors]
    [('CSTO', ('Collective Security Treaty Organization',))]
"""

from __future__ import annotations

import re
from collections import Counter

from stancekit.actors import Actor, ActorAnalysis, Attribution
from stancekit.actors.aliases import ACRONYM
from stancekit.actors.context import Context, Entity, Registry
from stancekit.actors.coref import link_pronouns
from stancekit.actors.gazetteer import country_of, demonym_country, is_country
from stancekit.actors.mentions import find_names
from stancekit.actors.roles import link_appositions, link_role_nouns
from stancekit.actors.speech import find_holders, link_first_person
from stancekit.text.segment import Parsed

__all__ = ["actor_state", "analyse", "canonical_name"]

_NAME_KINDS = frozenset({"PERSON", "ORG", "GPE", "NORP"})


def canonical_name(ent: Entity) -> str:
    """The name an entity is known by (see :class:`~stancekit.actors.Actor`)."""
    if ent.country:
        return ent.country
    if ent.label:
        return ent.label
    counts = Counter(ent.names)
    counts.update(m.text for m in ent.mentions.values() if m.kind in _NAME_KINDS)
    for n in list(counts):
        if n.endswith(("’s", "'s")) or not n.strip():
            del counts[n]
    if not counts:
        return "?"
    if ent.kind == "PERSON":
        return max(counts, key=lambda n: (len(n.split()), len(n), counts[n]))
    acronyms = [n for n in counts if ACRONYM.match(n)]
    top = max(counts.values())
    for a in sorted(acronyms, key=lambda n: -counts[n]):
        if counts[a] == top:
            return a
    if ent.kind == "ORG":
        return max(counts, key=lambda n: (len(n.split()), counts[n]))
    return max(counts, key=lambda n: (counts[n], len(n)))


def actor_state(ent: Entity) -> str | None:
    """The one country ``ent`` is or speaks for (see :attr:`Actor.state`), or None."""
    if ent.country:
        return ent.country
    found = set(ent.nationality)
    if ent.kind == "ORG":
        for name in ent.names:
            for word in re.findall(r"[A-Z][\w-]*", name):
                country = demonym_country(word) or (country_of(word) if is_country(word) else None)
                if country:
                    found.add(country)
    return found.pop() if len(found) == 1 else None


def _actor(ent: Entity) -> Actor:
    name = canonical_name(ent)
    mentions = tuple(sorted(ent.mentions.values(), key=lambda m: (m.start, m.end)))
    seen = dict.fromkeys(
        [m.text for m in mentions if m.kind in _NAME_KINDS and m.kind != "NORP"]
        + ent.names
        + ent.titled
    )
    aliases = tuple(a for a in seen if a != name and not a.endswith(("’s", "'s")))
    return Actor(
        name=name, kind=ent.kind, aliases=aliases, mentions=mentions, state=actor_state(ent)
    )


def analyse(parsed: Parsed) -> ActorAnalysis:
    """Names, appositions, role nouns, pronouns, then holders; see :func:`find_actors`."""
    ctx = Context.build(parsed)
    reg = Registry()
    find_names(ctx, reg)
    link_appositions(ctx, reg)
    link_role_nouns(ctx, reg)
    link_pronouns(ctx, reg)
    holders = find_holders(ctx, reg)
    link_first_person(ctx, reg, holders)
    live = sorted((e for e in reg.entities if e.mentions), key=lambda e: e.first())
    actors = {e.id: _actor(e) for e in live}
    atts: list[Attribution] = []
    holding: set[tuple[int, int]] = set()
    for h in holders:
        if h.entity.id in actors:
            atts.append(Attribution(h.sentence, actors[h.entity.id], h.role, h.mention, h.cue))
            holding.add((h.sentence, h.entity.id))
    for e in live:
        for m in actors[e.id].mentions:
            sent = ctx.document.sentence_at(m.start)
            if sent is None or m.kind == "DEMONYM" or (sent.index, e.id) in holding:
                continue
            holding.add((sent.index, e.id))
            atts.append(Attribution(sent.index, actors[e.id], "mentioned", m, None))
    order = {"speaker": 0, "agent": 1, "mentioned": 2}
    atts.sort(key=lambda a: (a.sentence_index, order.get(a.role, 3)))
    return ActorAnalysis(tuple(actors[e.id] for e in live), tuple(atts))
