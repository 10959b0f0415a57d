"""refund requests with a lifecycle (where the money goes, the seller's decline, what
closed it, the decline mail); the audit log's actor

Revision ID: 0011_requests_audit
Revises: 0010_money_core
Create Date: 2026-12-02 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011_requests_audit"
down_revision = "0010_money_core"
branch_labels = None
depends_on = None


def upgrade():
    # Existing requests keep their status (open stays open) and wanted the money back
    # where it came from, the only way there was.
    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_to", sa.String(length=20), nullable=False,
                                      server_default="source"))
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refund_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decline_mailed_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("decline_mail_claimed_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key("fk_refund_requests_refund_id_refunds", "refunds",
                                    ["refund_id"], ["id"])
    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.alter_column("refund_to", server_default=None)

    # Every entry so far was the buyer's own change: its actor is that buyer.
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_type", sa.String(length=20), nullable=False,
                                      server_default="buyer"))
        batch_op.add_column(sa.Column("actor_id", sa.String(length=60), nullable=True))
    op.execute("UPDATE audit_entries SET actor_id = CAST(buyer_id AS VARCHAR(60)) "
               "WHERE buyer_id IS NOT NULL")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("actor_type", server_default=None)
        batch_op.create_index("ix_audit_entries_actor", ["actor_type", "actor_id"],
                              unique=False)


def downgrade():
    # Going back loses what only this revision knows: who other than the buyer acted,
    # and how requests ended (an ended one reads as it was stored: its status stays).
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_actor")
        batch_op.drop_column("actor_id")
        batch_op.drop_column("actor_type")
    with op.batch_alter_table("refund_requests", schema=None) as batch_op:
        batch_op.drop_constraint("fk_refund_requests_refund_id_refunds", type_="foreignkey")
        batch_op.drop_column("decline_mail_claimed_at")
        batch_op.drop_column("decline_mailed_at")
        batch_op.drop_column("refund_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("decline_reason")
        batch_op.drop_column("refund_to")
