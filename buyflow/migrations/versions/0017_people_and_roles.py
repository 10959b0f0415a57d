"""people and roles: memberships, invitations, operators, bans, the blacklist, seller
status and settings, named API keys, audit entries of every actor

Revision ID: 0017_people_and_roles
Revises: 0016_one_open_refund_request
Create Date: 2026-12-01 19:20:00

"""
import sqlalchemy as sa
from alembic import op

from buyflow.models._base import UTCDateTime
from buyflow.models.encrypted import EncryptedText

revision = "0017_people_and_roles"
down_revision = "0016_one_open_refund_request"
branch_labels = None
depends_on = None


def _public_columns():
    return [sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("public_id", sa.String(40), nullable=False, unique=True),
            sa.Column("created_at", UTCDateTime(), nullable=False)]


def upgrade():
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seller_id", sa.Integer(), sa.ForeignKey("sellers.id"), nullable=False),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("seller_id", "buyer_id", name="uq_memberships_person"),
    )
    op.create_index("ix_memberships_seller_id", "memberships", ["seller_id"])
    op.create_index("ix_memberships_buyer_id", "memberships", ["buyer_id"])
    op.create_table(
        "invitations", *_public_columns(),
        sa.Column("seller_id", sa.Integer(), sa.ForeignKey("sellers.id"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), sa.ForeignKey("buyers.id")),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime()),
        sa.Column("accepted_by_id", sa.Integer(), sa.ForeignKey("buyers.id")),
        sa.Column("revoked_at", UTCDateTime()),
    )
    op.create_index("ix_invitations_seller_id", "invitations", ["seller_id"])
    op.create_table(
        "bans", *_public_columns(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("buyer_id", sa.Integer(), sa.ForeignKey("buyers.id")),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("buyers.id")),
        sa.Column("lifted_at", UTCDateTime()),
    )
    op.create_index("ix_bans_value", "bans", ["value"])
    op.create_index("ix_bans_buyer_id", "bans", ["buyer_id"])
    op.create_table(
        "blacklist_patterns", *_public_columns(),
        sa.Column("pattern", sa.String(500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("buyers.id")),
        sa.Column("removed_at", UTCDateTime()),
    )
    op.create_index("ix_orders_seller_paid", "orders", ["seller_id", "paid_at"])
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("previous_secret", EncryptedText()))
        batch.add_column(sa.Column("previous_secret_until", UTCDateTime()))
    with op.batch_alter_table("webhook_events") as batch:
        batch.add_column(sa.Column("order_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_webhook_events_order_id_orders", "orders",
                                 ["order_id"], ["id"])
        batch.create_index("ix_webhook_events_order", ["order_id", "id"])
    # The events already sent name their order in their payload.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE webhook_events SET order_id = (SELECT orders.id FROM orders "
                   "WHERE orders.public_id = json_extract(webhook_events.data, '$.order.id'))")
    else:
        op.execute("UPDATE webhook_events SET order_id = (SELECT orders.id FROM orders "
                   "WHERE orders.public_id = (webhook_events.data -> 'order' ->> 'id'))")
    with op.batch_alter_table("buyers") as batch:
        batch.add_column(sa.Column("is_operator", sa.Boolean(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("deactivated_at", UTCDateTime()))
    with op.batch_alter_table("sellers") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False,
                                   server_default="active"))
        batch.add_column(sa.Column("status_reason", sa.Text()))
        batch.add_column(sa.Column("currencies", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("offline_instructions", sa.Text()))
    with op.batch_alter_table("seller_api_keys") as batch:
        batch.add_column(sa.Column("name", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("last_used_at", UTCDateTime()))
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("seller_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("before", sa.JSON()))
        batch.add_column(sa.Column("after", sa.JSON()))
        batch.add_column(sa.Column("reason", sa.Text()))
        batch.create_foreign_key("fk_audit_entries_seller_id_sellers", "sellers",
                                 ["seller_id"], ["id"])
        batch.create_index("ix_audit_entries_seller_id", ["seller_id"])
        batch.create_index("ix_audit_entries_action", ["action"])
        batch.create_index("ix_audit_entries_created_at", ["created_at"])
        batch.create_index("ix_audit_entries_subject", ["subject"])


def downgrade():
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_index("ix_audit_entries_subject")
        batch.drop_index("ix_audit_entries_created_at")
        batch.drop_index("ix_audit_entries_action")
        batch.drop_index("ix_audit_entries_seller_id")
        batch.drop_constraint("fk_audit_entries_seller_id_sellers", type_="foreignkey")
        for column in ("reason", "after", "before", "seller_id"):
            batch.drop_column(column)
    with op.batch_alter_table("seller_api_keys") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("name")
    with op.batch_alter_table("sellers") as batch:
        for column in ("offline_instructions", "currencies", "status_reason", "status"):
            batch.drop_column(column)
    with op.batch_alter_table("buyers") as batch:
        batch.drop_column("deactivated_at")
        batch.drop_column("is_operator")
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("previous_secret_until")
        batch.drop_column("previous_secret")
    with op.batch_alter_table("webhook_events") as batch:
        batch.drop_index("ix_webhook_events_order")
        batch.drop_constraint("fk_webhook_events_order_id_orders", type_="foreignkey")
        batch.drop_column("order_id")
    op.drop_index("ix_orders_seller_paid", table_name="orders")
    op.drop_table("blacklist_patterns")
    op.drop_index("ix_bans_buyer_id", table_name="bans")
    op.drop_index("ix_bans_value", table_name="bans")
    op.drop_table("bans")
    op.drop_index("ix_invitations_seller_id", table_name="invitations")
    op.drop_table("invitations")
    op.drop_index("ix_memberships_buyer_id", table_name="memberships")
    op.drop_index("ix_memberships_seller_id", table_name="memberships")
    op.drop_table("memberships")
