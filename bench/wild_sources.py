"""Extract the name pools of the wild evaluation set from `names-dataset` into a small JSON file.

Run once (and only again to change the pools): `.venv/bin/python bench/wild_sources.py`

names-dataset holds 730k first and 980k last names from a public leak of social-network profiles,
with per-country ranks; loading it takes ~25 s and ~2 GB, so the evaluation generator reads the
committed extract (data/eval_wild/names.json) instead. Recognizers never read this file.
"""

from __future__ import annotations

import json
from pathlib import Path

COUNTRIES = ("DK", "NO", "SE", "IS", "FI", "NL", "BE", "PT", "BR", "PL", "CZ", "HR", "RS", "TR", "NG",
             "KE", "ZA", "GH", "EG", "MA", "IE", "AU", "NZ", "CA", "PH", "ID", "MX", "AR", "CL", "CO",
             "GR", "RO", "HU", "AT", "CH", "IN", "VN", "US", "GB", "DE", "FR", "ES", "IT")
TOP = 80
OUT = Path(__file__).resolve().parents[1] / "data" / "eval_wild" / "names.json"


def main() -> None:
    from names_dataset import NameDataset

    dataset = NameDataset()
    pools = {}
    for country in COUNTRIES:
        first = dataset.get_top_names(n=TOP, country_alpha2=country).get(country, {})
        last = dataset.get_top_names(n=TOP, country_alpha2=country, use_first_names=False).get(country, [])
        pools[country] = {"first_m": first.get("M", []), "first_f": first.get("F", []), "last": list(last)}
    OUT.write_text(json.dumps(pools, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(pools)} countries)")


if __name__ == "__main__":
    main()
