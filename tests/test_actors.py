"""The actors stage: names, aliases, coreference and who holds each sentence's stance."""

from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

import pytest

from stancekit.actors import Actor, ActorAnalysis, Attribution, find_actors
from stancekit.actors.lexicon import role_classes, roles_match, speech_base
from stancekit.text.document import Mention, Sentence

SEED = Path(__file__).resolve().parent.parent / "seeds" / "csto-armenia-2022-11-28.txt"


@lru_cache(maxsize=64)
def analyse(text: str) -> ActorAnalysis:
    from stancekit.text.segment import parse_many

    return find_actors(next(parse_many([("t", text, {})])))


@lru_cache(maxsize=1)
def seed() -> ActorAnalysis:
    return analyse(SEED.read_text(encoding="utf-8"))


def holders(a: ActorAnalysis, i: int) -> list[tuple[str, str]]:
    return [(h.actor.name, h.role) for h in a.holders(i)]


def actor(a: ActorAnalysis, name: str) -> Actor:
    found = a.actor(name)
    assert found is not None, f"no actor {name!r} in {[x.name for x in a.actors]}"
    return found


def texts(act: Actor, kind: str | None = None) -> list[str]:
    return [m.text for m in act.mentions if kind is None or m.kind == kind]


# --- the word lists (no spaCy) ---------------------------------------------------------


def test_speech_verb_forms_reduce_to_their_base() -> None:
    assert [speech_base(w) for w in ("said", "told", "citing", "vetoed", "expressed")] == [
        "say",
        "tell",
        "cite",
        "veto",
        "express",
    ]
    assert speech_base("walked") is None and speech_base("proposed") is None


def test_lawmaker_matches_a_parliament_committee_chairman() -> None:
    chairman = role_classes(["deputy", "chairman", "parliament", "committee"])
    assert roles_match(role_classes(["lawmaker"]), chairman) == 2
    assert roles_match(role_classes(["official"]), chairman) == 1
    assert roles_match(role_classes(["lawmaker"]), role_classes(["prime", "minister"])) == 0


# --- the seed article -------------------------------------------------------------------

SEED_HOLDERS = {
    0: [("Armen Khachatrian", "agent")],
    1: [],
    2: [("Armen Khachatrian", "speaker")],
    3: [("Stanislav Zas", "speaker"), ("CSTO", "agent")],
    4: [("Nikol Pashinian", "speaker")],
    5: [("Stanislav Zas", "speaker")],
    6: [("Stanislav Zas", "speaker")],
    7: [("Armen Khachatrian", "speaker")],
    8: [("Armen Khachatrian", "speaker")],
    9: [("Nikol Pashinian", "speaker")],
    10: [("Nikol Pashinian", "speaker")],
    11: [("Armen Khachatrian", "speaker")],
    12: [("Armen Khachatrian", "agent")],
}


@pytest.mark.slow
@pytest.mark.parametrize(("index", "expected"), sorted(SEED_HOLDERS.items()))
def test_seed_holders_per_sentence(index: int, expected: list[tuple[str, str]]) -> None:
    assert holders(seed(), index) == expected


@pytest.mark.slow
def test_seed_cues_are_the_speech_verbs() -> None:
    cues = {i: [h.cue for h in seed().holders(i)] for i in (2, 3, 4, 6, 8, 9, 11)}
    assert cues == {
        2: ["dismissed"],
        3: ["called", "proposed"],
        4: ["vetoed"],
        6: ["saying"],
        8: ["told"],
        9: ["described"],
        11: ["expressed"],
    }


@pytest.mark.slow
def test_seed_actors_have_full_names_and_right_kinds_despite_spacy_labels() -> None:
    kinds = {a.name: a.kind for a in seed().actors}
    for name in ("Armen Khachatrian", "Nikol Pashinian", "Stanislav Zas"):
        assert kinds[name] == "PERSON"  # spaCy: Khachatrian GPE, Pashinian NORP
    assert kinds["CSTO"] == "ORG"
    for name in ("Azerbaijan", "Armenia", "Russia", "Belarus", "Kazakhstan", "Tajikistan"):
        assert kinds[name] == "GPE"  # spaCy: Armenia ORG/PERSON, Tajikistan NORP
    assert kinds["Yerevan"] == "GPE"  # spaCy: PERSON
    assert "Khachatrian" not in kinds and "Pashinian" not in kinds


