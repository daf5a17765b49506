"""Site secrets: one key ring per purpose. The newest key of a ring writes; older ones still read.

Purposes, each with its own key, never shared:
- `site`: HMAC-SHA256 for fingerprints, keyed hashes, surrogates and record-id pseudonyms (32 bytes);
- `vault`: AES-256-GCM for vault files (32 bytes). The encrypt operator's AES-256-SIV key (64 bytes)
  and the upload-wrapping key are derived from it with HKDF, each for its one purpose;
- `signing`: the Ed25519 seed that signs reports and audit-log checkpoints (32 bytes).

Where a ring comes from, first match wins (keys as hex; a ring lists the newest key first):
  AIRLOCK_<NAME>_KEY         one key, or several separated by commas
  AIRLOCK_<NAME>_KEY_FILE    a file anywhere, one key per line
  <secrets dir>/<name>.key   same format; generated on first use. The secrets dir is
                             AIRLOCK_SECRETS_DIR, default <data dir>/secrets: keep it elsewhere.
A key file that group or others may read or write is refused. Key files from before rotation
existed hold one 32-byte key: they are rings of one and keep working as they are.
Secret values are never logged or put in messages; a key is named by its key id.
"""

from __future__ import annotations

import os
import secrets as _random
import stat
from dataclasses import dataclass, field
from pathlib import Path

from api.settings import Settings
from privacy.errors import PolicyError
from privacy.fingerprint import key_id

SECRET_NAMES = ("site", "vault", "signing")
KEY_BYTES = 32


@dataclass(frozen=True)
class Key:
    """One key: its public id and its material (never printed)."""

    id: str
    material: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyRing:
    """A purpose's keys, newest first; `source` says where they came from (never the values)."""

    name: str
    keys: tuple[Key, ...]
    source: str

    @property
    def current(self) -> Key:
        return self.keys[0]

    def get(self, wanted_id: str) -> bytes | None:
        return next((key.material for key in self.keys if key.id == wanted_id), None)

    def materials(self) -> list[bytes]:
        return [key.material for key in self.keys]


def public_id(name: str, material: bytes) -> str:
    """A key's public id: the signing key's is its public key's fingerprint, as reports name it."""
    if name == "signing":
        from audit.report import key_fingerprint, public_key

        return key_fingerprint(public_key(material))
    return key_id(material)


def _env(name: str) -> str:
    if name not in SECRET_NAMES:
        raise ValueError(f"unknown secret {name!r}")
    return f"AIRLOCK_{name.upper()}_KEY"


def key_file(name: str, settings: Settings) -> Path | None:
    """The file a ring lives in (None when the environment holds it)."""
    env = _env(name)
    if os.environ.get(env):
        return None
    return Path(os.environ.get(f"{env}_FILE") or settings.secrets_dir / f"{name}.key")


def load_keyring(name: str, settings: Settings, create: bool = True) -> KeyRing | None:
    """The named ring; generated into the secrets dir when none is configured and `create` is set
    (otherwise None)."""
    env = _env(name)
    if os.environ.get(env):
        return _ring(name, os.environ[env].replace(",", "\n"), env)
    path = key_file(name, settings)
    if not path.exists():
        if not create:
            return None
        _create(path)
    check_private(path)
    return _ring(name, path.read_text(encoding="ascii", errors="replace"), str(path))


def load_secret(name: str, settings: Settings) -> bytes:
    """The named purpose's current key (the one that writes), generating it if none is configured."""
    return load_keyring(name, settings).current.material


def check_key_files(settings: Settings) -> None:
    """Refuse to start with an unreadable, malformed or group/other-readable key file."""
    for name in SECRET_NAMES:
        load_keyring(name, settings, create=False)


def check_private(path: Path) -> None:
    """PolicyError unless only the owner may read and write `path`."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PolicyError(f"{path}: the key file is open to group or others (mode {stat.S_IMODE(mode):o}); "
                          f"run: chmod 600 {path}")


def _ring(name: str, text: str, source: str) -> KeyRing:
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise PolicyError(f"{source}: holds no key")
    keys = tuple(_parse(line, source, number) for number, line in enumerate(lines, 1))
    return KeyRing(name, tuple(Key(public_id(name, k), k) for k in keys), source)


def _parse(text: str, source: str, number: int) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise PolicyError(f"{source}: key {number}: a {KEY_BYTES}-byte key must be written as hex") from None
    if len(key) != KEY_BYTES:
        raise PolicyError(f"{source}: key {number}: must be {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits)")
    return key


def _create(path: Path) -> None:
    """A new one-key file, 0600, appearing whole: two processes starting together get the same key."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    _write_private(path, _random.token_hex(KEY_BYTES) + "\n", replace=False)


def _write_private(path: Path, text: str, replace: bool) -> None:
    temporary = path.with_name(f".{path.name}.{_random.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if another process made the file first: keep theirs
            except FileExistsError:
                pass
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True)
class Rotation:
    name: str
    new_id: str | None
    retired: tuple[str, ...]
    note: str


def rotate(settings: Settings, names: tuple[str, ...] = SECRET_NAMES) -> list[Rotation]:
    """Put a new key at the head of each file-held ring; the old keys stay, to read and verify.

    A ring held in the environment cannot be rewritten here: its Rotation says what to set.
    """
    done = []
    for name in names:
        path = key_file(name, settings)
        if path is None:
            env = _env(name)
            done.append(Rotation(name, None, (), f"held in {env}: prepend a new key there (new,old,…)"))
            continue
        ring = load_keyring(name, settings)
        fresh = _random.token_hex(KEY_BYTES)
        old = "".join(key.material.hex() + "\n" for key in ring.keys)
        _write_private(path, fresh + "\n" + old, replace=True)
        new_id = public_id(name, bytes.fromhex(fresh))
        done.append(Rotation(name, new_id, tuple(k.id for k in ring.keys), str(path)))
    return done


def describe_sources(settings: Settings) -> dict[str, dict]:
    """Where each ring comes from and its key ids (never a value), for `airlock config show`."""
    shown = {}
    for name in SECRET_NAMES:
        path = key_file(name, settings)
        ring = load_keyring(name, settings, create=False)
        shown[name] = {"source": "environment" if path is None else str(path),
                       "key_ids": [key.id for key in ring.keys] if ring else []}
    return shown
