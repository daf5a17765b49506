"""Repair a draft at its source instead of throwing it away.

A small model writes placeholders the way it saw them in pre-training: `<PERSON>`, `[name]`,
`PERSON_2`, `<PLAYER_1>`, `<COUNTRY_1>`. Each of these is rewritten to a well-formed placeholder of a
type synthesis can fill (`<PERSON_1>`, `<LOCATION_1>`), so the record gets a fresh surrogate there.
A real-looking value the model invented outside any placeholder (a name, a city) becomes a new
placeholder of the detected type, filled with a surrogate like every other one, so no record
carries it and none is discarded for it. What cannot be mapped is left as it is, and the quality
filters still reject it.

Dates and nationalities (DATE_TIME, NRP) are replaced as well, though the audit's re-scan does not
count them (`SynthRequest.scrub_like_source`): the privacy stage scrubbed them in the real records, so
a synthetic record that keeps "the French airline" or "in January 2018" where every real one reads
"the <NRP> airline … in <DATE_TIME>" tells itself apart by it — those two placeholders were the
strongest real-side features of the real-vs-synthetic discriminator on BBC News ledes. Measured with
bench/utility.py (dev draws 0–3, two generations each, paired: the same drafts up to this step;
2026-12-06, AMD EPYC): discriminator AUC 0.831 / 0.845 / 0.843 / 0.867 against 0.849 / 0.861 / 0.867 /
0.881 without it (−0.018 on average, lower on every draw), TSTR ratio 0.81 on average either way; dev
draws 4 and 5 (with `balance_types` in both arms): AUC 0.841 / 0.835 against 0.857 / 0.843, TSTR ratio
0.831 / 0.811 against 0.824 / 0.810.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection

from privacy.placeholders import PLACEHOLDER, find_placeholders
from privacy.surrogates import SHAPED_TYPES
from synth.fill import known_type
from synth.pii import PiiDetector

# Words inside an invented placeholder type → the surrogate type it stands for. Checked in order.
_TYPE_WORDS = (
    ("EMAIL_ADDRESS", ("EMAIL", "MAIL")),
    ("PHONE_NUMBER", ("PHONE", "TEL", "TELEPHONE", "MOBILE", "FAX")),
    ("URL", ("URL", "WEBSITE", "LINK", "DOMAIN")),
    ("ZIP_CODE", ("ZIP", "POSTCODE", "POSTAL")),
    ("STREET_ADDRESS", ("ADDRESS", "STREET", "ROAD")),
    ("DATE_TIME", ("DATE", "DAY", "MONTH", "YEAR", "TIME", "WEEK", "BIRTHDAY")),
    ("ACCOUNT_NUMBER", ("ACCOUNT", "IBAN", "CARD")),
    ("ORGANIZATION", ("COMPANY", "ORG", "ORGANISATION", "ORGANIZATION", "TEAM", "CLUB", "BRAND", "BANK", "PARTY",
                      "FIRM", "BAND", "NETWORK", "CHANNEL", "STUDIO", "AGENCY", "GROUP", "UNIVERSITY", "SCHOOL",
                      "HOSPITAL", "STORE", "SHOP", "BUSINESS", "EMPLOYER", "NEWSPAPER", "PUBLISHER", "LEAGUE")),
    ("NRP", ("NATIONALITY", "RELIGION", "ETHNICITY")),
    ("LOCATION", ("CITY", "COUNTRY", "PLACE", "LOCATION", "LOCALITY", "STATE", "REGION", "TOWN", "VENUE", "STADIUM", "GPE",
                  "NATION", "AREA", "COUNTY", "VILLAGE", "AIRPORT")),
    ("PERSON", ("NAME", "PERSON", "PLAYER", "ACTOR", "ACTRESS", "SINGER", "CEO", "MINISTER", "PRESIDENT", "MANAGER",
                "COACH", "AUTHOR", "DIRECTOR", "CUSTOMER", "PATIENT", "DOCTOR", "USER", "EMPLOYEE", "ARTIST",
                "CHAIRMAN", "LEADER", "MP", "STAR", "SPOKESMAN", "SPOKESPERSON", "ANALYST", "OFFICIAL", "CHANCELLOR",
                "AGENT", "MEMBER", "CLIENT", "FRIEND", "WIFE", "HUSBAND", "SON", "DAUGHTER", "SECRETARY", "JUDGE",
                "SURNAME", "FIRSTNAME", "HOST", "WRITER", "REPORTER", "NURSE", "STAFF", "OWNER", "FOUNDER")),
    ("ID", ("ID", "NUMBER", "CODE", "REFERENCE", "MRN", "SSN")),
)

# Placeholder-like shapes: <TYPE_1> with an unknown type, <TYPE>, <TYPE_1 (unclosed), <TYPE-1], [type],
# [type_1], TYPE_1.
# One pattern, so that a rewritten placeholder is never matched again by another shape.
_SHAPES = re.compile(
    r"<(?P<closed>[A-Za-z][A-Za-z0-9_ -]{0,80}?)(?:[_-](?P<closed_n>\d+))?[>\]]"
    r"|<(?P<angled>[A-Za-z][A-Za-z0-9_-]{0,30}?)(?:[_-](?P<angled_n>\d+))?(?=[\s.,;:!?)<]|$)"
    r"|\[(?P<square>[A-Za-z][A-Za-z_ ]{1,29}?)(?:_(?P<square_n>\d+))?\]"
    r"|\b(?P<bare>[A-Z]{2,}(?:_[A-Z]+)*)_(?P<bare_n>\d+)\b"
)


def guess_type(raw: str) -> str | None:
    """The surrogate type an invented placeholder type stands for, or None."""
    name = re.sub(r"[\s-]+", "_", raw.strip()).upper().strip("_")
    if known := known_type(name):
        return known
    words = set(name.split("_"))
    for entity_type, cues in _TYPE_WORDS:
        if words & set(cues) or any(cue in name for cue in cues if len(cue) >= 5):
            return entity_type
    return None


# A well-formed placeholder of a type nothing maps (<TITLE_105>, <LIMESTAR_54>) still stands where the
# model meant a proper noun; it is filled as an organisation name rather than thrown away — or, with
# a FallbackType, as the proper-noun type the kept records so far lack most.
FALLBACK_TYPE = "ORGANIZATION"
FALLBACK_CANDIDATES = ("PERSON", "ORGANIZATION", "LOCATION")


class FallbackType:
    """The type a made-up placeholder is filled as: of FALLBACK_CANDIDATES, the one whose share of
    the kept records' surrogates falls furthest below its share of the real records' placeholders.
    A small model writes fewer names and places than real records hold, and its made-up types, all
    filled as organisations, would widen that gap (synth/generate.py keeps it up to date).

    On BBC News ledes the kept records carried 0.6 persons and 1.4 organisations per record against
    the real 1.3 and 1.2. bench/utility.py, dev draws 0–3, two generations each, paired (2026-12-06,
    AMD EPYC; `SynthRequest.balance_types`): discriminator AUC 0.821 / 0.830 / 0.840 / 0.866 against
    0.831 / 0.845 / 0.843 / 0.867 without it (−0.008 on average, never higher), TSTR ratio 0.817
    against 0.809, lift +0.048 against +0.050 — a small step, kept because it moves one way."""

    def __init__(self, real_texts: list[str]):
        self.real = Counter(t for text in real_texts for t, *_ in find_placeholders(text) if t in FALLBACK_CANDIDATES)
        self.kept: Counter = Counter()

    def keep(self, entity_types) -> None:
        self.kept.update(t for t in entity_types if t in FALLBACK_CANDIDATES)

    def __call__(self) -> str:
        real, kept = sum(self.real.values()), sum(self.kept.values())
        if not real:
            return FALLBACK_TYPE
        deficit = {t: self.real[t] / real - (self.kept[t] / kept if kept else 0.0) for t in FALLBACK_CANDIDATES}
        return max(FALLBACK_CANDIDATES, key=lambda t: (deficit[t], self.real[t]))


def _made_up_type(raw: str) -> bool:
    """Whether an angled shape's name reads as a placeholder type the model made up (<BANKING_CONSTUTURE>,
    <LADY OF COURAGE>, <Sport_EASYMATCH>) rather than markup (<br>, <b>): an underscore, or mostly capitals."""
    letters = [c for c in raw if c.isalpha()]
    return "_" in raw or (len(letters) >= 2 and sum(c.isupper() for c in letters) * 2 >= len(letters))


def repair_placeholders(text: str, repairs: Counter | None = None, fallback: str = FALLBACK_TYPE) -> str:
    """`text` with every placeholder-like shape of a guessable type rewritten as a well-formed
    placeholder (`<PERSON>` → `<PERSON_1>`), and well-formed placeholders of unguessable types
    filled as `fallback`; `repairs` counts what was rewritten."""
    def rewrite(kind: str, raw: str, number: str | None, original: str) -> str:
        entity_type = guess_type(raw)
        if entity_type is None and kind == "placeholder_type":
            entity_type, kind = fallback, "placeholder_type_unknown"
        if entity_type is None:
            return original
        fixed = f"<{entity_type}_{number or 1}>"
        if fixed != original and repairs is not None:
            repairs[kind] += 1
        return fixed

    pieces, last = [], 0
    for match in PLACEHOLDER.finditer(text):  # well-formed ones: only the type may need mapping
        pieces.append(_repair_shapes(text[last:match.start()], rewrite))
        pieces.append(rewrite("placeholder_type", match.group(1), match.group(2), match.group(0)))
        last = match.end()
    pieces.append(_repair_shapes(text[last:], rewrite))
    return "".join(pieces)


def _repair_shapes(text: str, rewrite) -> str:
    def one(m: re.Match) -> str:
        raw = m["closed"] or m["angled"] or m["square"] or m["bare"]
        kind = "placeholder_type" if (m["closed"] or m["angled"]) and _made_up_type(raw) else "placeholder_shape"
        return rewrite(kind, raw, m["closed_n"] or m["angled_n"] or m["square_n"] or m["bare_n"], m.group(0))

    return _SHAPES.sub(one, text)


def replace_invented_pii(text: str, detector: PiiDetector, ignore: Collection[str], repairs: Counter | None = None,
                         shapes: dict[str, str] | None = None) -> str:
    """`text` with every detected PII span outside a placeholder (not of an `ignore` type, and of a
    type synthesis has surrogates for) replaced by a new placeholder of its type, numbered after the
    text's own ones. `shapes` gets placeholder → replaced value for the types whose surrogate takes
    the shape of the value it replaces ("on Tuesday" is filled as "on Friday", not "on April 1998")."""
    holes = [(start, end) for *_, start, end in find_placeholders(text)]
    numbers = Counter()
    for entity_type, number, *_ in find_placeholders(text):
        numbers[entity_type] = max(numbers[entity_type], number)
    spans = []
    for entity_type, start, end in sorted(detector(text), key=lambda d: (d[1], -d[2])):
        if entity_type in ignore or any(lo < end and start < hi for lo, hi in holes):
            continue
        if spans and start < spans[-1][2] or known_type(entity_type) is None:
            continue  # overlaps a span already taken, or a type with no surrogate: the filter rejects it
        spans.append((known_type(entity_type), start, end))
    for entity_type, start, end in reversed(spans):
        numbers[entity_type] += 1
        token = f"<{entity_type}_{numbers[entity_type]}>"
        if shapes is not None and entity_type in SHAPED_TYPES:
            shapes[token] = text[start:end]
        text = f"{text[:start]}{token}{text[end:]}"
        if repairs is not None:
            repairs["invented_pii_replaced"] += 1
    return text
