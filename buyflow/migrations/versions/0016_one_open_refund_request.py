"""at most one open refund request per order, as a partial unique index

Revision ID: 0016_one_open_refund_request
Revises: 0015_idempotency_purge
Create Date: 2026-12-01 16:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = "0016_one_open_refund_request"
down_revision = "0015_idempotency_purge"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade():
    op.create_index("uq_refund_requests_one_open", "refund_requests", ["order_id"],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade():
    op.drop_index("uq_refund_requests_one_open", table_name="refund_requests")
