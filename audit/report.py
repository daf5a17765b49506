"""The audit report: versioned JSON for machines, a self-contained HTML page for people, and an
Ed25519 signature over the canonical JSON that anyone holding the public key can check offline.

Canonical JSON = keys sorted, no insignificant whitespace, UTF-8, no NaN; the report file itself is
indented for reading, and verification re-canonicalizes what it parses, so layout does not matter
but any changed value does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit.check import CheckResult
from privacy.errors import BadInput
from privacy.records import atomic_output

SCHEMA = "airlock.audit-report"
SCHEMA_VERSION = 1
SIGNATURE_SUFFIX = ".sig"


@dataclass(frozen=True)
class CheckOutcome:
    """What became of one check: passed, failed, error, not_applicable, skipped or missing."""

    name: str
    title: str
    status: str
    required: bool
    reason: str = ""
    result: CheckResult | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Report:
    schema: str
    schema_version: int
    report_id: str
    created_at: str
    verdict: str
    reasons: tuple[str, ...]
    checks: tuple[CheckOutcome, ...]
    inputs: dict
    policy: dict
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The audit-log head when the report was issued ({"seq", "hash"}): signed with the report, it is
    # a checkpoint that `airlock log verify --checkpoint report.json` holds the log against.
    log_head: dict | None = None
    # Which keys made what the report refers to ({"site": key id, "vault": …, "signing": …}).
    keys: dict = field(default_factory=dict)
    # How the synthetic records were made, when a pipeline run issued the report: the synthesis
    # stage's counts (mode, model, requested, delivered, attempts, rejections by reason, rate).
    generation: dict | None = None

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def to_dict(self) -> dict:
        document = asdict(self)
        document["checks"] = [_outcome_dict(o) for o in self.checks]
        return _plain(document)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"

    def render_html(self) -> str:
        from audit.html import render

        return render(self.to_dict())


def _outcome_dict(outcome: CheckOutcome) -> dict:
    document = {k: v for k, v in asdict(outcome).items() if k != "result"}
    result = asdict(outcome.result) if outcome.result else {}
    result.pop("name", None)
    return {**document, **result}


def _plain(value: Any) -> Any:
    """JSON-safe: tuples become lists, numpy scalars Python numbers, NaN/inf null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def public_key(signing_key: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte signing seed."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return Ed25519PrivateKey.from_private_bytes(signing_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_fingerprint(public: bytes) -> str:
    """Short name of a public key (16 hex digits of its SHA-256): an id, too short to pin trust on."""
    return hashlib.sha256(public).hexdigest()[:16]


def full_fingerprint(public: bytes) -> str:
    """The whole SHA-256 of a public key (64 hex digits): what a site pins and compares by eye."""
    return hashlib.sha256(public).hexdigest()


def public_key_pem(public: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PublicKey.from_public_bytes(public)
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def read_public_key(path: str | Path) -> bytes:
    """A public key file: PEM (as exported by `airlock report public-key`) or 64 hex digits."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{p.name}: no such public key file")
    text = p.read_text(encoding="utf-8", errors="replace").strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError
            return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        raw = bytes.fromhex(text)
        if len(raw) != 32:
            raise ValueError
        return raw
    except ValueError:
        raise BadInput(f"{p.name}: not an Ed25519 public key (PEM or 64 hex digits)") from None


def sign(report: Report | dict, signing_key: bytes) -> bytes:
    """Ed25519 signature (64 bytes) over the report's canonical JSON."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    document = report.to_dict() if isinstance(report, Report) else report
    return Ed25519PrivateKey.from_private_bytes(signing_key).sign(canonical_json(document))


def signature_document(signature: bytes, public: bytes) -> str:
    """The signature file: algorithm, which key, and the signature."""
    return json.dumps({
        "algorithm": "Ed25519",
        "canonicalization": "JSON, sorted keys, compact separators, UTF-8",
        "key_id": key_fingerprint(public),
        "signature": base64.b64encode(signature).decode(),
    }, indent=2) + "\n"


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str


def check_signature(report_path: str | Path, signature_path: str | Path, public: bytes) -> SignatureCheck:
    """Verify a report file against its signature file, offline; the reason says what is wrong."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    report_path, signature_path = Path(report_path), Path(signature_path)
    for p in (report_path, signature_path):
        if not p.is_file():
            raise BadInput(f"{p.name}: no such file")
    try:
        signed = json.loads(signature_path.read_text(encoding="utf-8"))
        signature = base64.b64decode(signed["signature"], validate=True)
    except (ValueError, KeyError, TypeError):
        return SignatureCheck(False, f"{signature_path.name} is not an Airlock signature file")
    if signed.get("key_id") != key_fingerprint(public):
        return SignatureCheck(False, f"the report was signed with key {signed.get('key_id')}, "
                                     f"not with the given public key {key_fingerprint(public)}")
    try:
        document = json.loads(report_path.read_text(encoding="utf-8"))
        Ed25519PublicKey.from_public_bytes(public).verify(signature, canonical_json(document))
    except (ValueError, UnicodeDecodeError):
        return SignatureCheck(False, f"{report_path.name} is not valid JSON")
    except InvalidSignature:
        return SignatureCheck(False, f"{report_path.name} was changed after it was signed")
    return SignatureCheck(True, f"signature valid (key {key_fingerprint(public)})")


def verify_report(report_path: str | Path, signature_path: str | Path, public_key: bytes) -> bool:
    return check_signature(report_path, signature_path, public_key).ok


def write_report(report: Report, outdir: str | Path, signing_key: bytes) -> dict[str, Path]:
    """report.json, report.html and report.json.sig into `outdir`, each written atomically."""
    outdir = Path(outdir)
    paths = {"json": outdir / "report.json", "html": outdir / "report.html"}
    paths["signature"] = paths["json"].with_name(paths["json"].name + SIGNATURE_SUFFIX)
    document = report.to_json()
    signature = sign(json.loads(document), signing_key)
    with atomic_output(paths["json"]) as out:
        out.write(document)
    with atomic_output(paths["html"]) as out:
        out.write(report.render_html())
    with atomic_output(paths["signature"]) as out:
        out.write(signature_document(signature, public_key(signing_key)))
    return paths
