"""Names after an honorific or a cue that announces a person: "Dear Wolf-Dietrich Werner",
"Dr. Smith", "Referred by Gianna Ungaretti", "PATIENT NAME: KALA BOSE", and in chat, lowercase
names after "yo", "thx", "tell" or as the speaker of a line ("antony: hi!!").
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern

from privacy.recognizers import register
from privacy.recognizers.span_pattern import SpanPatternRecognizer
from privacy.recognizers.uncased_name import common_words, name_lists

_HONORIFIC = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Dott|Sig)\.?"
_LOWER_HONORIFIC = r"(?:mr|mrs|ms|miss|dr|prof|herr|frau|fru|mme|sr|sra|srta)\.?"
_CUE = (r"(?i:dear|hi|hello|thanks|thank\s+you|regards|cheers|sincerely|signed|best|yours\s+(?:sincerely|faithfully|truly)"
        r"|referred\s+by|seen\s+by|dictated\s+by|reviewed\s+by|spoke\s+(?:with|to)|talked\s+to|my\s+name\s+is"
        r"|this\s+is|i\s+am|i'm|patient(?:\s+name)?|pt|customer|client|employee|contact|name|attn|from:|to:|cc:"
        r"|emergency\s+contact|colleague|husband|wife|son|daughter|mother|father)")
_NAME = r"(?:[A-ZÀ-Ý][a-zß-ÿ'’]+(?:-[A-ZÀ-Ý][a-zß-ÿ'’]+)?|[A-ZÀ-Ý]{2,}(?:-[A-ZÀ-Ý]{2,})?|O'[A-Z][a-z]+)"
_NAMES = rf"{_NAME}(?:[ \t]+{_NAME}){{0,2}}"
_CASUAL_CUE = r"(?:yo|thx|thanks|tell|ask|hi|hello|hey|this\s+is|my\s+name\s+is)"
# "hey its antony" in chat, but in prose "its" is the possessive ("its shares", "its chief", "its
# trading partners": 75 of 400 BBC News ledes had such a word taken for a name), so after "its" only a
# known first name counts (surname lists hold words such as "confidence").
_ITS_CUE = r"(?:it[’']?s)"
# Capitalised words that follow a cue without being a name.
_NOT_NAMES = frozenset("""
team all there everyone support customer client sir madam again so for you guys folks doctor nurse
patient service services department claims billing the a an our your my we i it this that please
name email phone address date contact dob mrn id regards thanks team admin account number
dr mr mrs ms miss mx prof herr frau mme mlle sr sra dott sig gp hello hi hey goodbye bye yes no ok okay
""".split())

PATTERNS = [
    Pattern("after_honorific", rf"\b{_HONORIFIC}[ \t]+(?P<value>{_NAMES})", 0.7),
    Pattern("after_cue", rf"\b{_CUE}[\s,:\"'=]{{1,4}}(?P<value>{_NAMES})", 0.55),
    Pattern("lowercase_after_casual_cue", rf"(?i:\b{_CASUAL_CUE})[ \t]+(?P<value>[a-zß-ÿ][a-zß-ÿ'’-]+)\b", 0.5),
    Pattern("lowercase_after_its", rf"(?i:\b{_ITS_CUE})[ \t]+(?P<value>[a-zß-ÿ][a-zß-ÿ'’-]+)\b", 0.5),
    Pattern("chat_speaker", r"^(?:\[[\d:. ]{3,12}\][ \t]*)?(?P<value>[^\W\d_][\w'’-]+):[ \t]", 0.5),
    # lowercase prose: a known name after a verb of meeting and speaking, or after a lowercase
    # title ("she said franjo had", "the last we heard of buhle", "i met dr. nataša", "Pt. mrs. Fink")
    Pattern("name_after_verb", r"\b(?:said|told|met|asked|called|heard[ \t]+of|according[ \t]+to)"
            rf"(?:[ \t]+{_LOWER_HONORIFIC})?[ \t]+(?P<value>[^\W\d_A-Z][\w'’-]+)", 0.5),
    Pattern("name_after_lowercase_title", rf"\b{_LOWER_HONORIFIC}[ \t]+(?P<value>[^\W\d_][\w'’-]+)", 0.5),
]


@register
class PersonCueRecognizer(SpanPatternRecognizer):
    """Names announced by their surroundings; case-sensitive except for the cue words."""

    ENTITY = "PERSON"
    PATTERNS = PATTERNS

    def load(self) -> None:
        from privacy.gazetteers import names

        self.first_names = name_lists()[0] | names().first
        self.known_names = self.first_names | names().last
        self.common = common_words()

    def invalidate_match(self, pattern_name: str, value: str) -> bool:
        """No titles or cue words; everyday words only after an honorific ("Dr Said", not "Hi All");
        a line's speaker or a lowercase name only when it is a known first name ("Plan:" is not)."""
        words = [w.casefold() for w in regex.findall(r"[\w'’-]+", value)]
        if not words or words[0] in _NOT_NAMES:
            return True
        if pattern_name in ("chat_speaker", "lowercase_after_its"):
            return value.casefold() not in self.first_names or value.casefold() in self.common
        if pattern_name in ("name_after_verb", "name_after_lowercase_title"):
            return value.casefold() not in self.known_names or value.casefold() in self.common
        return pattern_name != "after_honorific" and all(w in _NOT_NAMES or w in self.common for w in words)
