"""Degenerate text (empty, too short, looping) and placeholders left broken or of unknown types."""

from privacy.placeholders import find_placeholders
from synth.filters import DraftFilter
from synth.fill import known_type
from synth.quality import degenerate_reason, has_broken_placeholder


class WellFormed(DraftFilter):
    name = "well_formed"
    order = 10

    def reason(self, texts, task):
        joined = " ".join(texts)
        for text in (joined, *texts):
            if reason := degenerate_reason(text, min_chars=12 if text is joined else 1):
                return reason
            if has_broken_placeholder(text):
                return "broken_placeholder"
            if any(known_type(t) is None for t, *_ in find_placeholders(text)):
                return "unknown_placeholder"
        return None


FILTER = WellFormed
