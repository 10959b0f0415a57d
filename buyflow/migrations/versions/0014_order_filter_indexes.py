"""indexes for the seller API's order list and its filters (status, created_gte,
created_lt), newest first by id: (seller, id) replaces (seller), with (seller, status,
id), (seller, created_at) and (seller, status, created_at)

Revision ID: 0014_order_filter_indexes
Revises: 0013_secrets_at_rest
Create Date: 2026-12-01 13:00:00

"""
from alembic import op


revision = "0014_order_filter_indexes"
down_revision = "0013_secrets_at_rest"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_orders_seller_id_id": ["seller_id", "id"],
    "ix_orders_seller_status_id": ["seller_id", "status", "id"],
    "ix_orders_seller_created": ["seller_id", "created_at"],
    "ix_orders_seller_status_created": ["seller_id", "status", "created_at"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "orders", columns)
    op.drop_index("ix_orders_seller_id", table_name="orders")  # (seller, id) serves it


def downgrade():
    op.create_index("ix_orders_seller_id", "orders", ["seller_id"])
    for name in INDEXES:
        op.drop_index(name, table_name="orders")
