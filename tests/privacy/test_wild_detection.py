"""Detection fixes found on the wild set's dev half, each on made-up examples (none taken from the
evaluation sets): units that join their street, street forms of more countries, companies in
lowercase and in more languages, regions and districts, names in lowercase prose, and the false hits
that cost readable words (chat lines taken for names, a block's next line glued to a name)."""

from __future__ import annotations

import pytest

from tests.privacy.spans import covered, found

# (text, a value that must be covered), by what each group shows.
COVERED = [
    # units join their street; street forms of more countries; a chat's answer to "address?"
    ("Deliver to:\nKnudsvej 18, Flat 3\n4200 Slagelse", "Knudsvej 18, Flat 3"),
    ("Holmbladsgade 9, st. th.\n2300 København S", "Holmbladsgade 9, st. th."),
    ("the flat is at Av. 7 1420, piso 3, Mendoza", "Av. 7 1420"),
    ("Envío: Transversal 5ª # 12-40-3, Pasto", "Transversal 5ª # 12-40-3"),
    ("Endereço: Estrada Velha do Mar, 211 - Centro", "Estrada Velha do Mar, 211"),
    ("agent: and your address?\nclient: 77 Nkosi Drive, Umlazi", "77 Nkosi Drive"),
    # companies in lowercase and in more languages
    ("we met the auditors of brandvold llc yesterday", "brandvold llc"),
    ("after a call with haugen, berg and lund we signed", "haugen, berg and lund"),
    ("Supplier: Dahl og Sønner, Bergen", "Dahl og Sønner"),
    ("Ký hợp đồng với Hoàng Công ty TNHH hôm qua.", "Hoàng Công ty TNHH"),
    # regions and districts
    ("Penrith NSW 2750\nAustralia", "NSW"),
    ("Itabuna - BA, 45600-000", "BA"),
    ("Calle Roble 12, Col. Santa Lucía del Monte, 44100 Guadalajara", "Santa Lucía del Monte"),
    ("Born in Tasmania, she moved north.", "Tasmania"),
    # names in lowercase prose and chat, after a lowercase title
    ("yesterday i met dr. jelena at the clinic", "jelena"),
    ("that was the last we heard of mirela", "mirela"),
    ("[09:14] tomasz: is anyone there?", "tomasz"),
    ("Seen today: mrs. Halvorsen, 52y.", "Halvorsen"),
]


@pytest.mark.parametrize("text, value", COVERED)
def test_found_on_made_up_examples_of_the_dev_misses(analyzer, default_policy, text, value):
    assert covered(analyzer, default_policy, text, value), found(analyzer, default_policy, text)


def test_everyday_lowercase_lists_are_not_companies(analyzer, default_policy):
    text = "we bought apples, pears and plums at the market"
    assert not any(t == "ORGANIZATION" for t, _ in found(analyzer, default_policy, text))


@pytest.mark.parametrize("text, kept", [
    ("agent: anything else?\ncustomer: ok so what happens now", "so what happens now"),
    ("customer: thx bye", "thx bye"),
    ("Consignee: Jorunn Vik\nPayment on delivery", "Payment on delivery"),
    ("Herr Lindqvist called twice.", "Herr"),
    ("Breakfast included, late check-in.", "Breakfast included"),
])
def test_words_around_names_are_kept(analyzer, default_policy, text, kept):
    spans = " ".join(v for _, v in found(analyzer, default_policy, text))
    assert not any(word in spans for word in kept.split()), spans