@pytest.mark.slow
def test_aliases_merge_titles_surnames_and_possessives() -> None:
    pashinian = actor(seed(), "Nikol Pashinian")
    assert {"Pashinian", "Prime Minister Nikol Pashinian"} <= set(pashinian.aliases)
    assert texts(pashinian, "PERSON") == ["Nikol Pashinian", "Pashinian", "Pashinian"]
    assert "Pashinian" in [m.text for m in pashinian.mentions if m.start > 2000]  # Pashinian’s
    assert "Zas" in actor(seed(), "Stanislav Zas").aliases


@pytest.mark.slow
def test_acronym_in_brackets_merges_with_the_full_name_and_wins_as_most_used() -> None:
    csto = actor(seed(), "CSTO")
    assert csto.aliases == ("Collective Security Treaty Organization",)
    assert texts(csto).count("CSTO") >= 8  # the headline's "CSTO" too, which spaCy missed


@pytest.mark.slow
def test_an_acronym_spacy_missed_is_an_organisation_a_pronoun_can_reach() -> None:
    text = (
        "Azerbaijani President Ilham Aliyev said Azerbaijan would never give up its land. "
        "Aliyev praised the CSTO for its neutrality, he told AM radio."
    )
    a = analyse(text)
    csto = actor(a, "CSTO")
    its = [m for m in csto.mentions if m.text == "its"]
    assert csto.kind == "ORG" and [text[m.start : m.end] for m in its] == ["its"]
    assert its[0].start > text.index("CSTO")  # the second "its", not Azerbaijan's land
    assert a.actor("AM") is None  # not an organisation


@pytest.mark.slow
def test_actors_know_the_country_they_are_or_speak_for() -> None:
    a = analyse(
        "Armenian Foreign Minister Ararat Mirzoyan criticised the CSTO. "
        "The Azerbaijani Foreign Ministry condemned the statement. "
        "Azerbaijan rejected it. CSTO Secretary General Stanislav Zas disagreed."
    )
    assert actor(a, "Ararat Mirzoyan").state == "Armenia"  # from the title's demonym
    assert actor(a, "Azerbaijani Foreign Ministry").state == "Azerbaijan"
    assert actor(a, "Azerbaijan").state == "Azerbaijan"
    assert actor(a, "CSTO").state is None
    assert actor(a, "Stanislav Zas").state is None  # speaks for the CSTO, not a country
    assert actor(seed(), "Armen Khachatrian").state == "Armenia"  # "Armenian lawmaker"


@pytest.mark.slow
def test_demonyms_link_to_their_country() -> None:
    az = actor(seed(), "Azerbaijan")
    assert ("Azerbaijani", "NORP") in [(m.text, m.kind) for m in az.mentions]  # the state
    armenia = actor(seed(), "Armenia")
    assert "Armenian" in texts(armenia, "DEMONYM")  # "Armenian lawmaker": nationality only
    assert "Russian" in texts(actor(seed(), "Russia"))  # "Russian-led"


@pytest.mark.slow
def test_nationality_demonym_never_makes_the_country_a_holder() -> None:
    a = seed()
    assert all(h.actor.name != "Armenia" for i in range(13) for h in a.holders(i))


@pytest.mark.slow
def test_capital_stands_for_the_state_only_in_an_actor_position() -> None:
    a = seed()
    armenia = actor(a, "Armenia")
    sought = [m for m in armenia.mentions if m.text == "Yerevan"]
    assert len(sought) == 1  # "sought by Yerevan"
    assert len(actor(a, "Yerevan").mentions) == 3  # "summit in Yerevan", "the Yerevan summit"


