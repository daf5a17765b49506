"""Copy guard: the model may not continue a run of tokens it is copying from the prompt's examples.

A small model shown three examples often writes one of them back, word for word; the copy filter
(synth/filters/copies.py) then rejects the draft and the attempt is spent. The guard acts while the
model decodes instead: once the last `length` tokens it wrote equal `length` consecutive tokens of an
example, the token that came next in that example is made impossible, so the draft leaves the example
there and goes on in its own words. Runs span placeholders as the copy filter's do, but a token
inside a placeholder is never forbidden, so a placeholder is never cut in half. On by default
(`SynthRequest.copy_guard_tokens`; None switches it off).

Measured 2026-12-04 (AMD EPYC, 2 cores). `make demo` (40 records of the templated sample): 85 attempts,
53% rejected without the guard → 59 attempts, 32% rejected with it (copies 15; synth 121 s → 98 s;
AUC 0.92 → 0.93). Guarding against every training record of the task's label too (not only the
examples shown) gave 38%: not kept. `bench/utility.py --part dev --n 100`, three task draws (seeds
0, 1, 2), without → with: rejected 7/11/7% → 6/5/4%; TSTR ratio 0.88/0.84/0.80 → 0.78/0.84/0.82;
lift +0.072/+0.038/+0.054 → +0.018/+0.061/+0.053; AUC 0.877/0.863/0.885 → 0.892/0.846/0.878; kept per
CPU-minute unchanged (35). Utility moves both ways by about the draws' own spread; fewer attempts are
spent on copies on every draw. A base model that copies more gains more: Gemma 3 270M (a GGUF from
PyPI, `bench/utility.py --part heldout --n 100 --model FILE`) went from 28% rejected (copies 29), TSTR
ratio 0.74, lift +0.002, AUC 0.83 without the guard (2026-12-03) to 16% (copies 5), 0.85 [0.78, 0.92],
+0.045 [+0.007, +0.079] and 0.80 with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from privacy.placeholders import PLACEHOLDER


class CopyGuard:
    """Token runs of some texts: a window of `length` tokens → the tokens that followed it there."""

    def __init__(self, texts: Sequence[str], tokenize: Callable[[str], list[int]], length: int = 6):
        self.length = length
        self.next: dict[tuple[int, ...], set[int]] = {}
        for text in texts:
            self._add(*_tokens(text or "", tokenize))

    def _add(self, ids: list[int], inner: list[bool]) -> None:
        size = self.length
        for start in range(len(ids) - size):
            if not inner[start + size]:  # a placeholder is never cut after its first token
                self.next.setdefault(tuple(ids[start:start + size]), set()).add(ids[start + size])

    def blocked(self, recent: Sequence[int]) -> list[int]:
        """The tokens that would continue a copied run after `recent` (the tokens so far)."""
        if len(recent) < self.length:
            return []
        return sorted(self.next.get(tuple(int(t) for t in recent[-self.length:]), ()))

    def apply(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """A llama.cpp logits processor step: forbid the continuations of a copied run."""
        if blocked := self.blocked(input_ids):
            scores[blocked] = -np.inf
        return scores


def _tokens(text: str, tokenize: Callable[[str], list[int]]) -> tuple[list[int], list[bool]]:
    """The text's tokens, prose and placeholders tokenized apart, and which tokens lie inside a
    placeholder (all of its tokens but the first)."""
    ids: list[int] = []
    inner: list[bool] = []
    at = 0
    for match in [*PLACEHOLDER.finditer(text), None]:
        prose = text[at:match.start() if match else len(text)].rstrip()  # a placeholder brings its own space
        if prose.strip():
            piece = tokenize(prose if prose[:1].isspace() or ids else " " + prose)
            ids += piece
            inner += [False] * len(piece)
        if match:
            piece = tokenize((" " if text[match.start() - 1:match.start()].isspace() else "") + match.group())
            ids += piece
            inner += [False] + [True] * (len(piece) - 1)
            at = match.end()
    return ids, inner
