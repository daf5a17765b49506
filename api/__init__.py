"""Service: settings, storage, pipeline, HTTP API and CLI; the only package that wires the stages."""
