"""Synth stage: a local GGUF model (llama.cpp) writes synthetic records from scrubbed ones."""
