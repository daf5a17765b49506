"""Token n-grams of a whole split as numpy arrays of 64-bit hashes, so that counting and matching
the n-grams of a million records is a few sorts instead of tens of millions of Python tuples.

A hash is FNV-1a (Fowler–Noll–Vo) over the tokens' ids, each id first mixed by SplitMix64 (Steele
et al., 'Fast splittable pseudorandom number generators', OOPSLA 2014). Two different n-grams share
a hash with a probability of about 2^-64 per pair; callers that act on a match compare the tokens
themselves (`gram`, `grams_of`), so a collision can hide a match only by making two different
training n-grams look like one (~1e-5 for 40M n-grams), never invent one.
"""

from __future__ import annotations

import numpy as np

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


def mix(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads small token ids over all 64 bits."""
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def token_ids(tokens: list[list[str]], vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """(every token's id, concatenated; each record's number of tokens): ids come from `vocabulary`,
    which grows with unseen tokens and is shared across splits."""
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    ids = np.fromiter((vocabulary.setdefault(t, len(vocabulary)) for words in tokens for t in words),
                      dtype=np.int64, count=int(lengths.sum()))
    return ids, lengths


class TokenGrams:
    """Every run of `n` consecutive tokens of every record: `hashes[k]` is the k-th run's hash,
    `records[k]` the record it is in. `ids` and `lengths` are the records' tokens as `token_ids` gives them."""

    def __init__(self, tokens: list[list[str]], ids: np.ndarray, lengths: np.ndarray, n: int) -> None:
        self._tokens, self._n = tokens, n
        self._offsets = np.concatenate([[0], np.cumsum(lengths)])
        windows = np.maximum(lengths - n + 1, 0)
        self.records = np.repeat(np.arange(len(tokens), dtype=np.int64), windows)
        first_window = np.cumsum(windows) - windows
        self.starts = np.arange(int(windows.sum()), dtype=np.int64) - first_window[self.records] + self._offsets[:-1][self.records]
        mixed = mix(ids)
        hashes = np.full(len(self.starts), FNV_OFFSET, dtype=np.uint64)
        for k in range(n):
            hashes ^= mixed[self.starts + k]
            hashes *= FNV_PRIME
        self.hashes = hashes

    def distinct_per_record(self) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, records) with each n-gram listed once per record holding it, sorted by hash."""
        order = np.lexsort((self.records, self.hashes))
        hashes, records = self.hashes[order], self.records[order]
        keep = np.ones(len(hashes), dtype=bool)
        keep[1:] = (hashes[1:] != hashes[:-1]) | (records[1:] != records[:-1])
        return hashes[keep], records[keep]

    def gram(self, position: int) -> tuple[str, ...]:
        """The tokens of the n-gram at `position` (an index into `hashes`)."""
        record = int(self.records[position])
        start = int(self.starts[position] - self._offsets[record])
        return tuple(self._tokens[record][start : start + self._n])

    def grams_of(self, record: int) -> set[tuple[str, ...]]:
        """The n-grams of one record, as tuples of tokens."""
        words = self._tokens[record]
        return {tuple(words[i : i + self._n]) for i in range(len(words) - self._n + 1)}
