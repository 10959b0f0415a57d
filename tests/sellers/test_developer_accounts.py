"""What a seller's team changes from the console's Developers section, as domain rules
(``sellers/accounts.py``, ``sellers/webhooks.py``): named keys, revoking once, secrets
rotated only from what was shown, endpoints disabled and enabled, replays and test events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from buyflow.extensions import db
from buyflow.models import SellerApiKey, WebhookDelivery, WebhookEvent
from buyflow.models._base import utcnow
from buyflow.models.sellers import hash_api_key
from buyflow.sellers import accounts
from buyflow.sellers.accounts import DeveloperRefused, secret_fingerprint
from buyflow.sellers.webhooks import (
    DeliveryRefused,
    record_event,
    replay_delivery,
    send_test_event,
)
from tests.conftest import at_once


def test_a_named_key_is_stored_hashed_under_its_trimmed_name(seller):
    key, api_key = accounts.issue_named_api_key(seller, "  CI \t runner ")
    db.session.commit()
    assert (key.name, key.key_hash, key.hint) == ("CI runner", hash_api_key(api_key),
                                                  api_key[-4:])
    assert key.revoked_at is None and key.last_used_at is None


@pytest.mark.parametrize("name, code", [("", "name_required"), (" \t", "name_required"),
                                        ("x" * 101, "name_too_long")])
def test_a_key_needs_a_name(seller, name, code):
    with pytest.raises(DeveloperRefused) as refused:
        accounts.issue_named_api_key(seller, name)
    assert refused.value.code == code
    db.session.rollback()
    assert len(seller.api_keys) == 1


def test_two_revokes_at_once_revoke_once(app, seller):
    key_id = seller.api_keys[0].id

    def revoke(_):
        with app.app_context():
            key = db.session.get(SellerApiKey, key_id)
            revoked = accounts.revoke_api_key(key)
            db.session.commit()
            return revoked

    assert sorted(at_once(revoke, range(4), workers=4)) == [False, False, False, True]
    db.session.expire_all()
    assert db.session.get(SellerApiKey, key_id).revoked_at is not None


def test_signing_secrets_change_only_from_what_was_shown(seller):
    shown = secret_fingerprint(seller.signing_secrets[-1])
    with pytest.raises(DeveloperRefused, match="only one") as refused:
        accounts.retire_older_signing_secrets(seller, shown)
    assert refused.value.code == "nothing_to_retire"
    new = accounts.rotate_signing_secret_of(seller, shown)
    db.session.commit()
    with pytest.raises(DeveloperRefused) as stale:
        accounts.rotate_signing_secret_of(seller, shown)  # a second press of the old page
    assert stale.value.code == "secret_changed"
    db.session.rollback()
    assert seller.signing_secrets == ["sign-northwind", new]
    assert accounts.retire_older_signing_secrets(seller, secret_fingerprint(new)) == 1
    assert seller.signing_secrets == [new]


def test_an_endpoint_url_is_registered_once(seller, receiver):
    endpoint, _ = accounts.add_unique_webhook_endpoint(seller, receiver.url)
    db.session.commit()
    with pytest.raises(DeveloperRefused) as refused:
        accounts.add_unique_webhook_endpoint(seller, f" {receiver.url} ")
    assert (refused.value.code, refused.value.message) == ("endpoint_exists", endpoint.public_id)


def test_disabling_cancels_what_waits_and_enabling_keeps_it_canceled(seller, receiver):
    endpoint, _ = accounts.add_webhook_endpoint(seller, receiver.url)
    record_event(seller, "order.completed", {"order": {"id": "ord_1"}})
    db.session.commit()
    assert accounts.disable_webhook_endpoint(endpoint) is True
    assert accounts.disable_webhook_endpoint(endpoint) is False
    db.session.commit()
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    assert (endpoint.enabled, delivery.status) == (False, "canceled")
    assert accounts.enable_webhook_endpoint(endpoint) is True
    assert accounts.enable_webhook_endpoint(endpoint) is False
    db.session.commit()
    db.session.refresh(delivery)
    assert (endpoint.enabled, endpoint.disabled_reason, delivery.status) == (True, None,
                                                                             "canceled")


def test_an_endpoint_secret_rotates_only_from_the_one_shown(seller, receiver):
    endpoint, secret = accounts.add_webhook_endpoint(seller, receiver.url)
    db.session.commit()
    new = accounts.rotate_webhook_secret(endpoint, secret_fingerprint(secret))
    db.session.commit()
    with pytest.raises(DeveloperRefused):
        accounts.rotate_webhook_secret(endpoint, secret_fingerprint(secret))
    db.session.rollback()
    assert endpoint.secret == new != secret and new.startswith("whsec_")
    # The old one keeps signing for WEBHOOK_SECRET_GRACE_HOURS (24), then no more.
    assert endpoint.previous_secret == secret
    left = endpoint.previous_secret_until - utcnow()
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
    accounts.rotate_webhook_secret(endpoint, secret_fingerprint(new), grace=timedelta(0))
    assert (endpoint.previous_secret, endpoint.previous_secret_until) == (None, None)


def test_a_replay_is_due_at_once_and_wakes_the_worker(app, seller, receiver, monkeypatch):
    endpoint, _ = accounts.add_webhook_endpoint(seller, receiver.url)
    record_event(seller, "order.completed", {"order": {"id": "ord_1"}})
    db.session.commit()
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    with pytest.raises(DeliveryRefused) as pending:
        replay_delivery(delivery)
    assert pending.value.code == "delivery_pending"
    delivery.status, delivery.attempts, delivery.next_attempt_at = "failed", 10, None
    db.session.commit()

    woken = []
    monkeypatch.setattr("buyflow.sellers.webhooks._wake", lambda ids=(): woken.append(ids))
    replay_delivery(delivery)
    assert woken == []  # not before the commit
    db.session.commit()
    assert woken == [[delivery.id]]
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at is not None
    with pytest.raises(DeliveryRefused):
        replay_delivery(delivery)  # twice: the first is on its way


def test_no_replay_nor_test_event_to_a_disabled_endpoint(seller, receiver):
    endpoint, _ = accounts.add_webhook_endpoint(seller, receiver.url)
    record_event(seller, "order.completed", {"order": {"id": "ord_1"}})
    db.session.commit()
    delivery = db.session.scalars(db.select(WebhookDelivery)).one()
    delivery.status = "failed"
    accounts.disable_webhook_endpoint(endpoint)
    db.session.commit()
    for attempt in (lambda: replay_delivery(delivery), lambda: send_test_event(endpoint)):
        with pytest.raises(DeliveryRefused) as refused:
            attempt()
        assert refused.value.code == "endpoint_disabled"
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 1


def test_a_test_event_has_one_delivery_to_its_endpoint(seller, receiver):
    first, _ = accounts.add_webhook_endpoint(seller, receiver.url)
    accounts.add_webhook_endpoint(seller, receiver.url + "/second")
    db.session.commit()
    event = send_test_event(first)
    db.session.commit()
    assert (event.type, event.data) == ("webhook.test", {"endpoint": first.public_id})
    assert [d.endpoint_id for d in event.deliveries] == [first.id]
