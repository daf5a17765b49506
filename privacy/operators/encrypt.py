"""Reversible encryption: AES-256-SIV, deterministic, so equal values stay linkable.

The 64-byte SIV key (AES-256-SIV needs two 256-bit keys) is derived from the vault key with HKDF
for this one purpose; the vault key itself only seals vault files. The token is `enc:` + URL-safe
base64; only a holder of the vault key can turn it back.

Tokens written before the key separation were sealed with the raw 32-byte vault key (AES-128-SIV);
`decrypt_token` still opens them, so old scrubbed data stays re-identifiable.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from presidio_anonymizer.entities import InvalidParamError

from privacy.errors import PolicyError
from privacy.fingerprint import derive_key
from privacy.operators.base import AirlockOperator

TOKEN = re.compile(r"enc:([A-Za-z0-9_-]{22,})")
_AAD = [b"airlock encrypt operator v1"]
SIV_KEY_BYTES = 64
CIPHER = "AES-256-SIV (key: HKDF-SHA256 of the vault key, info airlock/encrypt-operator)"


def siv_key(vault_key: bytes) -> bytes:
    """The encrypt operator's own 64-byte AES-256-SIV key, derived from the vault key."""
    return derive_key(vault_key, "encrypt-operator", SIV_KEY_BYTES)


def encrypt_value(vault_key: bytes, value: str) -> str:
    sealed = AESSIV(siv_key(vault_key)).encrypt(value.encode("utf-8"), _AAD)
    return "enc:" + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def decrypt_token(vault_keys: bytes | Sequence[bytes], token: str) -> str:
    """The value behind an `enc:` token, trying each vault key (newest first, rotated ones after);
    PolicyError when none of them made it."""
    match = TOKEN.fullmatch(token)
    if not match:
        raise PolicyError("not an encrypted token")
    body = match.group(1)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise PolicyError("an encrypted token is damaged") from None
    keys = [vault_keys] if isinstance(vault_keys, bytes) else list(vault_keys)
    # SIV authenticates: a wrong key fails its tag check, so trying keys in turn cannot mis-decrypt.
    candidates = [siv_key(key) for key in keys] + [key for key in keys if len(key) == 32]  # legacy AES-128-SIV
    for candidate in candidates:
        try:
            return AESSIV(candidate).decrypt(sealed, _AAD).decode("utf-8")
        except (InvalidTag, ValueError):
            continue
    raise PolicyError("an encrypted token does not open with this vault key")


class Encrypt(AirlockOperator):
    name = "encrypt"

    def operate(self, text: str, params: dict | None = None) -> str:
        return encrypt_value(self.context(params).vault_key, text)

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        if self.context(params).vault_key is None:
            raise InvalidParamError("operator encrypt: needs the vault key")
