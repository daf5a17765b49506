"""API keys name the person who holds them: four-eyes compares people, not key names.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("person", sa.String(200), nullable=True))
    # Keys made before: the best identity known for them is their name.
    op.execute("UPDATE api_keys SET person = name WHERE person IS NULL")


def downgrade() -> None:
    op.drop_column("api_keys", "person")
