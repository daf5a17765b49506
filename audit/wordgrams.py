"""Hashed word 1- and 2-gram counts of many texts, with numpy doing the per-token work.

The lexical embedding at scale (audit/embed.py, above `HASHED_ABOVE` texts) needs a sparse count
matrix of millions of records. Character n-grams cost one Python step per character (~0.3 ms per
record); words cost one dictionary step per token and the rest is array arithmetic. Tokens are the
audit's own (audit/text.py `tokens`: lower-cased words, punctuation marks, placeholders whole).

A token's hash is the first 8 bytes of its BLAKE2b digest, so features do not depend on the
process, on chunking or on the order texts come in; a bigram's hash mixes its two tokens' hashes
(SplitMix64's finaliser, audit/grams.py). Hashes are reduced modulo the number of columns; two
n-grams sharing a column add up, as in any hashing vectorizer.
"""

from __future__ import annotations

from hashlib import blake2b

import numpy as np

from audit.grams import mix
from audit.text import tokens

_PRIME = np.uint64(0x100000001B3)


def _token_hashes(words: list[str]) -> np.ndarray:
    digest = blake2b
    return np.frombuffer(b"".join(digest(w.encode("utf-8"), digest_size=8).digest() for w in words), dtype=np.uint64)


def word_gram_counts(texts: list[str], n_features: int):
    """CSR matrix (len(texts) × n_features) of hashed word unigram and bigram counts."""
    from scipy.sparse import csr_matrix

    local: dict[str, int] = {}
    split = [tokens(t) for t in texts]
    lengths = np.fromiter(map(len, split), dtype=np.int64, count=len(split))
    ids = np.fromiter((local.setdefault(w, len(local)) for words in split for w in words),
                      dtype=np.int64, count=int(lengths.sum()))
    hashed = mix(_token_hashes(list(local))[ids]) if len(ids) else np.zeros(0, np.uint64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    follows = np.ones(len(ids), dtype=bool)  # the next token is in the same text
    follows[np.cumsum(lengths)[lengths > 0] - 1] = False
    pair = np.flatnonzero(follows[:-1]) if len(ids) > 1 else np.zeros(0, np.int64)
    bigrams = mix((hashed[pair] * _PRIME) ^ hashed[pair + 1])
    columns = np.concatenate([hashed, bigrams]) % np.uint64(n_features)
    matrix = csr_matrix((np.ones(len(columns), dtype=np.float32), (np.concatenate([rows, rows[pair]]),
                        columns.astype(np.int64))), shape=(len(texts), n_features))
    matrix.sum_duplicates()
    return matrix
