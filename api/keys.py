"""API keys: high-entropy bearer tokens, stored as SHA-256 digests, compared in constant time.

A key reads `ak_<id>_<secret>`: the public id finds the row, the digest of the whole key proves it.
A 256-bit random secret needs no slow hash; SHA-256 of it cannot be reversed or guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import ApiKey, now
from privacy.errors import BadInput

ROLES = ("submitter", "reviewer", "auditor", "admin")
_PREFIX = "ak"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id, its name, role and holder (never the key itself)."""

    key_id: str
    name: str
    role: str
    person: str = ""

    @property
    def identity(self) -> str:
        """The person behind the key (its name for keys that name nobody else)."""
        return normalize_person(self.person or self.name)


def normalize_person(person: str) -> str:
    """People compare case- and space-insensitively: "Rita  Lee" and "rita lee" are one person."""
    return " ".join(person.split()).casefold()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(engine: Engine, role: str, name: str | None = None,
               person: str | None = None) -> tuple[Principal, str]:
    """Create a key held by `person` (default: its name); returns the principal and the key, which
    is never retrievable again. Every key of one person counts as that person in a review."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r} (use one of: {', '.join(ROLES)})")
    key_id = secrets.token_hex(6)
    key = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    name = name or f"{role}-{key_id}"
    person = " ".join((person or name).split())
    if not person:
        raise BadInput("a key needs the person who holds it (--person)")
    with Session(engine) as session, session.begin():
        session.add(ApiKey(id=key_id, name=name, role=role, person=person, digest=_digest(key), created_at=now()))
    return Principal(key_id, name, role, person), key


def authenticate(engine: Engine, key: str) -> Principal | None:
    """The principal for a presented key, or None for an unknown, malformed or revoked key."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX:
        return None
    with Session(engine) as session:
        row = session.get(ApiKey, parts[1])
        if row is None or row.revoked_at is not None:
            # Spend the same work as a real comparison, so timing does not reveal which ids exist.
            hmac.compare_digest(_digest(key), "0" * 64)
            return None
        if not hmac.compare_digest(_digest(key), row.digest):
            return None
        return Principal(row.id, row.name, row.role, row.person or row.name)


def revoke_key(engine: Engine, key_id: str) -> None:
    with Session(engine) as session, session.begin():
        row = session.get(ApiKey, key_id)
        if row is None:
            raise BadInput(f"no key with id {key_id}")
        if row.revoked_at is None:
            row.revoked_at = now()


def list_keys(engine: Engine) -> list[dict]:
    """Every key's id, name, role, creation and revocation time (no digests)."""
    with Session(engine) as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
        return [
            {"id": r.id, "name": r.name, "role": r.role, "person": r.person or r.name, "created_at": r.created_at,
             "revoked_at": r.revoked_at}
            for r in rows
        ]


def key_holder(engine: Engine, key_id: str) -> str | None:
    """The normalized identity of the person holding a key (None for an unknown key)."""
    with Session(engine) as session:
        row = session.get(ApiKey, key_id)
        return normalize_person(row.person or row.name) if row is not None else None
