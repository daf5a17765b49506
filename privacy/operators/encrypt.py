"""Reversible encryption under the vault key: AES-SIV, deterministic, so equal values stay linkable.

The token is `enc:` + URL-safe base64; only a holder of the vault key can turn it back.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from presidio_anonymizer.entities import InvalidParamError

from privacy.errors import PolicyError
from privacy.operators.base import AirlockOperator

TOKEN = re.compile(r"enc:([A-Za-z0-9_-]{22,})")
_AAD = [b"airlock encrypt operator v1"]


def encrypt_value(vault_key: bytes, value: str) -> str:
    sealed = AESSIV(vault_key).encrypt(value.encode("utf-8"), _AAD)
    return "enc:" + base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def decrypt_token(vault_key: bytes, token: str) -> str:
    """The value behind an `enc:` token; PolicyError when the key is not the one that made it."""
    match = TOKEN.fullmatch(token)
    if not match:
        raise PolicyError("not an encrypted token")
    body = match.group(1)
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return AESSIV(vault_key).decrypt(sealed, _AAD).decode("utf-8")
    except (InvalidTag, binascii.Error, ValueError):
        raise PolicyError("an encrypted token does not open with this vault key") from None


class Encrypt(AirlockOperator):
    name = "encrypt"

    def operate(self, text: str, params: dict | None = None) -> str:
        return encrypt_value(self.context(params).vault_key, text)

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        if self.context(params).vault_key is None:
            raise InvalidParamError("operator encrypt: needs the vault key")
