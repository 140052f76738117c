from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.actors.targets import DEFAULT_TARGETS, Target, TargetIndex, as_targets, load_targets
from stancekit.errors import TargetsFileError
from stancekit.text.document import Document, Sentence


def _doc(text: str) -> Document:
    return Document(id="d", text=text, sentences=(Sentence(0, len(text), 0, text),))


def test_default_targets_are_csto_and_azerbaijan() -> None:
    assert [t.name for t in DEFAULT_TARGETS] == ["CSTO", "Azerbaijan"]
    assert "Collective Security Treaty Organization" in DEFAULT_TARGETS[0].aliases


def test_strings_become_targets_and_duplicates_are_refused() -> None:
    assert as_targets(["NATO"]) == (Target("NATO"),)
    with pytest.raises(ValueError, match="duplicate target names"):
        as_targets(["NATO", "nato"])
    with pytest.raises(TypeError, match=r"targets\[0\] must be a Target or a str"):
        as_targets([3])  # type: ignore[list-item]


def test_aliases_match_whole_words_and_possessives() -> None:
    text = "Azerbaijan’s army and the Collective Security Treaty Organization met; Azerbaijanis."
    found = TargetIndex(DEFAULT_TARGETS).mentions(_doc(text))
    assert [m.text for m in found[0]] == ["Collective Security Treaty Organization"]
    assert [m.text for m in found[1]] == ["Azerbaijan"]
    for ms in found:
        for m in ms:
            assert text[m.start : m.end] == m.text


def test_acronyms_match_case_sensitively() -> None:
    found = TargetIndex([Target("CSTO")]).mentions(_doc("The csto and the CSTO."))
    assert [m.start for m in found[0]] == [17]


def test_targets_file_is_read(tmp_path: Path) -> None:
    f = tmp_path / "t.toml"
    f.write_text(
        '[[target]]\nname = "NATO"\naliases = ["the Alliance"]\n'
        '[[target]]\nname = "EU"\ndescription = "the European Union"\n'
    )
    targets = load_targets(f)
    assert targets == (Target("NATO", ("the Alliance",)), Target("EU", (), "the European Union"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[target]]\naliases = ["x"]\n', r"target 1: field 'name' is missing"),
        (
            '[[target]]\nname = "A"\n[[target]]\nname = "B"\naliases = "x"\n',
            r"target 2: field 'aliases' must be a list",
        ),
        ('[[target]]\nname = "A"\ncolour = "red"\n', r"target 1: unknown fields \['colour'\]"),
        ('[[target]]\nname = ""\n', r"target 1: Target 'name' must be a non-empty string"),
        ("name = 'A'\n", r"no \[\[target\]\] entries"),
        ("[[target]\n", "not valid TOML"),
        ('[[target]]\nname = "A"\n[[target]]\nname = "a"\n', "duplicate target names"),
    ],
)
def test_targets_file_errors_name_the_file_entry_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    f = tmp_path / "targets.toml"
    f.write_text(content)
    with pytest.raises(TargetsFileError, match=message) as info:
        load_targets(f)
    assert "targets.toml" in str(info.value)


def test_missing_targets_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TargetsFileError, match=r"nope\.toml.*does not exist"):
        load_targets(tmp_path / "nope.toml")


@pytest.mark.slow
def test_a_city_named_as_a_place_is_not_its_country() -> None:
    from stancekit.actors import find_actors
    from stancekit.text.segment import parse_many

    text = "Volodymyr Zelenskiy told reporters in Kyiv. Ukraine wants arms."
    parsed = next(parse_many([("d", text, {})]))
    index = TargetIndex([Target("Ukraine")])
    found = index.mentions(parsed.document, find_actors(parsed))[0]
    assert [m.text for m in found] == ["Ukraine"]


def test_role_nouns_come_from_the_targets_own_names_and_description() -> None:
    csto = DEFAULT_TARGETS[0]
    assert {"alliance", "bloc", "pact", "organization"} <= csto.role_nouns
    assert Target("NATO", aliases=["North Atlantic Treaty Organization"]).role_nouns == {
        "organization",
        "organisation",
    }
    assert Target("Azerbaijan").role_nouns == frozenset()


def test_the_bloc_refers_to_an_organisation_target_once_the_article_names_it() -> None:
    text = (
        "The bloc met. The Collective Security Treaty Organization (CSTO) summit ended. "
        "Lukashenko defended the bloc; Pashinyan accused the Russian-led bloc. "
        "The organization did not respond. The Armenian organization did."
    )
    found = TargetIndex(DEFAULT_TARGETS).mentions(_doc(text))
    roles = [m.text for m in found[0] if m.kind == "ROLE"]
    assert roles == ["the bloc", "the Russian-led bloc", "The organization"]
    for m in found[0]:
        assert text[m.start : m.end] == m.text
    # never in an article that does not name the target
    alone = TargetIndex(DEFAULT_TARGETS).mentions(_doc("Lukashenko defended the bloc."))
    assert alone[0] == ()


def test_a_role_noun_another_actor_owns_is_left_to_it() -> None:
    from stancekit.actors import Actor, ActorAnalysis
    from stancekit.text.document import Mention

    text = "NATO and the CSTO met. The alliance said no."
    nato = Actor(
        "NATO",
        "ORG",
        mentions=(Mention(0, 4, "NATO", "ORG"), Mention(23, 35, "The alliance", "ROLE")),
    )
    found = TargetIndex(DEFAULT_TARGETS).mentions(_doc(text), ActorAnalysis(actors=(nato,)))
    assert [m.text for m in found[0]] == ["CSTO"]
