"""One settings object, from environment variables (prefix AIRLOCK_)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
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

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'airlock.db'}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


def get_settings() -> Settings:
    return Settings()
