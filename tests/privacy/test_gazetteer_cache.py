"""The gazetteer cache: built once per machine, rebuilt when missing or unreadable, never an error."""

from __future__ import annotations

import json

from privacy.gazetteers import cached_json, places


def _counting_build(calls: list[int]):
    def build() -> dict:
        calls.append(1)
        return {"Aarhus": "DK", "Cluj-Napoca": "RO"}
    return build


def test_built_once_then_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[int] = []
    first = cached_json("towns", _counting_build(calls))
    second = cached_json("towns", _counting_build(calls))
    assert first == second == {"Aarhus": "DK", "Cluj-Napoca": "RO"} and len(calls) == 1
    (written,) = (tmp_path / "airlock" / "gazetteers").glob("towns-*.json")
    assert json.loads(written.read_text(encoding="utf-8")) == first


def test_a_damaged_cache_is_rebuilt_and_an_unwritable_one_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[int] = []
    cached_json("towns", _counting_build(calls))
    (written,) = (tmp_path / "airlock" / "gazetteers").glob("towns-*.json")
    written.write_text('{"Aarhus": "D', encoding="utf-8")  # cut short, as by a full disk
    assert cached_json("towns", _counting_build(calls)) == {"Aarhus": "DK", "Cluj-Napoca": "RO"}
    assert len(calls) == 2 and json.loads(written.read_text(encoding="utf-8"))["Aarhus"] == "DK"
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder should be
    assert cached_json("towns", _counting_build(calls))["Cluj-Napoca"] == "RO" and len(calls) == 3


def test_places_come_from_the_packages_data():
    gazetteer = places()
    assert {"Århus", "Cluj-Napoca", "Lisboa"} <= gazetteer.cities and "Denmark" in gazetteer.countries
    assert gazetteer.region_of["københavn"] == "DK" and gazetteer.region_of["tasmania"] == "AU"
