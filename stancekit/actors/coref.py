"""Pronouns: "he/him/his" -> a person, "it/its" -> an organisation or a state.

A pronoun goes to the nearest compatible mention before it in its own sentence; failing
that, to the previous sentences (up to two), subjects first, then left to right — so
"Scholz met Macron. He said ..." gives "He" to Scholz. Gender learnt from "Mr."/"Ms." or
from earlier pronouns is respected; an object pronoun is never its own verb's subject
("Lee praised him" is not Lee). "It" counts only as the subject of a full verb ("it
said"; not "it is clear that", not "rejected it"). "They/their" goes to a group only when
the nearest plural noun before it names one ("Armenian officials denied it. They said
..."): most often it refers to things ("the proposals ... they include").

Example:
    >>> from stancekit.text.segment import parse_many
    >>> from stancekit.actors.context import Context, Registry
    >>> from stancekit.actors.mentions import find_names
    >>> text = "Olaf Scholz met Emmanuel Macron. He said his country agreed."
    >>> ctx = Context.build(next(parse_many([("d", text, {})])))
    >>> reg = Registry(); find_names(ctx, reg); link_pronouns(ctx, reg)
    >>> [m.text for m in reg.entities[0].mentions.values()]
    ['Olaf Scholz', 'He', 'his']
"""

from __future__ import annotations

from stancekit.actors.context import Context, Entity, Registry, Token
from stancekit.actors.lexicon import FEMALE, MALE, PRONOUN_KINDS, words
from stancekit.text.document import Mention

__all__ = ["GROUP_NOUNS", "actor_of", "link_pronouns"]

_SUBJECT = frozenset({"nsubj", "nsubjpass"})
_OBJECT = frozenset({"dobj", "pobj", "dative", "iobj"})
_COPULA = words("is was be been being are were seems seemed appears appeared")
_MAX_BACK = 2
_PLURAL = frozenset({"they", "them", "their", "themselves"})
#: Plural or collective nouns whose modifier names the actor ("Armenian officials").
GROUP_NOUNS = words(
    "officials representatives leaders diplomats sources spokesmen lawmakers ministers "
    "authorities government ministry office spokesman spokeswoman spokesperson aides team"
)


def _referential_it(tok: Token) -> bool:
    if tok.dep_ not in _SUBJECT:
        return False  # "described it as a mistake": most often a thing, not an actor
    head = tok.head
    return not (tok.dep_ in _SUBJECT and (head.pos_ == "AUX" or head.lower_ in _COPULA))


def _compatible(ent: Entity, kind: str, word: str, kinds: frozenset[str]) -> bool:
    if ent.kind not in kinds or kind in ("DEMONYM", "NORP"):
        return False
    if word in MALE and ent.gender == "f":
        return False
    return not (word in FEMALE and ent.gender == "m")


def _bound(pron: Token, cand: Token) -> bool:
    """An object pronoun cannot be the subject of its own verb."""
    return (
        pron.dep_ in _OBJECT
        and not pron.lower_.endswith("self")
        and cand.dep_ in _SUBJECT
        and (cand.head is pron.head or cand.head is pron.head.head)
    )


def _antecedent(ctx: Context, reg: Registry, g: int, kinds: frozenset[str]) -> Entity | None:
    pron = ctx.tokens[g]
    word = pron.lower_
    sent = ctx.sent_of[g]
    for h in range(g - 1, ctx.sent_range[sent][0] - 1, -1):
        hit = reg.covering(h)
        if (
            hit
            and _compatible(hit[0], hit[1].kind, word, kinds)
            and not _bound(pron, ctx.tokens[h])
        ):
            return hit[0]
    for prev in range(sent - 1, max(sent - 1 - _MAX_BACK, -1), -1):
        found = [(h, *hit) for h in ctx.sentence_tokens(prev) if (hit := reg.covering(h))]
        subjects = [f for f in found if ctx.tokens[f[0]].dep_ in _SUBJECT]
        for _, ent, mention in subjects + found:
            if _compatible(ent, mention.kind, word, kinds):
                return ent
    return None


def actor_of(ctx: Context, reg: Registry, tok: Token) -> tuple[Entity, Mention] | None:
    """The actor a subject token stands for: its own mention, or the modifier of a group
    noun ("CSTO officials", "Armenian officials", "Poland's government")."""
    hit = reg.covering(ctx.g(tok))
    if hit is not None:
        return hit if hit[1].kind != "DEMONYM" else None
    if tok.lower_ in GROUP_NOUNS:
        for c in tok.children:
            if c.dep_ in ("compound", "amod", "poss", "nmod"):
                hit = reg.covering(ctx.g(c))
                if hit is not None:
                    return hit
    return None


def _plural_antecedent(ctx: Context, reg: Registry, g: int) -> Entity | None:
    """ "They" is the group just named, when the nearest plural noun before it is one."""
    lo = ctx.sent_range[max(ctx.sent_of[g] - 1, 0)][0]
    for h in range(g - 1, lo - 1, -1):
        tok = ctx.tokens[h]
        if tok.tag_ in ("NNS", "NNPS"):
            hit = actor_of(ctx, reg, tok)
            return hit[0] if hit is not None and hit[0].kind != "PERSON" else None
    return None


def link_pronouns(ctx: Context, reg: Registry) -> None:
    """Register each resolvable third-person pronoun as a ``PRON`` mention of its actor."""
    for g, tok in enumerate(ctx.tokens):
        word = tok.lower_
        if word in _PLURAL and g not in reg.at:
            group = _plural_antecedent(ctx, reg, g)
            if group is not None:
                reg.add(group, g, g + 1, ctx.mention(g, g + 1, "PRON"))
            continue
        kinds = PRONOUN_KINDS.get(word)
        if kinds is None or g in reg.at or tok.pos_ != "PRON":
            continue
        if word == "it" and not _referential_it(tok):
            continue
        ent = _antecedent(ctx, reg, g, kinds)
        if ent is None:
            continue
        if reg.add(ent, g, g + 1, ctx.mention(g, g + 1, "PRON")) and ent.kind == "PERSON":
            ent.gender = ent.gender or ("m" if word in MALE else "f" if word in FEMALE else None)
