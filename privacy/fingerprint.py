"""Keyed fingerprints of raw values: how the manifest, the vault and the audit refer to a PII value
without holding it. Same normalized value + same site key → same fingerprint, across jobs."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Phone numbers and identifiers are written with many separators: "+1 (555) 010-2030", "MRN 12-34".
_ID_LIKE = re.compile(r"[\w\s\-+().#/:]*\d[\w\s\-+().#/:]*")
_KEY_ID_LABEL = b"airlock key id v1"
# The prefix digest: a short keyed digest of a value's first few letters and digits, which the audit
# compares before it pays for a full fingerprint (audit/candidates.py). Changing the label or the
# number of characters changes every prefix digest: manifests written before would then filter out
# real matches, so bump the manifest VERSION (privacy/manifest.py) with them.
_PREFIX_LABEL = b"airlock prefix v1\0"
PREFIX_CHARS = 5
PREFIX_HEX_DIGITS = 16
PREFIX_FORMAT = re.compile(f"[0-9a-f]{{{PREFIX_HEX_DIGITS}}}")  # a well-formed prefix digest


def _strip_edge_punctuation(value: str) -> str:
    start, end = 0, len(value)
    while start < end and unicodedata.category(value[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(value[end - 1]).startswith("P"):
        end -= 1
    return value[start:end]


def normalize(value: str) -> str:
    """The form of a value that fingerprints are computed on.

    NFKC, casefold, collapsed whitespace, no punctuation at the edges; values that look like phone
    numbers or identifiers (mostly digits) keep only their letters and digits, so formatting does
    not change the fingerprint.
    """
    # ASCII is already NFKC; str.split() splits on exactly the whitespace `\s` matches; letters and
    # digits are never punctuation; ASCII words joined by single spaces hold no digit and need none of
    # the steps but lower-casing. The shortcuts give the same value, faster (the audit fingerprints
    # millions of candidate n-grams).
    if value.isascii() and value.replace(" ", "").isalpha() and value[0] != " " != value[-1] and "  " not in value:
        return value.lower()
    text = (value if value.isascii() else unicodedata.normalize("NFKC", value)).casefold()
    text = " ".join(text.split())
    if text and not (text[0].isalnum() and text[-1].isalnum()):
        text = _strip_edge_punctuation(text).strip()
    if _ID_LIKE.fullmatch(text):
        digits = sum(c.isdigit() for c in text)
        letters = sum(c.isalpha() for c in text)
        if digits >= letters:
            return "".join(c for c in text if c.isalnum())
    return text


def fingerprint(site_key: bytes, value: str) -> str:
    """Hex HMAC-SHA256 of the normalized value under the site key."""
    return hmac.digest(site_key, normalize(value).encode("utf-8"), "sha256").hex()


def prefix_key(normalized: str) -> str:
    """What a prefix digest is computed on: the first `PREFIX_CHARS` letters and digits
    (`str.isalnum`) of a normalized value, or all of them if it has fewer.

    Values with the same fingerprint have the same normalized form, hence the same prefix key: a
    candidate whose prefix differs from every wanted one cannot match any of them.
    """
    kept = []
    for char in normalized:
        if char.isalnum():
            kept.append(char)
            if len(kept) == PREFIX_CHARS:
                break
    return "".join(kept)


def prefix(site_key: bytes, value: str) -> str:
    """The value's prefix digest: the first 16 hex digits of HMAC-SHA256(site key, label + prefix key).

    It tells less than the fingerprint (many values share their first letters and digits) and,
    like it, nothing without the site key.
    """
    return Fingerprinter(site_key).prefix(value)


class Fingerprinter:
    """`fingerprint(site_key, value)` for many values (the same digests): the HMAC key is set up once
    and copied for each value, where `hmac.digest` sets it up on every call."""

    def __init__(self, site_key: bytes) -> None:
        self._keyed = hmac.new(site_key, digestmod="sha256")
        self._prefixed = self._keyed.copy()
        self._prefixed.update(_PREFIX_LABEL)

    def digest(self, value: str) -> bytes:
        mac = self._keyed.copy()
        mac.update(normalize(value).encode("utf-8"))
        return mac.digest()

    def __call__(self, value: str) -> str:
        return self.digest(value).hex()

    def prefix_of_key(self, key: str) -> str:
        """The prefix digest of a prefix key (`prefix_key(normalize(value))`), as hex."""
        mac = self._prefixed.copy()
        mac.update(key.encode("utf-8"))
        return mac.hexdigest()[:PREFIX_HEX_DIGITS]

    def prefix(self, value: str) -> str:
        """`prefix(site_key, value)`."""
        return self.prefix_of_key(prefix_key(normalize(value)))


def key_id(key: bytes) -> str:
    """A short public name for a key (16 hex digits), so files can say which key made them."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def derive_key(root: bytes, purpose: str, length: int = 32) -> bytes:
    """A key for one purpose, derived from `root` with HKDF-SHA256 (RFC 5869).

    Keys derived for different purposes are independent: learning one reveals neither the root nor
    its siblings, so one secret can feed several uses without any two sharing a key.
    """
    info = f"airlock/{purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(root)
