"""Alembic environment: runs on the connection api.db.migrate() passes in (online mode only)."""

from alembic import context

from api.db import METADATA
from audit.log import METADATA as AUDIT_LOG_METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=[METADATA, AUDIT_LOG_METADATA])
with context.begin_transaction():
    context.run_migrations()
