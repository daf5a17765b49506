"""Alembic migrations of Airlock's database (api tables and the audit log)."""
