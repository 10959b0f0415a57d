"""the seller's brand (accent colour, logo, support email, postal address) and receipts
with numbers of their own (issued now for every order already paid, in payment order)

Revision ID: 0012_seller_brand
Revises: 0011_requests_audit
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0012_seller_brand"
down_revision = "0011_requests_audit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accent_color", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("logo_image", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("logo_type", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("logo_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("support_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("postal_address", sa.Text(), nullable=True))

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=False,
                  unique=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("INSERT INTO receipts (order_id, issued_at) SELECT id, paid_at FROM orders "
               "WHERE paid_at IS NOT NULL ORDER BY paid_at, id")


def downgrade():
    op.drop_table("receipts")
    with op.batch_alter_table("sellers", schema=None) as batch_op:
        for column in ("postal_address", "support_email", "logo_digest", "logo_type",
                       "logo_image", "accent_color"):
            batch_op.drop_column(column)
