"""The models registered in the model store."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import current_principal, get_settings

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", dependencies=[Depends(current_principal)])
def list_models(settings=Depends(get_settings)) -> dict:
    """Every registered model: name, SHA-256, architecture, context length, provenance."""
    from synth.store import ModelStore

    return {"models": [
        {"name": m.name, "sha256": m.sha256, "architecture": m.architecture, "context_length": m.context_length,
         "has_chat_template": m.has_chat_template, "provenance": m.provenance}
        for m in ModelStore(settings.models_dir).list()
    ]}
