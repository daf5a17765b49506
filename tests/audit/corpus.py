"""A seeded generator of scrubbed-looking support records, for the audit's tests and benchmark.

Records from one generator share a distribution but (36 words drawn from ~900) never a long run
of words, so a "synthetic" set drawn from it is an honest stand-in for well-behaved synthesis.
"""

from __future__ import annotations

import random

from faker.providers.lorem.en_US import Provider as LoremProvider

LABELS = {
    "billing": "invoice charge refund payment card statement fee balance overcharged receipt".split(),
    "access": "password login account locked reset token username session browser verification".split(),
    "delivery": "parcel courier shipment tracking delayed address warehouse package driver doorstep".split(),
}
OPENERS = [
    "<PERSON_1> wrote in about", "Customer <PERSON_1> called regarding", "Ticket opened by <PERSON_1> for",
    "Message from <PERSON_1> concerning", "Follow-up from <PERSON_1> on",
]
CLOSERS = ["Write back to <EMAIL_ADDRESS_1>.", "Call back on <PHONE_NUMBER_1>.", "No contact details given.",
           "Prefers email at <EMAIL_ADDRESS_1>.", "Escalate if unresolved by <DATE_TIME_1>."]


# Faker's list of ~1,000 common English words (lower case, no names): plain text that the PII
# detectors have no reason to flag.
VOCABULARY = sorted(w for w in LoremProvider.word_list if len(w) >= 3)


def make_records(n: int, seed: int, prefix: str = "R", words: int = 36) -> list[dict]:
    """`n` records with ids `<prefix>-00001`…, a label, and ~`words` words of text."""
    rng = random.Random(seed)
    records = []
    for i in range(1, n + 1):
        label = rng.choice(sorted(LABELS))
        body = [rng.choice(LABELS[label]) if rng.random() < 0.3 else rng.choice(VOCABULARY) for _ in range(words)]
        text = f"{rng.choice(OPENERS)} {' '.join(body)}. {rng.choice(CLOSERS)}"
        records.append({"id": f"{prefix}-{i:05d}", "kind": "ticket", "label": label, "text": text})
    return records


def near_copy(record: dict, seed: int, changes: int = 3) -> dict:
    """The record with `changes` words replaced at random."""
    rng = random.Random(seed)
    words = record["text"].split()
    for position in rng.sample(range(len(words)), changes):
        words[position] = rng.choice(VOCABULARY)
    return {**record, "id": f"S-{record['id']}", "text": " ".join(words)}
