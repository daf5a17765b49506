"""The privacy section of the policy file (filled in by the privacy stage)."""

from pydantic import BaseModel, ConfigDict


class PrivacyPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
