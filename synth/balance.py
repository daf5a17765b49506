"""Vocabulary balance: words the synthetic records so far overuse, relative to the real records, are
made less likely in the next ones (a negative logit bias on their first token).

A small model has stock words ("new", "latest", "is expected to", "team") that it writes in far more
records than the real data does; a real-vs-synthetic discriminator finds them first. After each kept
record, every word used by at least `min_records` kept records and by a share of them `ratio` times
its (smoothed) share of real records gets a bias of −`strength` × log(that ratio), at most −`cap`.
Words only: placeholders and numbers are never biased. The bias falls on a word's first token, so a
word split into pieces (" lat" + "est") also makes others starting with that piece a little less likely. On by default (`SynthRequest.balance_vocabulary`,
the policy's `synth.balance_vocabulary`).

Measured on BBC News ledes (bench/utility.py, n=100, 2026-12-03), the discriminator AUC fell on every
task draw: dev part 0.93 → 0.88 and 0.93 → 0.86, held-out part 0.934 → 0.862. The TSTR ratio paid a
little (dev 0.90 → 0.88 and 0.89 → 0.84, held-out 0.80 → 0.79, each inside the other's interval) and
the lift moved both ways (dev +0.053 → +0.072 and +0.097 → +0.038, held-out +0.014 → +0.022). Kept per
label instead (each label's synthetic records against that label's real ones) it did less for the AUC
(dev 0.92 / 0.90) and cost as much TSTR on one draw (0.80), so the balance is kept over all records.
Tried and not kept (2026-12-05, dev draws 0–3): also raising words that at least a tenth of the real
records use and the kept ones use half as often or less (+log of that ratio, at most +2, on the first
token: "said", "up", "than", "over"): AUC 0.861 / 0.807 / 0.876 / 0.872 against 0.883 / 0.834 / 0.878 /
0.864, TSTR ratio 0.87 / 0.91 / 0.78 / 0.89 against 0.86 / 0.98 / 0.68 / 0.84, lift the same on average
— each pair inside a draw's run-to-run spread.
Also tried and not kept (2026-12-06, dev draws 1 and 2, two generations each): a positive bias on the
placeholder-opening token ("<", " <") of 3 × log(real placeholders per record / kept ones), as the
kept records carry fewer (2.4 / 3.0 against the real 3.8 / 4.3): they rose to 3.0 / 3.4, AUC 0.823 / 0.911
against 0.842 / 0.897, TSTR ratio 0.875 / 0.774 against 0.884 / 0.788, lift +0.066 / +0.014 against
+0.084 / +0.049.
Also tried and not kept (2026-12-06, dev draws 0 and 1, two generations each, Xeon 2 cores): `ratio`
1.5 instead of 2 (function words the kept records overuse — "is", "for", "been", "with", "was" — biased
too): AUC 0.833 / 0.780 against 0.818 / 0.825, TSTR ratio 0.811 / 0.884 against 0.842 / 0.851 — one
draw better, one worse, each inside a draw's run-to-run spread.
On the fine-tuned path too (2026-12-06, Xeon 2 cores, `--path lora`, dev draws 0 / 1, the same adapters, two
generations each): without the balance (`--set balance_vocabulary=false`) AUC 0.712 / 0.794 against 0.641 /
0.724, TSTR ratio 0.697 / 0.839 against 0.661 / 0.848 — the balance takes 0.07 off the AUC of the model that
learned the records' style as well. Twice the `strength` (code not kept): AUC 0.667 / 0.735, ratio 0.637 /
0.887 — no better.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Callable

_WORD = re.compile(r"(?<![<\w])[a-z][a-z']{1,}(?![\w>])")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


class VocabularyBalance:
    def __init__(self, real_texts: list[str], tokenize: Callable[[str], list[int]], min_records: int = 5,
                 ratio: float = 2.0, strength: float = 1.0, cap: float = 3.0):
        self.real = Counter(w for t in real_texts for w in _words(t))
        self.n_real = max(len(real_texts), 1)
        self.kept, self.n_kept = Counter(), 0
        self.tokenize = tokenize
        self.min_records, self.ratio, self.strength, self.cap = min_records, ratio, strength, cap
        self._tokens: dict[str, list[int]] = {}

    def keep(self, texts: list[str]) -> None:
        self.kept.update(_words(" ".join(texts)))
        self.n_kept += 1

    def overused(self) -> dict[str, float]:
        """word → log(synthetic share / real share) for the words past the thresholds."""
        out = {}
        for word, used in self.kept.items():
            if used < self.min_records:
                continue
            lift = (used / self.n_kept) / ((self.real[word] + 1) / (self.n_real + 2))
            if lift >= self.ratio:
                out[word] = math.log(lift)
        return out

    def logit_bias(self) -> dict[int, float]:
        bias: dict[int, float] = {}
        for word, log_lift in self.overused().items():
            for token in self._first_tokens(word):
                bias[token] = min(bias.get(token, 0.0), -min(self.cap, self.strength * log_lift))
        return bias

    def _first_tokens(self, word: str) -> list[int]:
        """The first token of the word as it starts a sentence or follows a space (both casings)."""
        if word not in self._tokens:
            forms = {word, " " + word, word.capitalize(), " " + word.capitalize()}
            self._tokens[word] = sorted({ids[0] for form in forms if (ids := self.tokenize(form))})
        return self._tokens[word]
