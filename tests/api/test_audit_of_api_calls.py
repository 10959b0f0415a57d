"""What a seller's server does through the API is in the audit log, as the console's
actions are: the API key as the actor, the seller, the same action names."""

from buyflow.extensions import db
from buyflow.models import AuditEntry
from tests.api.test_payments_and_credits import ANN, pending_order, post  # noqa: F401


def entries(app):
    with app.app_context():
        return [(e.action, e.subject, e.actor_type, e.seller_id is not None,
                 e.detail.get("amount"))
                for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


def test_an_offline_payment_and_a_refund_by_the_api_are_audited(app, client, pending_order):
    assert post(client, f"/orders/{pending_order}/payments",
                {"method": "cash", "reference": "till 3"}, key="pay-1").status_code == 201
    assert post(client, f"/orders/{pending_order}/refunds", {"amount": 450},
                key="refund-1").status_code == 201
    assert entries(app) == [
        ("order.offline_payment_recorded", pending_order, "api_key", True, 1450),
        ("order.refunded", pending_order, "api_key", True, 450),
    ]


def test_a_credit_grant_is_audited_once_however_often_it_is_sent(app, client, seller):
    for _ in range(2):
        answer = post(client, f"/customers/{ANN}/credits/grants",
                      {"unit": "EUR", "amount": 500, "reason": "Sorry"}, key="grant-1")
        assert answer.status_code == 201
    assert entries(app) == [("credit.granted", answer.json["id"], "api_key", True, 500)]
