"""The policy file: one YAML document with a section per stage. Unknown keys are errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from audit.policy import AuditPolicy
from privacy.errors import PolicyError
from privacy.policy import PrivacyPolicy
from api.finetune_choice import FinetuneChoice
from synth.finetune.config import FinetuneConfig
from synth.policy import SynthPolicy

DEFAULT_POLICY = Path(__file__).parent / "policies" / "default.yaml"


class SplitPolicy(BaseModel):
    """How the holdout (non-members for the audit) is split off the scrubbed records."""

    model_config = ConfigDict(extra="forbid")
    holdout_fraction: float = Field(0.2, gt=0, lt=1)
    min_holdout: int = Field(20, ge=1)
    seed: int = 0


class ReleasePolicy(BaseModel):
    """What a passed gate still needs before the bundle may be downloaded from the service."""

    model_config = ConfigDict(extra="forbid")
    require_approval: bool = False


class ScrubApiPolicy(BaseModel):
    """What `POST /v1/scrub` returns besides the scrubbed records.

    Keyed fingerprints are off by default: the same value gets the same fingerprint in every
    request, so a caller holding them can link one person across requests and datasets without
    ever seeing a name. Turn `return_fingerprints` on only for callers that must link records (e.g.
    deduplication) and are trusted with that linkage.
    """

    model_config = ConfigDict(extra="forbid")
    return_fingerprints: bool = False


class RetentionPolicy(BaseModel):
    """What happens to a job's work files (scrubbed records, splits, manifest, synthetic drafts) once
    it is released or quarantined. The bundle (report, release) and the vault are not work files."""

    model_config = ConfigDict(extra="forbid")
    keep_work_files: bool = False


# 'local' starts a Ray runtime on this machine; 'auto' joins the one `ray start` runs here; otherwise
# host:port (or ray://host:port) of a cluster's head.
RAY_ADDRESS = re.compile(r"^(local|auto|(ray://)?[A-Za-z0-9][A-Za-z0-9.-]*:[0-9]{1,5})$")
RAY_ADDRESS_HINT = "give 'local', 'auto', host:port or ray://host:port"
MAX_WORKERS = 4096


class ExecutionPolicy(BaseModel):
    """Where the batch stages run: in this process (`local`, the default) or on Ray actors.

    The address decides which machines receive raw text for detection, so it comes from the policy
    file or the site's settings (AIRLOCK_RAY_ADDRESS), never from a job request."""

    model_config = ConfigDict(extra="forbid")
    engine: Literal["local", "ray"] = "local"
    address: str | None = None  # with engine ray; default AIRLOCK_RAY_ADDRESS
    workers: int | None = Field(None, ge=1, le=MAX_WORKERS)  # Ray actors per batch stage; default 1

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not RAY_ADDRESS.match(value):
            raise PydanticCustomError("ray_address", RAY_ADDRESS_HINT)
        return value

    @model_validator(mode="after")
    def _for_ray_only(self) -> "ExecutionPolicy":
        if self.engine == "local" and (self.address is not None or self.workers is not None):
            raise PydanticCustomError("execution", "address and workers apply to engine: ray")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "default"
    privacy: PrivacyPolicy = Field(default_factory=PrivacyPolicy)
    split: SplitPolicy = Field(default_factory=SplitPolicy)
    synth: SynthPolicy = Field(default_factory=SynthPolicy)
    audit: AuditPolicy = Field(default_factory=AuditPolicy)
    finetune: FinetuneConfig = Field(default_factory=FinetuneConfig)  # how `airlock run` fine-tunes
    finetune_choice: FinetuneChoice = Field(default_factory=FinetuneChoice)  # whether, without --finetune
    release: ReleasePolicy = Field(default_factory=ReleasePolicy)
    scrub_api: ScrubApiPolicy = Field(default_factory=ScrubApiPolicy)
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    execution: ExecutionPolicy = Field(default_factory=ExecutionPolicy)


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate a policy file (the bundled default when no path is given)."""
    path = Path(path) if path else DEFAULT_POLICY
    if not path.is_file():
        raise PolicyError(f"{path.name}: no such policy file")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise PolicyError(f"{path.name}: not valid YAML") from None
    if not isinstance(document, dict):
        raise PolicyError(f"{path.name}: the policy must be a mapping of sections")
    try:
        return Policy.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        reason = "unknown policy key" if first["type"] == "extra_forbidden" else first["msg"]
        raise PolicyError(f"{path.name}: {where}: {reason}") from None


_POLICY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def resolve_policy(name: str, data_dir: Path, default: Path | None = None) -> Policy:
    """A policy by name for the service: <data_dir>/policies/<name>.yaml, then the bundled ones."""
    if not _POLICY_NAME.match(name):
        raise PolicyError("a policy name is lowercase letters, digits, '-' and '_'")
    if name == "default" and default:
        return load_policy(default)
    for folder in (data_dir / "policies", DEFAULT_POLICY.parent):
        if (folder / f"{name}.yaml").is_file():
            return load_policy(folder / f"{name}.yaml")
    raise PolicyError(f"no policy named {name!r}")
