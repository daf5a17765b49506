"""Audit stage: leak and membership-inference checks, a fail-closed gate, signed reports, audit log."""