@pytest.mark.slow
def test_pronoun_he_links_to_previous_speaker() -> None:
    a = seed()
    s6, s10 = a.holders(6)[0], a.holders(10)[0]
    assert (s6.actor.name, s6.mention) == ("Stanislav Zas", Mention(1047, 1049, "He", "PRON"))
    assert s10.actor.name == "Nikol Pashinian" and s10.mention is not None
    assert s10.mention.text == "He"
    assert texts(actor(a, "Nikol Pashinian"), "PRON") == ["his", "He", "he", "him"]


@pytest.mark.slow
def test_its_links_to_the_alliance_described_by_a_role_noun() -> None:
    csto = actor(seed(), "CSTO")
    assert "The Russian-led military alliance" in texts(csto, "ROLE")
    assert "its" in texts(csto, "PRON")


@pytest.mark.slow
def test_definite_role_noun_links_to_the_person_with_a_matching_role() -> None:
    kh = actor(seed(), "Armen Khachatrian")
    assert texts(kh, "ROLE")[-1] == "The lawmaker"  # not Pashinian, named in between


@pytest.mark.slow
def test_apposition_is_a_mention_and_gives_the_role() -> None:
    assert "the deputy chairman" in texts(actor(seed(), "Armen Khachatrian"), "ROLE")


@pytest.mark.slow
def test_cataphora_lead_lawmaker_and_headline_official_are_the_later_named_person() -> None:
    kh = actor(seed(), "Armen Khachatrian")
    assert texts(kh, "ROLE")[:2] == ["Official", "A senior Armenian lawmaker"]


@pytest.mark.slow
def test_quote_before_the_speaker_is_attributed_to_him() -> None:
    h = seed().holders(8)[0]
    assert (h.actor.name, h.cue) == ("Armen Khachatrian", "told")
    assert h.mention is not None and h.mention.text == "Khachatrian"


@pytest.mark.slow
def test_mentions_in_sentence_and_other_attributions() -> None:
    a = seed()
    sent = next(s for s in seed_sentences() if s.index == 4)
    names = [act.name for act, _ in a.mentions_in(sent)]
    assert names[:3] == ["Nikol Pashinian", "Russia", "Armenia"]
    assert {"Azerbaijan", "Kyrgyzstan"} <= set(names)
    mentioned = {
        x.actor.name for x in a.attributions if x.sentence_index == 4 and x.role == "mentioned"
    }
    assert {"Russia", "Belarus", "Azerbaijan"} <= mentioned
    assert [x.sentence_index for x in a.attributions] == sorted(
        x.sentence_index for x in a.attributions
    )


def seed_sentences() -> tuple[Sentence, ...]:
    from stancekit.text.segment import make_document

    return make_document(SEED.read_text(encoding="utf-8")).sentences


@pytest.mark.slow
def test_every_mention_offset_is_valid_on_the_seed() -> None:
    text = SEED.read_text(encoding="utf-8")
    for act in seed().actors:
        assert list(act.mentions) == sorted(act.mentions, key=lambda m: (m.start, m.end))
        for m in act.mentions:
            assert text[m.start : m.end] == m.text
    json.dumps(seed().to_dict())
    assert all(isinstance(x, Attribution) for x in seed().attributions)


# --- other texts -------------------------------------------------------------------------


@pytest.mark.slow
def test_he_prefers_the_previous_subject_over_the_nearest_name() -> None:
    a = analyse("Chancellor Olaf Scholz met Emmanuel Macron. He said France would help.")
    assert [
        (h.actor.name, h.role, h.mention.text if h.mention else None) for h in a.holders(1)
    ] == [("Olaf Scholz", "speaker", "He")]
    assert actor(a, "Olaf Scholz").aliases == ("Chancellor Olaf Scholz",)
    assert actor(a, "France").kind == "GPE"


@pytest.mark.slow
def test_unnamed_role_noun_speaker_becomes_an_actor() -> None:
    a = analyse("“We will not yield,” the minister said.")
    assert [(h.actor.name, h.actor.kind, h.role, h.cue) for h in a.holders(0)] == [
        ("the minister", "PERSON", "speaker", "said")
    ]


