"""The synth section of the policy file (filled in by the synth stage)."""

from pydantic import BaseModel, ConfigDict


class SynthPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
