"""Street addresses: number + street + suffix with unit/apartment (US/UK/AU), glued German and Dutch
suffixes (Hauptstraße 12), and French/Spanish/Italian prefixes (12, rue de la Paix; Calle Mayor 5).
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.span_pattern import SpanPatternRecognizer

# USPS street suffixes and their common abbreviations, plus British/Australian ones.
_SUFFIXES = r"""Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Place|Pl|Square|Sq
|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Way|Circle|Cir|Circles|Close|Crescent|Cres|Grove|Groves|Gardens
|Garden|Mews|Row|Walk|Walks|Trail|Trl|Path|Hill|Hills|Park|Parks|Plaza|Loop|Run|Pike|Alley|Bypass
|Causeway|Crossing|Crossroad|Green|Greens|Heights|Vale|View|Views|Vista|Ridge|Ridges|Point|Points
|Landing|Meadow|Meadows|Glen|Glens|Estate|Estates|Common|Commons|Junction|Junctions|Manor|Manors
|Harbor|Harbors|Harbour|Port|Ports|Shore|Shores|Spring|Springs|Summit|Station|Brook|Brooks|Creek
|Falls|Fall|Field|Fields|Forest|Lake|Lakes|Mill|Mills|Valley|Valleys|Village|Villages|Ville|Wharf
|Quay|Quays|Parade|Esplanade|Promenade|Rise|Chase|Gate|Gates|Wynd|Broadway|Turnpike|Expressway
|Freeway|Motorway|Tunnel|Skyway|Stravenue|Light|Lights|Isle|Island|Islands|Key|Keys|Knoll|Knolls
|Oval|Pass|Passage|Plain|Plains|Prairie|Ranch|Rapid|Rapids|Squares|Trace|Track|Underpass|Overpass
|Union|Unions|Via|Viaduct|Wall|Ways|Well|Wells|Ferry|Ford|Fords|Fork|Forks|Forge|Forges|Fort
|Mount|Mountain|Mountains|Neck|Orchard|Radial|Ramp|Rest|River|Shoal|Shoals|Spur|Spurs|Stream
|Throughway|Trafficway|Centre|Center|Centers|Corner|Corners|Cove|Coves|Crest|Curve|Dale|Dam|Divide
|Extension|Extensions|Flat|Flats|Gateway|Haven|Hollow|Inlet|Land|Loaf|Lock|Locks|Lodge|Mall
|Mission|Pine|Pines|Roads|Streets|Branch|Bridge|Burg|Burgs|Camp|Canyon|Cape|Cliff|Cliffs|Club
|Courts|Drives|Line|Ronde|Firetrail|Circuit|Approach|Arcade|Brae|Concourse|Grange|Nook|Reach
|Reserve|Cross|Towers|Gap|Glade|Boulevarde|Outlook|Retreat|Strand
|Marg|Chowk|Nagar|Zila|Ganj|Colony|Layout"""
STREET_SUFFIXES = _SUFFIXES = _SUFFIXES.replace("\n", "")
# Lowercase text: only suffixes that are not everyday words ("a 30 minute drive", "a 2 mile run").
_LOWER_SUFFIXES = r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|parkway|pkwy|highway|hwy|terrace|crescent"

_UNIT = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Studio|Floor|Fl\.?|Room|Rm\.?|Bldg\.?|Building|H\.\s?No\.?|#)"
_UNIT_TAIL = rf"(?:,?\s+{_UNIT}\s*[\w-]{{1,6}})?"
_NUMBER = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,5})?"
_NAME = r"(?:[A-Z][\w'’.-]*|\d{1,3}(?:st|nd|rd|th))"
_STOP = r"(?:the|a|an|on|in|of|to|and|or|at|for|with|my|your|our|his|her|their|this|that|is|was|by|from|per|each|every|more|about)"
_LOWER_NAME = rf"(?!{_STOP}\b)[^\W\d_][\w'-]*"

_DE_SUFFIXES = (r"straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|markt"
                r"|straat|laan|singel|plein|gracht|kade|dijk|boulevard|dreef|steeg|hof"
                # Nordic and Finnish glued suffixes: Drottninggatan, Skolvägen, Vestergade, Ahomäenkuja
                r"|gatan|gata|vägen|väg|gade|vej|veien|vegen|veg|gränd|stræde|torget|kuja|katu|tie|polku|kaari")
_ROMANCE_PREFIXES = (r"rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|quai|route|cours|square"
                     r"|calle|c/|avenida|avda\.?|paseo|plaza|camino|carretera|ronda|travesía|vía|via|viale"
                     r"|piazza|piazzale|corso|vicolo|largo|rotonda|stretto|borgo|contrada|acceso|cañada"
                     r"|vial|glorieta|pasaje|pasadizo|c\.|callejón|cuesta|urbanización|alameda|rambla|praça|rua"
                     r"|travessa|canale|lungomare|strada|sentiero"
                     # Romanian, Colombian, Indonesian, Polish and Greek street words
                     r"|estação|núcleo|setor|quadra|conjunto|loteamento|residencial|vila|chácara|fazenda|trecho|viela"
                     r"|rodovia|ladeira|recanto|lago|lagoa|viaduto|estrada|jardim|parque|morro|sítio|vereda|trevo"
                     r"|passarela|pátio|praia|condomínio|esplanada|diag\.|blvd?\."
                     r"|bulevardul|drumul|calea|aleea|șoseaua|soseaua|splaiul|intrarea|piața|carrera|cra\.|diagonal"
                     r"|transversal|circunvalación|jalan|jl\.|gang|ulica|aleja|ul\.|odos|odós")
# Street words of other languages, glued or free ("Vestergade", "ul.", "Rua"): other recognizers'
# evidence that a span is a street.
STREET_WORDS_ABROAD = rf"(?:{_DE_SUFFIXES})\b|\b(?:{_ROMANCE_PREFIXES})(?=\s)|\b(?:utca|ulica|cesta|vijenac|trg)\b"
# Prefixes strong enough to mark a street without a house number ("rue Océane Pelletier").
_STRONG_PREFIXES = r"rue|chemin|impasse|allée|boulevard|calle|avenida|paseo|piazza|viale|vicolo|rua"
_ROMANCE_LINK = r"(?:(?:de|du|des|de la|del|la|le|les|l'|d'|di|della|dei|degli|da|do|dos)\s*)"
_ROMANCE_NAME = r"(?:[A-ZÀ-Ý][\w'’.-]*)"
# A street line right after an address cue, in any case ("my new address is 4177 boone canyon").
_ADDRESS_CUE = (r"(?i:address\s+is|address:|meet\s+(?:me\s+)?at|lives?\s+at|living\s+at|located\s+at"
                r"|ship(?:ped)?\s+to|deliver(?:ed)?\s+to|adresse\s*:|dirección\s*:|indirizzo\s*:)")
_CUED_LINE = r"[^\s,.?!;:][^\n.?!;]{2,70}?(?=\s*(?:[\n.?!;]|$)|\s+at\s+\d|\s+(?:by|on|before|after|tomorrow|today|tonight)\b)"
_ROMANCE_UNIT = r"(?:\s*,?\s+(?:Piso|Puerta|Planta|Esc\.?|Apt\.?|Appartamento|Piano|Interno|Int\.?|Bis|Ter)\s*\w{1,4})*"

PATTERNS = [
    # 825 Garrett Circles Apt. 290 / Flat 3, 48 Alex Street / 6/2 Cynthia Quays / W 34th St
    Pattern("number_street_suffix",
            rf"\b(?:{_UNIT}\s*[\w-]{{1,6}},?\s+)?{_NUMBER},?\s+(?:{_NAME}\s+){{1,4}}(?:{_SUFFIXES})\b\.?{_UNIT_TAIL}",
            0.7),
    # Studio 87 Dawson Drive (a unit instead of a house number)
    Pattern("unit_street_suffix",
            rf"\b{_UNIT}\s*\d[\w-]{{0,5}},?\s+(?:{_NAME}\s+){{1,3}}(?:{_SUFFIXES})\b\.?", 0.6),
    # all-lowercase text: 12 baker street, apt 4
    Pattern("lowercase_street",
            rf"(?i:\b{_NUMBER}\s+(?:{_LOWER_NAME}\s+){{1,3}}(?:{_LOWER_SUFFIXES})\b\.?{_UNIT_TAIL})", 0.6),
    # Hauptstraße 12, Paulo-Schleich-Straße 19, Kurt-Zahn-Gasse 8/7, Saarsingel 833
    Pattern("glued_suffix_number",
            rf"\b(?:[A-ZÄÖÜ]\.-)?(?:[A-ZÄÖÜ][\w.-]*[ \t]){{0,2}}[A-ZÄÖÜ][\w-]*(?i:{_DE_SUFFIXES})\s+\d{{1,4}}[a-z]?(?:\s?[-/]\s?\d{{1,4}}[a-z]?)?\b",
            0.7),
    # lowercase text: schlossergasse 18/94, agata-heinrich-straße 91
    Pattern("lowercase_glued_suffix_number",
            r"(?i:\b[^\W\d_][\w-]*(?:straße|strasse|gasse|allee|platz|straat|laan)\s+\d{1,4}[a-z]?(?:[-/]\d{1,4})?\b)",
            0.6),
    # Hungarian, Croatian and Slovene street words after the name: Váci utca 19., Ilica ulica 5
    Pattern("name_street_word_number",
            r"\b(?:[A-ZÀ-Ýa-zß-ÿ][\w'’.-]*\s+){1,3}(?i:utca|út|útja|tér|körút|ulica|cesta|vijenac|trg|ul\.|allé|plads|torv"
            r"|vej|gade|vei|veien|gata|gatan|vägen|straße|strasse|weg|straat|laan)"
            r"\s+\d{1,4}[a-z]?(?:/\d{1,4})?\.?", 0.6),
    # Colombian and other Latin American numbered streets: Carrera 18 # 12-7, Calle 47, Diagonal 4U
    Pattern("numbered_street",
            r"\b(?i:Calle|Carrera|Cra\.?|Cl\.?|Diagonal|Diag\.|Dg\.?|Transversal|Tv\.?|Tr\.?|Avenida\s+Calle|Avenida|Av\.?"
            r"|Blvd?\.?)\s+\d{1,3}(?:[A-Z]|[a-z](?![a-z])|[ªº°])?(?!\w)(?:\s*(?:#|No\.?|N°)\s*\d{1,3}[A-Z]?(?:\s*-\s*\d{1,3}){0,2}"
            # the house number after the street's own number: "Av. 3 850", "cl. 42 7g-5"
            r"|[ \t]+\d{1,5}[a-z]?(?:-\d{1,4})?(?!\w))?", 0.6),
    # prose: a street line after a moving cue, in any case ("moved to skolvägen 055")
    Pattern("words_number_after_move_cue",
            r"(?i:\b(?:moved\s+to|moving\s+to|relocated\s+to|lives?\s+at|living\s+at|move\s+to)\s+)"
            r"(?P<value>(?:[^\W\d_][\w'’.-]*\s+){1,6}\d{1,5}[a-z]?(?:[ \t]\d{1,5}[a-z]?)?(?:[/-]\d{1,4})?)\b", 0.55),
    # a chat's answer to an address question: "agent: the delivery address?\ncustomer: 221 Jan Smuts, Kathu"
    Pattern("answer_to_address_question",
            r"(?i:\baddress\?)[ \t]*\n(?:[^\W\d_][\w ]{0,20}:[ \t]*)?(?P<value>[^\n]{3,90}?)[ \t]*(?=\n|$)", 0.5),
    Pattern("line_after_address_cue", rf"\b{_ADDRESS_CUE}(?:\s+(?:still|now|currently))?\s+(?P<value>{_CUED_LINE})", 0.5),
    # Am Markt 5, An der Kirche 3
    Pattern("german_preposition_street",
            r"\b(?:Am|An der|An den|Auf dem|Auf der|Im|In der|Zum|Zur|Unter den|Hinter der)\s+[A-ZÄÖÜ][\w-]+\s+\d{1,4}[a-z]?\b",
            0.6),
    # 12, rue de la Paix / 5 bis avenue Victor Hugo
    Pattern("number_romance_street",
            rf"\b\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+(?i:{_ROMANCE_PREFIXES})\s+{_ROMANCE_LINK}*"
            rf"{_ROMANCE_NAME}(?:[\s-]+{_ROMANCE_LINK}*{_ROMANCE_NAME}){{0,3}}",
            0.7),
    # Calle Mayor 5, Paseo de Joaquín Feliu 98 Piso 6, Via Ossola, 40
    Pattern("romance_street_number",
            rf"\b(?i:{_ROMANCE_PREFIXES})\s+{_ROMANCE_LINK}*{_ROMANCE_NAME}(?:\s+{_ROMANCE_LINK}*{_ROMANCE_NAME}){{0,3}}"
            rf",?\s+(?:(?i:nr|no|n[º°])\.?:?\s*)?\d{{1,5}}[a-z]?(?:/\d{{1,4}})?\b{_ROMANCE_UNIT}",
            0.7),
    Pattern("romance_street",
            rf"\b(?i:{_STRONG_PREFIXES})\s+{_ROMANCE_LINK}*{_ROMANCE_NAME}(?:[\s-]+{_ROMANCE_LINK}*{_ROMANCE_NAME}){{0,3}}",
            0.5),
]


@register
class StreetAddressRecognizer(SpanPatternRecognizer):
    """Street lines in several national forms; the case of the street words matters."""

    ENTITY = "STREET_ADDRESS"
    PATTERNS = PATTERNS
    CONTEXT = ["address", "street", "live", "lives", "living", "reside", "resides", "ship", "mail",
               "deliver", "delivery", "located", "moved", "home", "visit", "send", "postal"]

    def invalidate(self, value: str) -> bool:
        """A street (a cued line above all) holds a house number and a word ("meet at 6" is a time)."""
        words = regex.findall(r"[^\W\d_]{2,}", value)
        return not (any(c.isdigit() for c in value) and words
                    and not regex.fullmatch(r"(?i)\s*\d{1,2}(?::\d{2})?\s*(?:am|pm|h|uhr)?\s*", value))
