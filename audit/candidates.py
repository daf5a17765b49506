"""Keyed fingerprints of every candidate span of many records, fast enough for a million of them.

PII replay looks up each run of up to `max_ngram` whitespace-separated pieces of every record
(~200 per record). Four things make that affordable at scale, none of which changes a result:
- The prefix prefilter. A version 2 manifest gives each value its prefix digest, a keyed digest of
  the first `PREFIX_CHARS` letters and digits of its normalized form (privacy/fingerprint.py). A
  candidate can only have a wanted fingerprint if it has the same normalized form as a wanted
  value, hence the same prefix key and digest; so only candidates whose prefix digest is wanted are
  kept and fully fingerprinted. Prefix keys are built piece by piece (below) and each distinct one
  is digested once per chunk; there are few (most n-grams starting at a word share its prefix key),
  so most candidates cost a few string operations instead of a normalization and an HMAC. Without
  prefixes (a version 1 manifest) every candidate is fingerprinted.
- `privacy.fingerprint.Fingerprinter` sets the HMAC key up once per chunk, not once per value.
- Records are scanned in chunks, so memory holds one chunk's distinct candidates.
- Above `PARALLEL_ABOVE` records, chunks are scanned by joblib worker processes on this machine;
  the key stays on it. Workers return only candidates whose digest's first 8 bytes are among the
  wanted digests', and the caller confirms each on the full digest.

Prefix keys piece by piece. For an ASCII string c, the letters and digits of normalize(c) are those
of c.lower(), in order: for ASCII, NFKC is the identity and casefold is lower; normalize otherwise
only collapses whitespace, strips punctuation at the edges, and (for ID-like values) keeps only
`isalnum` characters, and none of these removes, adds or reorders a letter or digit. The letters
and digits of an ASCII run of pieces are therefore those of its pieces' lower-cased forms, in order,
whatever ASCII whitespace separates them; the prefix key is their first `PREFIX_CHARS`. A run that
holds a non-ASCII piece, or non-ASCII whitespace between its pieces, gets its prefix key the
reference way, from normalize() of its text (NFKC and casefold may add letters: "ß" → "ss",
"ﬁ" → "fi", fullwidth "Ａ" → "a").
"""

from __future__ import annotations

import numpy as np

from audit.text import pieces
from privacy.fingerprint import PREFIX_CHARS, Fingerprinter, normalize, prefix_key

CHUNK_RECORDS = 5_000
PARALLEL_ABOVE = 50_000
WORKERS = 2
# str.translate table: drops every ASCII character that is not a letter or digit.
_ASCII_NOT_ALNUM = {c: None for c in range(128) if not chr(c).isalnum()}


def _piece_keys(text: str, spans: list[tuple[int, int]]) -> tuple[list[str], list | None]:
    """Each piece's first `PREFIX_CHARS` lower-cased letters and digits (meaningful where ASCII), and
    whether a run through it needs normalize(): True (the piece is not ASCII), "gap" (only the
    whitespace before it is not: a run starting at this piece is fine), False (neither); None for
    all False (an ASCII text)."""
    n = PREFIX_CHARS
    if text.isascii():
        lower = text.lower()  # same offsets: ASCII lower-casing keeps the length
        # Most pieces start with n letters or digits: those are the key, without dropping anything.
        return [head if (head := lower[s : s + n if e - s >= n else e]).isalnum()
                else lower[s:e].translate(_ASCII_NOT_ALNUM)[:n] for s, e in spans], None
    keys, exact, previous_end = [], [], 0
    for s, e in spans:
        piece = text[s:e]
        ascii_piece = piece.isascii()
        keys.append(piece.lower().translate(_ASCII_NOT_ALNUM)[:n] if ascii_piece else "")
        exact.append(True if not ascii_piece else ("gap" if not text[previous_end:s].isascii() else False))
        previous_end = e
    return keys, exact