@pytest.mark.slow
def test_quote_only_sentences_inherit_the_speaker_who_opens_or_closes_the_quote() -> None:
    a = analyse(
        "Maria Lopez said: “This is wrong. We refuse.” Then she left.\n\n"
        "“It will not happen. Never,” said Tom Berg."
    )
    assert [holders(a, i) for i in range(5)] == [
        [("Maria Lopez", "speaker")],  # Maria Lopez said: “This is wrong.
        [("Maria Lopez", "speaker")],  # We refuse.”
        [("Maria Lopez", "agent")],  # Then she left.
        [("Tom Berg", "speaker")],  # “It will not happen.
        [("Tom Berg", "speaker")],  # Never,” said Tom Berg.
    ]
    assert a.holders(3)[0].cue == "said"
    assert a.holders(1)[0].mention is None


@pytest.mark.slow
def test_acronym_role_noun_and_it() -> None:
    a = analyse("The European Union (EU) criticized the decision. The bloc said it would respond.")
    eu = actor(a, "EU")
    assert eu.kind == "ORG" and eu.aliases == ("European Union",)
    assert texts(eu)[-2:] == ["The bloc", "it"]
    assert holders(a, 1) == [("EU", "speaker")]


@pytest.mark.slow
def test_acronym_inside_the_entity_span_is_split_off_and_the_headline_name_found() -> None:
    a = analyse(
        "World Health Organization Warns Of New Wave\n\n"
        "The World Health Organization (WHO) warned on Tuesday of a new wave. "
        "Its director general, Tedros Adhanom Ghebreyesus, said countries must act."
    )
    who = actor(a, "WHO")  # the full name is used more often here, so it is the name
    assert (who.name, who.aliases) == ("World Health Organization", ("WHO",))
    assert holders(a, 0) == [("World Health Organization", "agent")]
    assert holders(a, 1) == [("World Health Organization", "speaker")]
    # "Its director general" is a cataphoric role noun, named by the apposition after it
    assert holders(a, 2) == [("Tedros Adhanom Ghebreyesus", "speaker")]


@pytest.mark.slow
def test_indefinite_lead_links_by_role_and_nationality() -> None:
    a = analyse(
        "A senior Iranian diplomat on Sunday rejected the proposal. "
        "Ali Bagheri, the deputy foreign minister, said Tehran would not negotiate."
    )
    assert holders(a, 0) == [("Ali Bagheri", "speaker")]
    assert "Tehran" in actor(a, "Iran").aliases  # the capital as the state


@pytest.mark.slow
def test_without_a_matching_role_the_lead_stays_its_own_actor() -> None:
    a = analyse("A senior official dismissed the plan. Later, John Smith went home.")
    assert holders(a, 0) == [("A senior official", "speaker")]


@pytest.mark.slow
def test_she_respects_gender_and_reported_speech_stays_with_the_reporter() -> None:
    a = analyse(
        "According to Ms. Maria Lopez, the mayor, the city is safe. "
        "Mr. Tom Berg disagreed. She said Moscow had threatened Kyiv."
    )
    assert holders(a, 0) == [("Maria Lopez", "speaker")]
    assert a.holders(0)[0].cue == "according to"
    assert holders(a, 2) == [("Maria Lopez", "speaker")]
    assert "Moscow" in actor(a, "Russia").aliases


@pytest.mark.slow
def test_first_person_inside_a_quote_is_the_speaker() -> None:
    a = analyse("“I will not resign,” Prime Minister Jane Smith said.")
    assert texts(actor(a, "Jane Smith")) == ["I", "Jane Smith"]


@pytest.mark.slow
def test_it_as_an_object_or_expletive_is_not_linked() -> None:
    a = analyse("Germany rejected it. It is clear that the plan failed.")
    assert texts(actor(a, "Germany")) == ["Germany"]


@pytest.mark.slow
def test_surname_possessive_and_group_noun_holder() -> None:
    a = analyse("Maria Lopez won the vote. Lopez’s office declined to comment.")
    assert holders(a, 1)[0][0] == "Maria Lopez"
    assert texts(actor(a, "Maria Lopez")) == ["Maria Lopez", "Lopez"]


