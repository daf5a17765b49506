"""Organisations named with a legal form (Acme Holdings LLC, Schulz KG, Dufour S.A.R.L.) or as a
partnership of surnames (Carroll, Reeves and Clark); spaCy's ORG covers the rest."""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.span_pattern import SpanPatternRecognizer

_LEGAL_FORMS = (r"Inc\.?|Incorporated|LLC|L\.L\.C\.|Ltd\.?|Limited|LLP|L\.P\.|PLC|plc|Corp\.?|Corporation"
                r"|Co\.|Company|GmbH(?:\s*&\s*Co\.?\s*(?:KG|OHG))?|AG(?:\s*&\s*Co\.?\s*(?:KG|OHG))?|KGaA|KG"
                r"|OHG|GbR|e\.\s?V\.|e\.\s?G\.|UG|S\.A\.R\.L\.|SARL|S\.A\.S\.|SAS|S\.A\.|SA|SNC|S\.L\.N\.E"
                r"|S\.L\.|S\.Coop\.|SpA|S\.p\.A\.|s\.r\.l\.|S\.r\.l\.|Srl|SRL|SPA|B\.V\.|BV|N\.V\.|NV"
                r"|Pty\.? Ltd\.?|A/S|AB|Oy|Group|Groep|Holdings?|Partners|Associates|Asociados|& Sons"
                r"|and Sons|et Fils|e Figli|Hermanos|Stiftung|Bank|Insurance|Assurance|Versicherung"
                r"|Clinic|Hospital|Klinikum|Foundation|Trust|Solutions|Technologies|Labs|Consulting"
                r"|Logistics|Pharma|Healthcare|Ventures|Capital|Industries|Enterprises|Media|S\.Com\.|S\.A\.T\.|S\.C\.P\.?"
                r"|S\.L\.U\.|mbH|Credit Union|Mutual|Versicherungs-AG|(?i:y asociados|e hijos|e figli|und Söhne|& Cie\.?)"
                # Central and Northern European, Turkish, Latin American and Indonesian forms
                r"|Sp\.\s?z\s?o\.o\.(?:\s*Sp\.k\.)?|Sp\.k\.|Sp\.\s?j\.|j\.d\.o\.o\.|d\.o\.o\.|d\.d\.|Kft\.|Zrt\.|Nyrt\.|Bt\."
                r"|A\.Ş\.|A\.S\.|San\.(?:\s+ve\s+Tic\.)?|Tic\.|Ltda\.?|ApS|s\.r\.o\.|a\.s\.|v\.o\.s\.|Oyj|Ky|Tmi|ehf\.|hf\."
                r"|Fund(?:\s+[IVX]{1,4}\b)?|Funds|og\s+Sønner|og\s+Søn|&\s+Søn(?:ner)?|och\s+Söner|&\s+Söner|"
                # Vietnamese forms, after the name or before it
                r"Công\s+ty(?:\s+(?:Trách\s+nhiệm\s+hữu\s+hạn|TNHH|Cổ\s+phần|Hợp\s+danh))?|Doanh\s+nghiệp\s+tư\s+nhân|Tập\s+đoàn|"
                r"\(Persero\)\s+Tbk|"
                r"Tbk|S\.R\.L\.|S\.C\.|ASF|VOF|BVBA|CVBA|EIRL|S\.A\.C\.|S\.A\.\s+de\s+C\.V\.|Cía\.|Sociedad\s+Anónima")
# Phrases after which a capitalised name is an employer or provider ("works at Klemt").
_EMPLOYER_CUE = (r"(?i:work(?:s|ed|ing)?\s+(?:at|for)|employed\s+(?:by|at)|employer|company|insurer"
                 r"|insurance\s+provider|vendor|supplier|contractor|bank|arbeitet\s+bei|travaille\s+chez"
                 r"|trabaja\s+en)")
_NOT_A_NAME = r"(?:The|A|An|Our|My|Your|Their|This|That|Dear|Hi|Hello|Re|From|To|At|In|On|For|With|And)"
_NAME_WORD = rf"(?!{_NOT_A_NAME}\b)[A-ZÀ-Ý][\w'’.-]*"
_JOIN = r"(?:[ \t]+|[ \t]*&[ \t]*|[ \t]+(?:and|und|et|y|e|en|og|és|och|và|AND|UND|ET|Y|E|EN)[ \t]+)"
# Company names in capitals ("NORTHWIND TRADING CO.LTD.", "DEMIREL ŞENER TIC GMBH"): capital words
# joined by spaces, commas, "&" or AND, then a legal form written in capitals.
_CAPS_FORMS = (r"CO\.?\s?LTD\.?|LTD\.?|LIMITED|GMBH|AG|S\.A\.?|SA|PLC|B\.V\.?|BV|N\.V\.?|NV|INC\.?|LLC|LTDA\.?"
               r"|A/S|AB|OYJ?|SP\.\s?Z\s?O\.O\.|S\.R\.L\.|SRL|S\.P\.A\.|SPA|TBK|PTY\.?\s?LTD\.?|A\.S\.|A\.Ş\.|KFT\.?"
               r"|D\.O\.O\.|D\.D\.?|SAS|SARL|CORP\.?|CORPORATION|HOLDINGS?|GROUP|ENTERPRISES|RESOURCES|TRADING"
               r"|LOGISTICS|INDUSTRIES|COMPANY|CO\.|& SONS|AND SONS|PARTNERS|ASSOCIATES")