def scan_texts(items: list, extra: list, max_ngram: int, wanted_key=None) -> tuple[dict, dict]:
    """The distinct candidates of `items` [(record index, field, text)], every run of up to
    `max_ngram` pieces, and of the detected spans in `extra` [(record index, field, start, end, text)]:
    (candidate → its first occurrence (record index, field, start, end), candidate → the other
    records it occurs in). Most candidates occur in one record, so most have no set of records.

    With `wanted_key` (prefix key → whether its digest is wanted; asked once per distinct key), only
    the runs whose prefix key is wanted are kept; detected spans always are. The kept candidates'
    entries are the ones an unfiltered scan gives them, in the same order."""
    first: dict[str, tuple[int, str, int, int]] = {}
    others: dict[str, set[int]] = {}
    verdicts: dict[str, bool] = {}

    def wanted(run_key: str) -> bool:
        verdict = verdicts.get(run_key)
        if verdict is None:
            verdict = verdicts[run_key] = wanted_key(run_key)
        return verdict

    for i, name, text in items:
        spans = pieces(text)
        runs = _all_runs(spans, max_ngram) if wanted_key is None else _wanted_runs(text, spans, max_ngram, wanted)
        for start, end in runs:
            if first.setdefault(text[start:end], (i, name, start, end))[0] != i:
                others.setdefault(text[start:end], set()).add(i)
    for i, name, start, end, text in extra:
        if first.setdefault(text[start:end], (i, name, start, end))[0] != i:
            others.setdefault(text[start:end], set()).add(i)
    return first, others


def _all_runs(spans: list[tuple[int, int]], max_ngram: int):
    """(start, end) of every run of up to `max_ngram` pieces, in scan order."""
    for j, (start, _) in enumerate(spans):
        for _, end in spans[j : j + max_ngram]:
            yield start, end


def _wanted_runs(text: str, spans: list[tuple[int, int]], max_ngram: int, wanted):
    """The runs of `_all_runs` whose prefix key is `wanted`, in the same order."""
    keys, exact = _piece_keys(text, spans)
    count = len(spans)
    for j in range(count):
        key = keys[j]
        if exact is None and len(key) == PREFIX_CHARS:  # the usual case: every run has this key
            if wanted(key):
                start = spans[j][0]
                yield from ((start, end) for _, end in spans[j : j + max_ngram])
            continue
        start, key, needs_exact = spans[j][0], "", False
        for k in range(j, min(j + max_ngram, count)):
            if exact is not None and exact[k] is not False and (exact[k] is True or k > j):
                needs_exact = True
            end = spans[k][1]
            if needs_exact:
                run_key = prefix_key(normalize(text[start:end]))
            else:
                if len(key) < PREFIX_CHARS:
                    key = (key + keys[k])[:PREFIX_CHARS]
                run_key = key
            if wanted(run_key):
                yield start, end
            elif (not needs_exact and len(key) == PREFIX_CHARS
                  and (exact is None or not any(exact[k + 1 : j + max_ngram]))):
                break  # a full ASCII key stays the same for longer runs, unless one turns non-ASCII


def prefixes(digests: list[bytes]) -> np.ndarray:
    """The first 8 bytes of each digest as unsigned integers."""
    return np.frombuffer(b"".join(d[:8] for d in digests), dtype=np.uint64) if digests else np.zeros(0, np.uint64)


def scan_chunk(items: list, extra: list, max_ngram: int, key: bytes, wanted: np.ndarray,
               wanted_prefixes: frozenset[str] | None = None) -> list:
    """[(candidate, hex digest, first occurrence, records)] of a chunk's candidates whose digest
    starts like a wanted one (`wanted`: sorted prefixes); run in a worker process. With
    `wanted_prefixes` (the wanted values' prefix digests, hex) only candidates whose prefix digest
    is among them are fingerprinted."""
    fingerprinter = Fingerprinter(key)
    wanted_key = None
    if wanted_prefixes is not None:
        def wanted_key(run_key: str) -> bool:
            return fingerprinter.prefix_of_key(run_key) in wanted_prefixes

    first, others = scan_texts(items, extra, max_ngram, wanted_key)
    digest = fingerprinter.digest
    digests = [digest(c) for c in first]
    hits = np.isin(prefixes(digests), wanted)
    return [(c, d.hex(), where, {where[0], *others.get(c, ())})
            for (c, where), d, hit in zip(first.items(), digests, hits) if hit]
