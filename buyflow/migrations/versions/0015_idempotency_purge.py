"""an index for the hourly purge of finished idempotency records past their retention

Revision ID: 0015_idempotency_purge
Revises: 0014_order_filter_indexes
Create Date: 2026-12-01 16:00:00

"""
from alembic import op


revision = "0015_idempotency_purge"
down_revision = "0014_order_filter_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_idempotency_records_status_created", "idempotency_records",
                    ["status", "created_at"])


def downgrade():
    op.drop_index("ix_idempotency_records_status_created", table_name="idempotency_records")