@pytest.mark.slow
def test_definite_role_noun_falls_back_to_the_topic_person_of_unknown_office() -> None:
    a = analyse(
        "Ilham Aliyev accused Armenia of provocations. "
        "The Azerbaijani president said Baku would respond."
    )
    assert holders(a, 1) == [("Ilham Aliyev", "speaker")]
    assert "Baku" in actor(a, "Azerbaijan").aliases


@pytest.mark.slow
def test_they_links_to_a_group_named_just_before_but_not_to_things() -> None:
    a = analyse("Armenian officials denied this. They said the claims were false.")
    assert holders(a, 0) == [("Armenia", "speaker")]
    assert holders(a, 1) == [("Armenia", "speaker")]
    b = seed()  # "... the proposals ... He again did not fully disclose them, saying ... they"
    assert "they" not in [m.text for act in b.actors for m in act.mentions]


@pytest.mark.slow
def test_headline_names_come_from_the_body_and_title_words_are_not_actors() -> None:
    a = analyse(
        "Putin Slams NATO Expansion\n\n"
        "U.S. Secretary of State Antony Blinken said Russia was wrong. "
        "Russian President Vladimir Putin accused NATO of aggression. "
        "Putin’s comments were criticized by Kyiv."
    )
    assert holders(a, 0) == [("Vladimir Putin", "agent")]
    names = [x.name for x in a.actors]
    assert "State" not in names and "Putin Slams NATO Expansion" not in names
    assert holders(a, 3) == [("Ukraine", "speaker")]  # the capital as the state


@pytest.mark.slow
def test_plural_groups_stay_norp_and_take_they() -> None:
    a = analyse("Republicans said the bill was flawed. The Kurds said they would stay.")
    assert [(x.name, x.kind) for x in a.actors] == [("Republicans", "NORP"), ("Kurds", "NORP")]
    assert texts(actor(a, "Kurds")) == ["Kurds", "they"]
    assert holders(a, 1) == [("Kurds", "speaker")]


# --- robustness ---------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    "   \n\n  ",
    "no entities here at all.",
    "\u200b\u202e\ufeff weird \U0001f600 “ ” \" ' ’s",
    "“an unclosed quote, he said",
    "”Backwards“ quotes ” “",
    "He said it. It said he. His its her.",
    "The the the. A a. Mr. Mr. Mr.",
    "(CSTO) CSTO ( ) ’s 's",
    "\t\r\n\x0b\x0cfoo\x85bar\u2028baz\u2029",
    "…" * 500,
    "Россия заявила. 中文测试。 ARMENIA",
    "A lawmaker said. The lawmaker said. The alliance said. The country said.",
    "x" * 3000,
]


@pytest.mark.slow
@pytest.mark.parametrize("text", ODD_TEXTS)
def test_odd_inputs_do_not_crash_and_offsets_stay_valid(text: str) -> None:
    from stancekit.text.segment import parse_many

    parsed = next(parse_many([("odd", text, {})]))
    a = find_actors(parsed)
    for act in a.actors:
        assert act.kind in ("PERSON", "ORG", "GPE", "NORP")
        for m in act.mentions:
            assert text[m.start : m.end] == m.text
    for s in parsed.document.sentences:
        assert all(h.role in ("speaker", "agent") for h in a.holders(s.index))
        a.mentions_in(s)
    json.dumps(a.to_dict())


@pytest.mark.slow
def test_long_text_stays_fast() -> None:
    from stancekit.text.segment import parse_many

    text = ("\n\n".join([SEED.read_text(encoding="utf-8")] * 45))[:100_000]
    parsed = next(parse_many([("long", text, {})]))
    start = time.perf_counter()
    a = find_actors(parsed)
    assert time.perf_counter() - start < 10
    assert len(a.actors) > 10
    for act in a.actors:
        for m in act.mentions:
            assert text[m.start : m.end] == m.text
