"""Copy guard: the model may not continue a run of tokens it is copying from the prompt's examples.

A small model shown three examples often writes one of them back, word for word; the copy filter
(synth/filters/copies.py) then rejects the draft and the attempt is spent. The guard acts while the
model decodes instead: once the last `length` tokens it wrote equal `length` consecutive tokens of an
example, the token that came next in that example is made impossible, so the draft leaves the example
there and goes on in its own words. Runs span placeholders as the copy filter's do, but a token
inside a placeholder is never forbidden, so a placeholder is never cut in half. On by default
(`SynthRequest.copy_guard_tokens`; None switches it off).
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
        prose = text[at:match.start() if match else len(text)]
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
