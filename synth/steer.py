"""Diversity steering: a keyword and a length per requested record, drawn from the real records'
distribution.

Examples shown in a prompt pull a small model towards their own words; records written from the
same few examples look alike and cover little of what the real data talks about. Each task therefore
asks for a record that mentions one keyword, drawn from the words that characterise its conditions
(e.g. its label) across all training records, in proportion to how many records use them — not from
the examples shown. Only lower-case words used by at least `min_records` records qualify: names and
other identifiers the privacy stage may have missed are capitalised or rare, and never become hints.

A small model ignores "write N sentences", and writes as long as max_tokens lets it, in sentences of
its own stock ("The move is expected to..."): its records are longer than the real ones and tell
themselves apart by it. So each task also draws a sentence count from the real records with its
conditions, and the reply is cut after that many sentences (`LengthSampler`, `cut_to`) — opt-in
(`SynthRequest.shape_length`): on BBC News ledes (bench/utility.py, dev part) it left the
discriminator where it was (AUC 0.88 vs 0.89) and cost TSTR macro-F1 (0.49 vs 0.56), shorter
records carrying less of their topic; keyword steering, on by default, raised it (0.56 vs 0.48).
Measured again on today's pipeline (2026-12-06, Xeon 2 cores, dev draws 0 and 1, two generations each,
`--set shape_length=true`): 58% of the kept records have the real ledes' two sentences, 30% three or
more; cut to a drawn count, TSTR ratio 0.786 / 0.810 against 0.842 / 0.851, AUC 0.823 / 0.827 against
0.818 / 0.825 — still off by default.
Asking for two or three keywords per record instead of one (same bench, dev part, n=100, tried
2026-12-03) bought nothing that held: on one task draw TSTR ratio 0.87 / 0.83 against 0.90 with AUC
0.88 / 0.91 against 0.93, on a second draw 0.87 against 0.89 with AUC 0.930 against 0.933. Five
examples per prompt instead of three (`k`) did worse on both (ratio 0.76, AUC 0.95).
How sharply keywords are drawn (2026-12-06, Xeon 2 cores, dev draws 0 and 1, two generations each, the
weights raised to a power; code not kept): uniform over a label's keywords (power 0) lowered the TSTR ratio on
both paths (few-shot 0.824 / 0.821 against 0.842 / 0.851, LoRA 0.705 / 0.859 against 0.773 / 0.893) and raised
LoRA's AUC (0.721 / 0.713 against 0.657 / 0.712); squared (power 2) raised the AUC on both paths (few-shot
0.835 / 0.831 against 0.818 / 0.825, LoRA 0.701 / 0.722) for a ratio that moved both ways (few-shot 0.835 /
0.860, LoRA 0.800 / 0.879). Weights as they are (power 1) stay. (LoRA's figures at power 1 from the same day;
the few-shot ones from the same code and machine kind the session before.)
Entity steering, tried 2026-12-06 (code not kept): each request also asked for the
placeholder mix of a real record of its label, numbered afresh ("Use the placeholders <PERSON_1>,
<ORGANIZATION_1>."), each example shown asked for its own. Dev draw 2, two generations each, paired:
AUC 0.878 (0.872–0.884) against 0.840 (0.834–0.846) without, TSTR ratio 0.819 against 0.801. The 135M
model puts the asked placeholders where no name belongs ("#<PERSON> in #Fantasy365", "last <PERSON>"),
writes fewer names elsewhere (persons 0.73, places 0.65 per record against 0.89, 0.85 without; real:
1.26, 1.24), and talks of lists ("the list" became a synthetic-side feature); not kept.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter

_WORD = re.compile(r"(?<![<\w])[a-z][a-z-]{3,}(?![\w>])")
STOPWORDS = frozenset(
    "about above after again against also among been before being below between both could does doing down "
    "during each from further have having here into itself just more most much must only other ours over same "
    "should some such than that their them then there these they this those through under until very were what "
    "when where which while whom will with would your yours said says told year years last first second third "
    "many several another because since still even ever every make made like well back also week weeks month "
    "months today yesterday tomorrow people time times new news will been could would might shall".split()
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text) if w not in STOPWORDS}


class KeywordSampler:
    """Per condition set: keywords weighted by how many records use them and how specific they are."""

    def __init__(self, texts: list[str], keys: list[str], min_records: int = 2, top: int = 60):
        """`texts[i]` is a training record's free text, `keys[i]` its conditions (a JSON key)."""
        total = Counter(w for t in texts for w in _words(t))
        by_key: dict[str, Counter] = {}
        for text, key in zip(texts, keys):
            by_key.setdefault(key, Counter()).update(_words(text))
        sizes = Counter(keys)
        self.weights: dict[str, dict[str, float]] = {}
        for key, counts in by_key.items():
            scored = {}
            for word, used in counts.items():
                if used < min_records:
                    continue
                # share of records with this key that use the word, over its share elsewhere (smoothed)
                elsewhere = (total[word] - used + 1) / (len(texts) - sizes[key] + 2)
                lift = (used / sizes[key]) / elsewhere
                if lift > 1.0:
                    scored[word] = used * math.log(lift)
            best = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            self.weights[key] = dict(best)

    def draw(self, key: str, rng: random.Random) -> str | None:
        weights = self.weights.get(key)
        if not weights:
            return None
        words = list(weights)
        return rng.choices(words, [weights[w] for w in words])[0]

    def of_text(self, text: str, key: str) -> str | None:
        """The text's own most characteristic keyword (the hint an example is shown with)."""
        weights = self.weights.get(key, {})
        found = [w for w in _words(text) if w in weights]
        return max(found, key=lambda w: (weights[w], w)) if found else None


def condition_key(conditions: dict) -> str:
    return json.dumps(conditions, sort_keys=True, default=str)


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'\u201d)]?\s+(?=[A-Z<\"'\u201c\d])")


def sentence_count(text: str) -> int:
    return sum(1 for _ in _SENTENCE_BREAK.finditer(text.strip())) + 1


def cut_to(text: str, count: int) -> str:
    """`text` cut after its `count`-th sentence (unchanged when it has no more)."""
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text.strip())]
    return text.strip()[:breaks[count - 1]].rstrip() if count >= 1 and len(breaks) >= count else text


class LengthSampler:
    """Per condition set: the real records' sentence counts, drawn with their frequencies."""

    def __init__(self, texts: list[str], keys: list[str]):
        self.counts: dict[str, list[int]] = {}
        for text, key in zip(texts, keys):
            if text.strip():
                self.counts.setdefault(key, []).append(sentence_count(text))

    def draw(self, key: str, rng: random.Random) -> int | None:
        counts = self.counts.get(key)
        return rng.choice(counts) if counts else None
