"""The audit section of the policy file (filled in by the audit stage)."""

from pydantic import BaseModel, ConfigDict


class AuditPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
