"""One settings object, from environment variables (prefix AIRLOCK_)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "airlock"


class Settings(BaseSettings):
    """Where Airlock keeps its state, and how the service binds. Secrets are never fields here."""

    model_config = SettingsConfigDict(env_prefix="AIRLOCK_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    policy: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Request limits: a synchronous scrub is small; a job upload is held in memory while encrypted.
    max_scrub_bytes: int = Field(1_000_000, gt=0)
    max_upload_bytes: int = Field(50_000_000, gt=0)
    rate_limit_per_minute: int = Field(120, gt=0)
    # The job queue: a claimed job's lease must be renewed by heartbeats, or another worker takes it.
    lease_seconds: float = Field(60.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    poll_seconds: float = Field(1.0, gt=0)
    log_level: str = "info"
    log_file: Path | None = None
    # Keys: a site should keep them outside the data directory (another disk, a secrets mount).
    secrets_location: Path | None = Field(
        None, validation_alias=AliasChoices("AIRLOCK_SECRETS_DIR", "secrets_location"))
    # Report signing keys this site trusts besides its own: full SHA-256 fingerprints (64 hex digits),
    # comma-separated, as `airlock report public-key` prints them at the issuing site.
    trusted_signing_keys: str = ""
    # Signed checkpoints of the audit-log head: a file outside the database, and how often the
    # service writes one (also written at every release).
    log_checkpoints_file: Path | None = None
    log_checkpoint_seconds: float = Field(3600.0, gt=0)
    # The site's Ray cluster (host:port of its head, or 'local'/'auto'), for policies whose
    # `execution` says `engine: ray` without an address of their own. Nothing runs on Ray without that.
    ray_address: str | None = None

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'airlock.db'}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def secrets_dir(self) -> Path:
        return self.secrets_location or self.data_dir / "secrets"

    @property
    def log_checkpoints(self) -> Path:
        return self.log_checkpoints_file or self.data_dir / "audit-log.checkpoints.jsonl"

    @property
    def trusted_fingerprints(self) -> set[str]:
        return {part.strip().lower().removeprefix("sha256:") for part in self.trusted_signing_keys.split(",")
                if part.strip()}

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


def get_settings() -> Settings:
    return Settings()