_CAPS_WORD = r"(?!(?:I|A|AN|THE|MY|WE|YOU|IT|IS|AM|ARE|TO|OF|IN|ON|AT|FOR|AND|OR|PLEASE|CALL)\b)\p{Lu}[\p{Lu}\d'’.&/-]*"
_CAPS_JOIN = r"(?:,?[ \t]+|[ \t]*&[ \t]*)(?:(?:AND|UND|ET|Y|E|VÀ|EN)[ \t]+)?"

_LOWER_FORMS = (r"llc|ltd\.?|inc\.?|b\.v\.|n\.v\.|s\.a\.|gmbh|plc|kft\.|a/s|sp\.\s?z\s?o\.o\.|s\.r\.l\.|ltda\.?|pty\.?\s?ltd\.?"
                r"|co\.\s?ltd\.?|s\.p\.a\.|d\.o\.o\.|oyj|a\.ş\.|tbk")
_LOWER_WORD = (r"(?!(?:the|a|an|at|of|to|in|on|for|with|and|or|by|from|is|was|after|before|meeting|met|our|my|your"
               r"|their|this|that|driver|works|work|as|back|went|called|said)\b)[a-zà-ÿ][\w'’-]+")

PATTERNS = [
    Pattern("name_with_legal_form",
            rf"\b{_NAME_WORD}(?:{_JOIN}{_NAME_WORD}){{0,3}},?\s+(?:{_LEGAL_FORMS})(?:\s+(?:{_LEGAL_FORMS}))?(?![\w])", 0.85),
    Pattern("caps_name_with_legal_form",
            rf"\b(?:(?:PT|CV|PD|UD)[ \t]+)?{_CAPS_WORD}(?:{_CAPS_JOIN}{_CAPS_WORD}){{0,5}},?[ \t]+(?:{_CAPS_FORMS})"
            rf"(?:[ \t]+(?:{_CAPS_FORMS}))*(?![\w])", 0.7),
    # Indonesian company prefixes: PT SINAR MAS AGRO, CV Maju Jaya
    Pattern("indonesian_prefix", r"\b(?:PT|CV|UD|PD)[ \t]+\p{Lu}[\p{L}]+(?:[ \t]+\p{Lu}[\p{L}]+){1,4}\b", 0.6),
    Pattern("surname_partnership",
            rf"\b(?:{_NAME_WORD}\s+)?{_NAME_WORD},\s+(?:(?:del|de|van|von|da|di)\s+)?{_NAME_WORD},?\s+"
            rf"(?:and|&|und|et|y|e|en|AND|Y)\s+{_NAME_WORD}\b", 0.6),
    # lowercase text: "gabhisa llc", "mavela, sokhulu and thusi b.v." (everyday words stop the name)
    Pattern("lowercase_name_with_legal_form",
            rf"\b{_LOWER_WORD}(?:(?:,[ \t]*|[ \t]+(?:and|&|y|e|og|und|et)[ \t]+|[ \t]+){_LOWER_WORD}){{0,3}}[ \t]+"
            rf"(?:{_LOWER_FORMS})(?![\w])", 0.6),
    # lowercase partnerships of surnames: "burnett, bryan and brown" (checked against the gazetteer)
    Pattern("lowercase_surname_partnership",
            rf"\b{_LOWER_WORD},[ \t]+{_LOWER_WORD},?[ \t]+(?:and|&|y|e|og|und|et)[ \t]+{_LOWER_WORD}\b", 0.5),
    Pattern("name_after_employer_cue",
            rf"\b{_EMPLOYER_CUE}\s*:?\s+(?P<value>{_NAME_WORD}(?:(?:[ \t]+|-){_NAME_WORD}){{0,3}})", 0.5),
]


@register
class OrganizationRecognizer(SpanPatternRecognizer):
    """Company names by legal form; case-sensitive, so "the group" or "our bank" do not count."""

    ENTITY = "ORGANIZATION"
    PATTERNS = PATTERNS
    CONTEXT = ["company", "employer", "works", "vendor", "supplier", "insurer", "bank", "firm",
               "client", "customer", "contractor", "agency"]

    def load(self) -> None:
        from privacy.gazetteers import names

        self.surnames = names().last

    def invalidate(self, value: str) -> bool:
        """Lowercase words without a legal form are a company only when each is a known surname
        ("burnett, bryan and brown", not "apples, pears and plums")."""
        if value != value.lower() or regex.search(rf"(?:{_LOWER_FORMS})$", value):
            return False
        words = [w for w in regex.findall(r"[^\W\d_][\w'’-]*", value) if w not in ("and", "y", "e", "og", "und", "et")]
        return not all(w in self.surnames for w in words)
