"""Word lists of the actors stage: titles, role nouns, pronouns and speech verbs.

Role nouns carry *role classes* so that different words for the same office can be
matched: "the lawmaker" and "deputy chairman of the parliament committee" share the
class ``legislator``. Generic roles ("official", "leader") fit any office.

Example:
    >>> from stancekit.actors.lexicon import role_classes, speech_base
    >>> sorted(role_classes(["deputy", "chairman", "parliament", "committee"]))
    ['chair', 'legislator']
    >>> speech_base("dismissed"), speech_base("saying"), speech_base("walked")
    ('dismiss', 'say', None)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set (for readable word lists)."""
    return frozenset(text.split())


#: Role word -> classes. Plural forms are not listed: a plural is never one actor.
ROLE_CLASSES: dict[str, frozenset[str]] = {
    k: frozenset(v.split())
    for k, v in {
        "lawmaker": "legislator",
        "legislator": "legislator",
        "parliamentarian": "legislator",
        "mp": "legislator",
        "senator": "legislator",
        "congressman": "legislator",
        "congresswoman": "legislator",
        "parliament": "legislator",
        "duma": "legislator",
        "congress": "legislator",
        "senate": "legislator",
        "legislature": "legislator",
        "mep": "legislator",
        "minister": "minister",
        "premier": "head_of_government minister",
        "chancellor": "head_of_government",
        "president": "head_of_state",
        "king": "head_of_state",
        "queen": "head_of_state",
        "emir": "head_of_state",
        "secretary": "secretary",
        "chairman": "chair",
        "chairwoman": "chair",
        "chairperson": "chair",
        "chair": "chair",
        "speaker": "chair",
        "spokesman": "spokesperson",
        "spokeswoman": "spokesperson",
        "spokesperson": "spokesperson",
        "diplomat": "diplomat",
        "ambassador": "diplomat",
        "envoy": "diplomat",
        "general": "military",
        "commander": "military",
        "colonel": "military",
        "governor": "governor",
        "mayor": "mayor",
        "judge": "judge",
        "prosecutor": "judge",
        "analyst": "analyst",
        "expert": "analyst",
        "director": "director",
        "chief": "director",
        "head": "director",
        "official": "generic",
        "leader": "generic",
        "politician": "generic",
        "representative": "generic",
    }.items()
}

#: Modifiers that add a class to the role they modify ("deputy foreign minister").
ROLE_MODIFIERS: dict[str, frozenset[str]] = {
    "foreign": frozenset({"diplomat"}),
    "defense": frozenset({"military"}),
    "defence": frozenset({"military"}),
}

#: Roles that fit any office ("the official" may be a minister or a lawmaker).
GENERIC_CLASS = "generic"

#: Organisation role nouns: "the alliance" refers back to an organisation.
ORG_ROLES = words(
    "alliance bloc organization organisation coalition company firm agency group movement "
    "pact union body association federation"
)
#: State role nouns: "the country" refers back to a country.
GPE_ROLES = words("country state nation republic kingdom")

#: Words of a title in front of a name ("Prime Minister", "Secretary General", "Mr.").
TITLE_WORDS = frozenset(ROLE_CLASSES) | words(
    "mr mr. mrs mrs. ms ms. dr dr. prof prof. sir dame lord lady sen sen. rep rep. "
    "gen gen. col col. lt capt capt. gov gov. pres pres. prime foreign defense defence "
    "interior finance economy vice acting former deputy general sheikh prince princess "
    "pope archbishop bishop imam rabbi"
)

#: Pronouns -> the kinds of actor they can refer to.
PRONOUN_KINDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("he", "him", "his", "himself"), frozenset({"PERSON"})),
    **dict.fromkeys(("she", "her", "hers", "herself"), frozenset({"PERSON"})),
    **dict.fromkeys(("it", "its", "itself"), frozenset({"ORG", "GPE"})),
}
MALE = frozenset({"he", "him", "his", "himself", "mr", "mr."})
FEMALE = frozenset({"she", "her", "hers", "herself", "mrs", "mrs.", "ms", "ms."})

#: Heads that make a demonym mean the state ("Azerbaijani attacks", "Russian forces").
STATE_HEADS = words(
    "attack attacks force forces troop troops army military government authorities side "
    "leadership aggression shelling strike strikes offensive position positions border "
    "territory ministry officials diplomats authorities administration regime navy led "
    "backed brokered sponsored"
)

#: Speech and stance verbs (base forms): their subject holds the sentence's stance.
SPEECH_VERBS = words(
    "say tell dismiss describe stress cite express veto defend call add argue insist warn "
    "urge claim state announce declare accuse criticize criticise condemn reject welcome "
    "praise deny acknowledge admit suggest write tweet reiterate emphasize emphasise hope "
    "note explain complain comment respond reply confirm predict promise vow threaten "
    "demand ask question doubt deplore slam blame hail endorse oppose support dispute "
    "denounce characterize characterise brand label term assure caution concede believe "
    "stress underline point recall maintain pledge"
)
_IRREGULAR = {
    "said": "say",
    "says": "say",
    "saying": "say",
    "told": "tell",
    "tells": "tell",
    "telling": "tell",
    "wrote": "write",
    "written": "write",
    "writes": "write",
    "writing": "write",
    "admitted": "admit",
    "admitting": "admit",
}


@lru_cache(maxsize=4096)
def speech_base(word: str) -> str | None:
    """The base form of a speech verb form ("citing" -> "cite"), or None."""
    w = word.lower()
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    candidates = [w]
    for suffix, repl in (
        ("ies", "y"),
        ("ied", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("d", ""),
        ("ing", ""),
        ("ing", "e"),
    ):
        if w.endswith(suffix) and len(w) > len(suffix) + 2:
            candidates.append(w[: len(w) - len(suffix)] + repl)
    for c in candidates:
        if c in SPEECH_VERBS:
            return c
    return None


def role_classes(words: Iterable[str], *, modifiers: bool = True) -> frozenset[str]:
    """The union of the role classes of ``words`` (unknown words add nothing).

    With ``modifiers`` the words are one title ("deputy foreign minister"), and modifiers
    such as "foreign" count; in a longer description ("... committee on defense") not.
    """
    out: set[str] = set()
    extra = ROLE_MODIFIERS if modifiers else {}
    for w in words:
        key = w.lower().strip(".")
        out |= ROLE_CLASSES.get(key, extra.get(key, frozenset()))
    return frozenset(out)


def roles_match(role: frozenset[str], known: frozenset[str]) -> int:
    """How well a role noun's classes fit an actor's: 2 specific, 1 generic, 0 none."""
    specific = role - {GENERIC_CLASS}
    if specific and specific & known:
        return 2
    if not specific and known:
        return 1
    return 0
