"""The gazetteer: countries, capitals, cities and derived demonyms (no spaCy needed)."""

from __future__ import annotations

import pytest

from stancekit.actors.gazetteer import (
    capital_of,
    country_of,
    demonym_country,
    is_capital,
    is_country,
)


@pytest.mark.parametrize(
    ("name", "country"),
    [
        ("Azerbaijani", "Azerbaijan"),
        ("Armenian", "Armenia"),
        ("Baku", "Azerbaijan"),
        ("Yerevan", "Armenia"),
        ("Russia", "Russia"),
        ("Kyrgyzstan", "Kyrgyzstan"),
    ],
)
def test_country_of_the_examples_of_the_issue(name: str, country: str) -> None:
    assert country_of(name) == country


@pytest.mark.parametrize(
    ("demonym", "country"),
    [
        ("Belarusian", "Belarus"),  # -ian
        ("Russian", "Russia"),
        ("Ukrainian", "Ukraine"),
        ("Italian", "Italy"),
        ("Mexican", "Mexico"),  # -an
        ("German", "Germany"),
        ("Pakistani", "Pakistan"),  # -i
        ("Israeli", "Israel"),
        ("Chinese", "China"),  # -ese
        ("Lebanese", "Lebanon"),
        ("Turkish", "Turkey"),  # -ish
        ("Polish", "Poland"),
        ("Finnish", "Finland"),
        ("Kazakh", "Kazakhstan"),  # +stan
        ("Tajik", "Tajikistan"),
        ("French", "France"),  # irregular, from the small table
        ("Armenians", "Armenia"),  # plural
    ],
)
def test_demonyms_are_derived_from_country_names(demonym: str, country: str) -> None:
    assert demonym_country(demonym) == country
    assert country_of(demonym) == country


def test_official_and_common_names_map_to_the_same_country() -> None:
    assert country_of("Russian Federation") == "Russia"
    assert country_of("U.S.") == country_of("United States") == country_of("America")
    assert is_country("Russian Federation")


def test_capitals_and_cities() -> None:
    assert is_capital("Yerevan") and is_capital("Baku") and is_capital("Moscow")
    assert capital_of("Moscow") == "Russia"
    assert not is_capital("Armenia")
    assert country_of("Gyumri") == "Armenia"  # a city, not a capital


def test_all_caps_dateline_is_a_country() -> None:
    assert is_country("ARMENIA") and country_of("ARMENIA") == "Armenia"


@pytest.mark.parametrize(
    "name", ["Khachatrian", "Pashinian", "CSTO", "Monday", "Of", "the", "", "   ", "turkey", "he"]
)
def test_unknown_or_lower_case_names_give_none(name: str) -> None:
    assert country_of(name) is None
    assert not is_country(name)
    assert not is_capital(name)


@pytest.mark.parametrize("odd", ["\u200b", "💥", "Ωμέγα", "x" * 10_000, "'s", "’"])
def test_odd_strings_do_not_crash(odd: str) -> None:
    country_of(odd)
    is_country(odd)
    is_capital(odd)
    demonym_country(odd)


def test_non_strings_are_not_countries() -> None:
    assert country_of(None) is None  # type: ignore[arg-type]
    assert not is_country(42)  # type: ignore[arg-type]
    assert not is_capital(None)  # type: ignore[arg-type]
