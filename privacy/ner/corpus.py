"""The synthetic training corpus of Airlock's NER: template families filled from the gazetteers.

Written apart from the evaluation sets (bench/evalset*.py) on purpose: other templates, other
street and company makers, names and places drawn from the whole gazetteers. Casing varies
(lowercase chat, capitals, as written) so the model does not lean on capitals alone.
"""

from __future__ import annotations

import random
import re

from privacy.gazetteers import names, places

LABELS = ("PERSON", "LOCATION", "ORGANIZATION", "STREET_ADDRESS")
_STREET_AFTER = ("Street", "Road", "Avenue", "Lane", "gade", "vej", "gatan", "vägen", "straße", "weg", "straat",
                 "laan", "utca", "ulica", "katu", "tie")
_STREET_BEFORE = ("Rua", "Calle", "Avenida", "Via", "Rue", "Strada", "Jalan", "ul.", "Str.", "Bulevardul", "Carrera")
_FORMS = ("Ltd", "LLC", "GmbH", "S.A.", "B.V.", "AB", "Oy", "A/S", "Sp. z o.o.", "S.R.L.", "Ltda", "Holdings",
          "Group", "Partners", "CO.LTD.", "PLC", "Inc.", "Kft.", "d.o.o.", "Tbk")
_UNITS = ("", "", "", ", Apt. {n}", ", Suite {n}", " {n}. th.", ", piso {n}", " lok. {n}")
TEMPLATES = (
    "{PERSON} called about the delivery to {STREET_ADDRESS}, {LOCATION}.",
    "Please forward the contract to {PERSON} at {ORGANIZATION}.",
    "{PERSON} from {LOCATION} asked whether {ORGANIZATION} received the payment.",
    "hey {PERSON} are you still in {LOCATION}?",
    "Customer: {PERSON}\nAddress: {STREET_ADDRESS}\n{LOCATION}",
    "The invoice was issued by {ORGANIZATION}, {STREET_ADDRESS}, {LOCATION}.",
    "Yesterday {PERSON} and {PERSON} drove to {LOCATION} for the audit.",
    "Ship to: {PERSON}, {STREET_ADDRESS}, {LOCATION}, {LOCATION}",
    "{ORGANIZATION} opened a new office in {LOCATION} last year.",
    "Meeting with {PERSON} ({ORGANIZATION}) moved to Thursday.",
    "i think {PERSON} lives on {STREET_ADDRESS} now",
    "Our driver {PERSON} could not find {STREET_ADDRESS} in {LOCATION}.",
    "Reference letter for {PERSON}, formerly employed by {ORGANIZATION}.",
    "{PERSON} wrote: the parcel is still in {LOCATION}.",
    "Dr. {PERSON} reviewed the scan; the patient returns from {LOCATION} on Monday.",
    "Consignee {ORGANIZATION}\n{STREET_ADDRESS}\n{LOCATION}\n{LOCATION}",
    "The weekly report is late again and nobody knows why.",
    "Please reset my password, the old one expired on Friday.",
    "thanks {PERSON}, see you at the office",
    "According to {PERSON}, {ORGANIZATION} will close its branch in {LOCATION}.",
)


class CorpusMaker:
    """Draws filled templates; one instance per seed, deterministic."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        gazetteer = names()
        self.first = sorted(gazetteer.first)
        self.last = sorted(gazetteer.last)
        self.places = sorted(places().cities | places().countries)

    def example(self) -> tuple[str, list[tuple[int, int, str]]]:
        template = self.rng.choice(TEMPLATES)
        text, spans, pos = [], [], 0
        length = 0
        for m in re.finditer(r"\{(\w+)\}", template):
            literal = template[pos:m.start()]
            text.append(literal)
            length += len(literal)
            value = self._value(m.group(1))
            spans.append((length, length + len(value), m.group(1)))
            text.append(value)
            length += len(value)
            pos = m.end()
        text.append(template[pos:])
        return self._recase("".join(text)), spans

    def _value(self, label: str) -> str:
        rng = self.rng
        if label == "PERSON":
            parts = [rng.choice(self.first).title()] + [rng.choice(self.last).title()] * (rng.random() < 0.7)
            return " ".join(parts)
        if label == "LOCATION":
            return rng.choice(self.places)
        if label == "ORGANIZATION":
            core = rng.choice(self.last).title()
            if rng.random() < 0.3:
                core = f"{core} & {rng.choice(self.last).title()}"
            value = f"{core} {rng.choice(_FORMS)}"
            return value.upper() if rng.random() < 0.3 else value
        name = rng.choice(self.last).title()
        number = str(rng.randint(1, 400))
        unit = rng.choice(_UNITS).format(n=rng.randint(1, 40))
        if rng.random() < 0.5:
            street = f"{name}{rng.choice(_STREET_AFTER)}" if rng.random() < 0.5 else f"{name} {rng.choice(_STREET_AFTER)}"
            return (f"{street} {number}" if rng.random() < 0.6 else f"{number} {street}") + unit
        return f"{rng.choice(_STREET_BEFORE)} {name} {number}{unit}"

    def _recase(self, text: str) -> str:
        roll = self.rng.random()
        if roll < 0.25:
            return text.lower()
        if roll < 0.32:
            return text.upper()
        return text
