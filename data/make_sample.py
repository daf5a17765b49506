"""Write Airlock's bundled sample: 300 fictional support tickets and clinical-style notes.

Every name, address, phone number and identifier comes from a seeded Faker, so the file is the
same on every machine and no real person is in it. Run: `.venv/bin/python data/make_sample.py`.
Writes data/sample/records.jsonl (the policy beside it, data/sample/policy.yaml, is hand-written).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

SEED = 20251125
N_RECORDS = 300
OUT = Path(__file__).parent / "sample" / "records.jsonl"

TICKET_LABELS = ("billing", "technical", "account", "shipping")
NOTE_LABELS = ("cardiology", "respiratory", "orthopedics", "dermatology")
LOCALES = ("en_US",) * 8 + ("en_GB",) * 2 + ("de_DE",)
# Fixed dates, not "today": the file must not change with the day it is generated on.
FIRST_DAY, LAST_DAY = date(2023, 1, 1), date(2025, 10, 31)


class Person:
    """One fictional customer or patient, with everything a text may mention about them."""

    def __init__(self, rng: random.Random, fakers: dict[str, Faker]):
        self.faker = fakers[rng.choice(LOCALES)]
        us = fakers["en_US"]
        self.first, self.last = self.faker.first_name(), self.faker.last_name()
        self.name = f"{self.first} {self.last}"
        domain = rng.choice(("example.com", "example.org", "example.net", "mail.example.com"))
        sep = rng.choice((".", "_", ""))
        suffix = rng.randint(1, 99) if rng.random() < 0.4 else ""
        self.email = f"{_ascii(self.first)}{sep}{_ascii(self.last)}{suffix}@{domain}"
        self.phone = _phone(rng, self.faker, us)
        if self.faker is us:  # Faker's en_US address() sometimes gives military addresses
            street, city, state, zipcode = (self.faker.street_address(), self.faker.city(),
                                            self.faker.state_abbr(), self.faker.zipcode())
            self.address = f"{street}, {city}, {state} {zipcode}"
        else:
            self.address = self.faker.address().replace("\n", ", ")
        self.street = self.faker.street_address()
        self.city = self.faker.city()
        self.dob = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 70))
        self.age = LAST_DAY.year - self.dob.year
        self.account = rng.choice((f"ACC-{rng.randint(10_000_000, 99_999_999)}",
                                   f"{rng.randint(100_000, 999_999)}-{rng.randint(10, 99)}"))
        self.mrn = rng.choice((f"MRN {rng.randint(1_000_000, 9_999_999)}", f"MRN-{rng.randint(100_000, 999_999)}",
                               f"{rng.randint(10_000_000, 99_999_999)}"))
        self.username = us.user_name()


def _ascii(name: str) -> str:
    return "".join(c for c in name.lower() if c.isascii() and c.isalpha()) or "user"


def _phone(rng: random.Random, faker: Faker, us: Faker) -> str:
    style = rng.random()
    if style < 0.5:
        return faker.phone_number()
    if style < 0.7:
        return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    if style < 0.85:
        return f"{rng.randint(201, 989)}.{rng.randint(200, 999)}.{rng.randint(1000, 9999)}"
    return us.phone_number()


def _date(rng: random.Random, faker: Faker) -> str:
    day = faker.date_between_dates(FIRST_DAY, LAST_DAY)
    return day.strftime(rng.choice(("%B %d, %Y", "%m/%d/%Y", "%d %b %Y", "%Y-%m-%d", "%b %d")))


# Sentence pools: each entry takes (p, other, date, rng, faker) and returns one sentence.
Sentence = Callable[..., str]

TICKET_OPENERS: dict[str, list[Sentence]] = {
    "billing": [
        lambda p, o, d, r, f: f"Hi, this is {p.name} — I was charged twice for invoice INV-{r.randint(2023, 2025)}-{r.randint(1000, 9999)} on {d}.",
        lambda p, o, d, r, f: f"My card ending in {r.randint(1000, 9999)} was billed ${r.randint(12, 480)}.{r.randint(0, 99):02d} even though I cancelled my plan on {d}.",
        lambda p, o, d, r, f: f"Account {p.account} shows a late fee that I don't think is right, I paid on time.",
        lambda p, o, d, r, f: f"hello, {p.name.lower()} here, why did my monthly price go up without any notice?",
        lambda p, o, d, r, f: f"I'm writing on behalf of {o.name} about a refund that was promised on {d} and never arrived.",
        lambda p, o, d, r, f: f"Our company {f.company()} was invoiced for 12 seats but we only use 8 since {d}.",
        lambda p, o, d, r, f: f"Why was I charged a currency conversion fee? I live at {p.address} and pay in dollars.",
    ],
    "technical": [
        lambda p, o, d, r, f: f"The app crashes every time I upload a file larger than {r.choice((10, 20, 50))} MB since the update on {d}.",
        lambda p, o, d, r, f: f"I can't log in from {f.ipv4_public()}; the error says my session expired even right after a reset.",
        lambda p, o, d, r, f: f"{p.name} here, sync between my laptop and my phone stopped working after the last release.",
        lambda p, o, d, r, f: f"Our team at {f.company()} gets a 502 error on the dashboard every morning around 9.",
        lambda p, o, d, r, f: f"the export to CSV produces an empty file, username {p.username}, tried three browsers.",
        lambda p, o, d, r, f: f"Password reset emails never reach {p.email}, I checked the spam folder too.",
        lambda p, o, d, r, f: f"Since {d} the mobile app shows a blank screen after login for my account {p.account}.",
    ],
    "account": [
        lambda p, o, d, r, f: f"Please change the email on account {p.account} to {p.email}, the old address no longer works.",
        lambda p, o, d, r, f: f"I'd like to add {o.name} as an authorized user on my account.",
        lambda p, o, d, r, f: f"I moved to {p.address} — can you update my profile and billing address?",
        lambda p, o, d, r, f: f"Please close my account, my username is {p.username} and I no longer need the service.",
        lambda p, o, d, r, f: f"Someone reset my password on {d} and it wasn't me, my name is {p.name}.",
        lambda p, o, d, r, f: f"My late father {o.name} had an account with you; how do I close it?",
        lambda p, o, d, r, f: f"Please merge my two profiles, one uses {p.email} and the other my phone {p.phone}.",
    ],
    "shipping": [
        lambda p, o, d, r, f: f"Order #{r.randint(100000, 999999)} was supposed to arrive on {d} but tracking hasn't moved in a week.",
        lambda p, o, d, r, f: f"The package went to {p.street}, {p.city} instead of my new address.",
        lambda p, o, d, r, f: f"{p.name} here — the box arrived crushed and two of the glasses inside were broken.",
        lambda p, o, d, r, f: f"Could you hold my parcel at the depot? I'm away until {d}.",
        lambda p, o, d, r, f: f"I ordered for my mother {o.name} at {o.street}, {o.city}, but she says nothing came.",
        lambda p, o, d, r, f: f"The tracking page says delivered on {d}, but {p.name} at {p.street} received nothing.",
        lambda p, o, d, r, f: f"Can I change the delivery address for order #{r.randint(100000, 999999)} to {p.address}?",
    ],
}

TICKET_DETAILS: dict[str, list[Sentence]] = {
    "billing": [
        lambda p, o, d, r, f: "I'd like the duplicate payment refunded to the original card.",
        lambda p, o, d, r, f: f"My bank statement from {d} shows both charges.",
        lambda p, o, d, r, f: "Can you also send me a corrected invoice for my records?",
        lambda p, o, d, r, f: f"The account is under my partner's name, {o.name}.",
    ],
    "technical": [
        lambda p, o, d, r, f: "I already cleared the cache and reinstalled, same result.",
        lambda p, o, d, r, f: f"Version {r.randint(3, 6)}.{r.randint(0, 12)}.{r.randint(0, 30)} on Windows 11, it worked fine before.",
        lambda p, o, d, r, f: f"My colleague {o.name} sees the same thing on her Mac.",
        lambda p, o, d, r, f: "Screenshots are attached, the log mentions a timeout.",
    ],
    "account": [
        lambda p, o, d, r, f: f"My date of birth is {p.dob.strftime('%m/%d/%Y')} if you need to verify me.",
        lambda p, o, d, r, f: "I tried doing it in the settings page but the save button is greyed out.",
        lambda p, o, d, r, f: f"The last four of my account number are {p.account[-4:]}.",
        lambda p, o, d, r, f: "Please confirm once it's done.",
    ],
    "shipping": [
        lambda p, o, d, r, f: f"My new address is {p.address}.",
        lambda p, o, d, r, f: "The courier left no card and the local depot says they have nothing.",
        lambda p, o, d, r, f: "I'd prefer a replacement over a refund if possible.",
        lambda p, o, d, r, f: f"The neighbour, {o.name}, might have signed for it by mistake.",
    ],
}

TICKET_CONTACTS: list[Sentence] = [
    lambda p, o, d, r, f: f"You can reach me at {p.phone} or {p.email}.",
    lambda p, o, d, r, f: f"Please call me back on {p.phone}, thanks.",
    lambda p, o, d, r, f: f"Reply to {p.email}, I rarely check this inbox.",
    lambda p, o, d, r, f: f"Thanks, {p.first}",
    lambda p, o, d, r, f: f"Regards, {p.name}, {p.phone}",
]

NOTE_OPENERS: dict[str, list[Sentence]] = {
    "cardiology": [
        lambda p, o, d, r, f: f"{p.name} (DOB {p.dob.strftime('%m/%d/%Y')}, {p.mrn}) presented on {d} with intermittent chest pain radiating to the left arm.",
        lambda p, o, d, r, f: f"Patient {p.name}, {p.age}-year-old, seen for palpitations and dizziness over the past two weeks.",
        lambda p, o, d, r, f: f"Follow-up visit on {d} for {p.name}, known atrial fibrillation on apixaban.",
        lambda p, o, d, r, f: f"{p.age} y/o referred by Dr. {o.last} for exertional dyspnea and ankle swelling, {p.mrn}.",
        lambda p, o, d, r, f: f"ED visit on {d}: {p.name}, {p.age}, syncope while climbing stairs, brought in by her son {o.first}.",
    ],
    "respiratory": [
        lambda p, o, d, r, f: f"Patient {p.name}, {p.age}-year-old, seen for worsening shortness of breath and productive cough for five days.",
        lambda p, o, d, r, f: f"{p.name} ({p.mrn}) presents with wheezing after a viral illness, history of asthma since childhood.",
        lambda p, o, d, r, f: f"Telehealth visit on {d}: {p.first} reports night sweats and a dry cough for three weeks.",
        lambda p, o, d, r, f: f"Admitted on {d} with community-acquired pneumonia, patient is {p.name}, DOB {p.dob.isoformat()}.",
        lambda p, o, d, r, f: f"{p.name}, a {p.age}-year-old teacher from {p.city}, reports chronic cough worse at night.",
    ],
    "orthopedics": [
        lambda p, o, d, r, f: f"{p.name} injured the right knee playing soccer on {d}; exam suggests a partial ACL tear.",
        lambda p, o, d, r, f: f"Patient {p.name}, {p.mrn}, follow-up six weeks after distal radius fracture fixation.",
        lambda p, o, d, r, f: f"{p.age}-year-old with chronic low back pain radiating to the left leg, seen on {d}.",
        lambda p, o, d, r, f: f"Post-op check for {p.name} after total hip replacement, wound clean and dry.",
        lambda p, o, d, r, f: f"{p.name} ({p.mrn}) fell from a ladder on {d} and reports left shoulder pain.",
    ],
    "dermatology": [
        lambda p, o, d, r, f: f"{p.name} seen on {d} for a changing mole on the upper back, 7 mm with an irregular border.",
        lambda p, o, d, r, f: f"Patient {p.name} ({p.mrn}) reports an itchy rash on both forearms after starting a new detergent.",
        lambda p, o, d, r, f: f"{p.age} y/o with moderate acne not responding to topical treatment, seen on {d}.",
        lambda p, o, d, r, f: f"Follow-up for psoriasis plaques on elbows and scalp, {p.name}, DOB {p.dob.strftime('%d %b %Y')}.",
        lambda p, o, d, r, f: f"Referred by Dr. {o.last} on {d}: {p.name}, {p.age}, with a non-healing lesion on the nose.",
    ],
}

NOTE_DETAILS: dict[str, list[Sentence]] = {
    "cardiology": [
        lambda p, o, d, r, f: "ECG showed sinus rhythm with occasional PVCs; troponin was negative.",
        lambda p, o, d, r, f: f"Started metoprolol {r.choice((25, 50))} mg twice daily, echo ordered.",
        lambda p, o, d, r, f: f"Blood pressure {r.randint(118, 168)}/{r.randint(70, 100)}, heart rate {r.randint(58, 112)}.",
        lambda p, o, d, r, f: f"Follow-up with Dr. {o.last} in two weeks with Holter results.",
    ],
    "respiratory": [
        lambda p, o, d, r, f: f"SpO2 {r.randint(88, 97)}% on room air; chest X-ray shows right lower lobe consolidation.",
        lambda p, o, d, r, f: "Prescribed amoxicillin-clavulanate and advised to return if fever persists.",
        lambda p, o, d, r, f: "Spirometry shows mild obstruction, improved after bronchodilator.",
        lambda p, o, d, r, f: f"Former smoker, quit on {d}, about 20 pack-years.",
    ],
    "orthopedics": [
        lambda p, o, d, r, f: f"Referred to physical therapy at {o.city} Sports Clinic; crutches provided.",
        lambda p, o, d, r, f: "X-ray shows good alignment and early callus formation.",
        lambda p, o, d, r, f: "MRI ordered to rule out disc herniation at L4-L5.",
        lambda p, o, d, r, f: "Range of motion improving, pain 3/10 with activity.",
    ],
    "dermatology": [
        lambda p, o, d, r, f: "Shave biopsy performed, results expected within ten days.",
        lambda p, o, d, r, f: "Prescribed hydrocortisone 1% cream twice daily for two weeks.",
        lambda p, o, d, r, f: "Dermoscopy shows an atypical network; excision recommended.",
        lambda p, o, d, r, f: "Started on a low dose of isotretinoin after counselling.",
    ],
}

NOTE_CONTACTS: list[Sentence] = [
    lambda p, o, d, r, f: f"Patient lives at {p.address}; contact number {p.phone}.",
    lambda p, o, d, r, f: f"Results will be sent to {p.email}.",
    lambda p, o, d, r, f: f"Emergency contact: {o.name}, {o.phone}.",
    lambda p, o, d, r, f: f"Next appointment scheduled for {d}.",
]


def make_record(number: int, rng: random.Random, fakers: dict[str, Faker]) -> dict:
    """One record: 2-4 sentences of free text, plus sometimes a structured contact."""
    person, other = Person(rng, fakers), Person(rng, fakers)
    faker = person.faker
    kind = "ticket" if rng.random() < 0.55 else "note"
    label = rng.choice(TICKET_LABELS if kind == "ticket" else NOTE_LABELS)
    openers, details, contacts = ((TICKET_OPENERS, TICKET_DETAILS, TICKET_CONTACTS) if kind == "ticket"
                                  else (NOTE_OPENERS, NOTE_DETAILS, NOTE_CONTACTS))
    chosen = [rng.choice(openers[label])]
    chosen += rng.sample(details[label], rng.randint(0, 2))
    if len(chosen) < 2 or rng.random() < 0.6:
        chosen.append(rng.choice(contacts))
    text = " ".join(sentence(person, other, _date(rng, faker), rng, faker) for sentence in chosen)
    record = {"id": f"R-{number:04d}", "kind": kind, "label": label, "text": text}
    if kind == "ticket" and rng.random() < 0.5:
        record["contact"] = {"email": person.email, "phone": person.phone}
    return record


def main() -> None:
    rng = random.Random(SEED)
    fakers = {locale: Faker(locale) for locale in set(LOCALES)}
    for offset, faker in enumerate(sorted(fakers)):
        fakers[faker].seed_instance(SEED + offset)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for number in range(1, N_RECORDS + 1):
            out.write(json.dumps(make_record(number, rng, fakers), ensure_ascii=False) + "\n")
    print(f"wrote {N_RECORDS} records to {OUT}")


if __name__ == "__main__":
    main()
