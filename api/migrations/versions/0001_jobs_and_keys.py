"""API keys and the job table (which is also the queue).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("stage", sa.String(20), nullable=True),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("submitter_key_id", sa.String(16), nullable=False),
        sa.Column("submitter_name", sa.String(200), nullable=False),
        sa.Column("policy_name", sa.String(100), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("input_format", sa.String(8), nullable=False),
        sa.Column("input_bytes", sa.Integer, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=True),
        sa.Column("lease_expires_at", sa.Float, nullable=True, index=True),
        sa.Column("completed_stages", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("error", sa.JSON, nullable=True),
        sa.Column("review_required", sa.Boolean, nullable=False),
        sa.Column("review_state", sa.String(16), nullable=True),
        sa.Column("reviewer_key_id", sa.String(16), nullable=True),
        sa.Column("reviewed_at", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("api_keys")
