"""Site secrets: 32 random bytes each, from the environment, a file, or generated on first use.

Order: AIRLOCK_<NAME>_KEY (hex) → AIRLOCK_<NAME>_KEY_FILE → <data_dir>/secrets/<name>.key, created
with 0600 permissions. Secret values are never logged or put in messages.
"""

from __future__ import annotations

import os
import secrets as _random
from pathlib import Path

from api.settings import Settings
from privacy.errors import PolicyError

SECRET_NAMES = ("site", "vault", "signing")
KEY_BYTES = 32


def load_secret(name: str, settings: Settings) -> bytes:
    """Return the named secret, generating it into the data directory if none is configured."""
    if name not in SECRET_NAMES:
        raise ValueError(f"unknown secret {name!r}")
    env = f"AIRLOCK_{name.upper()}_KEY"
    if os.environ.get(env):
        return _parse(os.environ[env], env)
    path = Path(os.environ.get(f"{env}_FILE") or settings.secrets_dir / f"{name}.key")
    if not path.exists():
        _create(path)
    return _parse(path.read_text().strip(), str(path))


def _parse(text: str, source: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise PolicyError(f"{source}: the {KEY_BYTES}-byte key must be written as hex") from None
    if len(key) != KEY_BYTES:
        raise PolicyError(f"{source}: the key must be {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits)")
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(_random.token_hex(KEY_BYTES) + "\n")
