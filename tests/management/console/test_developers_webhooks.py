"""The console's webhook endpoints: adding one, disabling and enabling it, rotating its
secret, its delivery log, one delivery's page, replaying a delivery and sending a test
event, as a seller's developer uses them."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from buyflow.extensions import db
from buyflow.models import (
    AuditEntry,
    Seller,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from buyflow.models._base import utcnow
from buyflow.sellers.accounts import add_webhook_endpoint, secret_fingerprint
from buyflow.sellers.webhooks import record_event
from management.console import developers_webhooks
from tests.management.conftest import form_post


def base(team) -> str:
    return f"/console/{team.northwind}/developers"


def northwind(team) -> Seller:
    return db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))


def audited(in_app, action: str) -> list[AuditEntry]:
    return in_app(lambda: db.session.scalars(
        db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all())


def shown_secret(page: str) -> str:
    return html.unescape(re.search(r'id="new-secret"[^>]*><code>([^<]+)</code>', page).group(1))


@pytest.fixture
def owner(team, as_person):
    as_person(team.emails["owner"])
    return team


@pytest.fixture
def endpoint(owner, receiver, in_app):
    """Northwind's endpoint at the receiver: (public id, secret)."""
    def make():
        endpoint, secret = add_webhook_endpoint(northwind(owner), receiver.url)
        db.session.commit()
        return endpoint.public_id, secret
    return in_app(make)


def endpoint_row(in_app, public_id: str) -> tuple:
    def read():
        row = db.session.scalar(db.select(WebhookEndpoint).filter_by(public_id=public_id))
        return row.enabled, row.disabled_reason, row.secret
    return in_app(read)


def deliveries(in_app) -> list[tuple[int, str, int]]:
    return in_app(lambda: [(d.id, d.status, d.attempts) for d in db.session.scalars(
        db.select(WebhookDelivery).order_by(WebhookDelivery.id))])


def test_an_endpoint_is_added_with_its_secret_shown_once(client, owner, receiver, in_app):
    response = form_post(client, f"{base(owner)}/endpoints", {"url": receiver.url})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    secret = shown_secret(response.text)
    def read():
        [endpoint] = northwind(owner).webhook_endpoints
        return endpoint.public_id, endpoint.url, endpoint.secret, endpoint.enabled
    public_id, url, stored, enabled = in_app(read)
    assert (url, stored, enabled) == (receiver.url, secret, True)
    page = client.get(f"{base(owner)}/endpoints/{public_id}").text
    assert secret not in page and f"whsec_…{secret[-4:]}" in page
    [entry] = audited(in_app, "webhook_endpoint.added")
    assert entry.subject == public_id and secret not in repr((entry.detail, entry.after))


@pytest.mark.parametrize("url, error", [
    ("", "Enter an http:// or https:// URL"),
    ("ftp://shop.example/hooks", "Enter an http:// or https:// URL"),
    ("not a url", "Enter an http:// or https:// URL"),
    ("https://user:pw@shop.example/hooks", "must not contain a user name or password"),
])
def test_a_bad_endpoint_url_is_refused_with_why(client, owner, in_app, url, error):
    response = form_post(client, f"{base(owner)}/endpoints", {"url": url})
    assert response.status_code == 400
    assert error in html.unescape(response.text)
    assert in_app(lambda: northwind(owner).webhook_endpoints) == []


def test_a_private_address_is_refused_as_the_cli_refuses_it(app, client, owner, in_app,
                                                           monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    response = form_post(client, f"{base(owner)}/endpoints",
                         {"url": "http://127.0.0.1:8000/hooks"})
    assert response.status_code == 400
    assert "127.0.0.1 does not resolve to a public address" in response.text
    assert in_app(lambda: northwind(owner).webhook_endpoints) == []


def test_the_same_url_twice_is_refused(client, owner, endpoint, receiver, in_app):
    response = form_post(client, f"{base(owner)}/endpoints", {"url": receiver.url})
    assert response.status_code == 409
    assert "registered already" in response.text and endpoint[0] in response.text
    assert len(in_app(lambda: northwind(owner).webhook_endpoints)) == 1


def test_the_log_shows_each_delivery_with_its_attempts_newest_first_a_page_at_a_time(
        client, owner, endpoint, in_app, monkeypatch):
    monkeypatch.setattr(developers_webhooks, "PAGE_SIZE", 2)

    def make():
        seller = northwind(owner)
        for n in range(3):
            record_event(seller, "order.completed", {"order": {"id": f"ord_{n}"}})
        db.session.flush()
        first, second, third = db.session.scalars(db.select(WebhookDelivery)
                                                  .order_by(WebhookDelivery.id)).all()
        first.status, second.status = "delivered", "failed"
        db.session.add_all([
            WebhookAttempt(delivery_id=first.id, status_code=200, duration_ms=31),
            WebhookAttempt(delivery_id=second.id, status_code=None, duration_ms=10004,
                           error="ReadTimeout: read timed out"),
            WebhookAttempt(delivery_id=second.id, status_code=503, duration_ms=87)])
        db.session.commit()
        return first.id, second.id, third.id
    first, second, third = in_app(make)

    page = client.get(f"{base(owner)}/endpoints/{endpoint[0]}")
    assert page.status_code == 200
    text = page.text
    assert text.index(f"deliveries/{third}") < text.index(f"deliveries/{second}")
    assert f"deliveries/{first}" not in text
    assert "ReadTimeout: read timed out" in text and "HTTP 503" in text
    assert "10004 ms" in text and "Not attempted yet" in text
    older = re.search(r'href="([^"]+before=\d+)"', text).group(1)
    assert older.endswith(f"before={second}")
    last = client.get(html.unescape(older)).text
    assert f"deliveries/{first}" in last and "HTTP 200" in last and "31 ms" in last
    assert f"deliveries/{second}" not in last and "before=" not in last
    assert client.get(f"{base(owner)}/endpoints/{endpoint[0]}?before=x").status_code == 404


def failed_delivery(in_app, team) -> int:
    def make():
        record_event(northwind(team), "order.completed", {"order": {"id": "ord_1"}})
        db.session.flush()
        delivery = db.session.scalars(db.select(WebhookDelivery)).one()
        delivery.status, delivery.attempts, delivery.next_attempt_at = "failed", 10, None
        db.session.add(WebhookAttempt(delivery_id=delivery.id, status_code=500,
                                      duration_ms=12))
        db.session.commit()
        return delivery.id
    return in_app(make)


def test_a_delivery_page_shows_its_attempts_and_the_payload_sent(client, owner, endpoint,
                                                                in_app):
    delivery_id = failed_delivery(in_app, owner)
    page = client.get(f"{base(owner)}/deliveries/{delivery_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "order.completed" in text and "HTTP 500" in text and "12 ms" in text
    payload = json.loads(re.search(r'class="payload"[^>]*><code>(.*?)</code>', text,
                                   re.S).group(1))
    assert payload["type"] == "order.completed"
    assert payload["data"] == {"order": {"id": "ord_1"}}
    event_id = in_app(lambda: db.session.scalars(db.select(WebhookEvent)).one().public_id)
    assert event_id in text


def test_another_sellers_endpoint_and_delivery_are_not_found(client, team, as_person, in_app,
                                                             receiver):
    def make():
        other = db.session.scalar(db.select(Seller).filter_by(public_id=team.other))
        endpoint, _ = add_webhook_endpoint(other, receiver.url + "/other-secret-path")
        db.session.flush()
        record_event(other, "order.completed", {"order": {"id": "ord_theirs"}})
        db.session.commit()
        return endpoint.public_id, db.session.scalars(db.select(WebhookDelivery)).one().id
    endpoint_id, delivery_id = in_app(make)
    as_person(team.emails["owner"])
    for response in (
            client.get(f"{base(team)}/endpoints/{endpoint_id}"),
            client.get(f"{base(team)}/endpoints/{endpoint_id}/disable"),
            form_post(client, f"{base(team)}/endpoints/{endpoint_id}/disable"),
            form_post(client, f"{base(team)}/endpoints/{endpoint_id}/test"),
            client.get(f"{base(team)}/endpoints/{endpoint_id}/rotate-secret"),
            client.get(f"{base(team)}/deliveries/{delivery_id}"),
            form_post(client, f"{base(team)}/deliveries/{delivery_id}/replay")):
        assert response.status_code == 404
        assert "other-secret-path" not in response.text and "ord_theirs" not in response.text
    assert endpoint_row(in_app, endpoint_id)[0] is True
    assert deliveries(in_app)[0][1] == "pending"
    assert audited(in_app, "webhook.test_sent") == []


def test_a_replayed_delivery_is_sent_again_with_the_same_webhook_id(
        client, owner, endpoint, receiver, in_app, run_queue):
    delivery_id = failed_delivery(in_app, owner)
    response = form_post(client, f"{base(owner)}/deliveries/{delivery_id}/replay")
    assert response.status_code == 303
    assert "sent again" in client.get(response.location).text
    assert deliveries(in_app) == [(delivery_id, "pending", 0)]
    run_queue()
    assert deliveries(in_app) == [(delivery_id, "delivered", 1)]
    [(headers, body)] = receiver.requests
    event_id = in_app(lambda: db.session.scalars(db.select(WebhookEvent)).one().public_id)
    assert headers["webhook-id"] == event_id
    assert Webhook(endpoint[1]).verify(body, headers)["type"] == "order.completed"
    page = client.get(f"{base(owner)}/deliveries/{delivery_id}").text
    assert "HTTP 500" in page and "HTTP 200" in page  # the earlier attempts stay
    [entry] = audited(in_app, "webhook_delivery.replayed")
    assert entry.before == {"status": "failed"} and entry.detail["event"] == event_id


def test_a_delivery_on_its_way_is_not_replayed(client, owner, endpoint, in_app):
    def make():
        record_event(northwind(owner), "order.completed", {"order": {"id": "ord_1"}})
        db.session.commit()
        delivery = db.session.scalars(db.select(WebhookDelivery)).one()
        delivery.attempts, delivery.next_attempt_at = 2, utcnow() + timedelta(minutes=30)
        db.session.commit()
        return delivery.id
    delivery_id = in_app(make)
    response = form_post(client, f"{base(owner)}/deliveries/{delivery_id}/replay")
    assert "still on its way" in client.get(response.location).text
    assert deliveries(in_app) == [(delivery_id, "pending", 2)]
    assert audited(in_app, "webhook_delivery.replayed") == []


def test_replaying_to_a_disabled_endpoint_is_refused_clearly(client, owner, endpoint,
                                                             in_app, receiver, run_queue):
    delivery_id = failed_delivery(in_app, owner)
    assert form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/disable").status_code == 303
    page = client.get(f"{base(owner)}/deliveries/{delivery_id}").text
    assert "enable it to replay" in page
    response = form_post(client, f"{base(owner)}/deliveries/{delivery_id}/replay")
    assert response.status_code == 303
    assert "This endpoint is disabled: enable it first" in client.get(response.location).text
    assert deliveries(in_app) == [(delivery_id, "failed", 10)]
    run_queue()
    assert receiver.requests == []


def test_a_test_event_goes_to_that_endpoint_only(client, owner, endpoint, receiver, in_app,
                                                 run_queue, app):
    in_app(lambda: (add_webhook_endpoint(northwind(owner), receiver.url + "/second"),
                    db.session.commit()))
    response = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/test")
    assert response.status_code == 303
    assert "test event" in client.get(response.location).text
    run_queue()
    [(headers, body)] = receiver.requests
    payload = Webhook(endpoint[1]).verify(body, headers)
    assert payload["type"] == "webhook.test" and payload["data"] == {"endpoint": endpoint[0]}
    assert "webhook.test" in client.get(f"{base(owner)}/endpoints/{endpoint[0]}").text
    assert len(audited(in_app, "webhook.test_sent")) == 1


def test_a_disabled_endpoint_gets_no_test_event(client, owner, endpoint, in_app):
    form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/disable")
    response = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/test")
    assert "This endpoint is disabled" in client.get(response.location).text
    assert in_app(lambda: db.session.scalars(db.select(WebhookEvent)).all()) == []


def test_disabling_asks_first_cancels_what_waits_and_enabling_sends_again(
        client, owner, endpoint, in_app):
    in_app(lambda: (record_event(northwind(owner), "order.completed", {"order": {"id": "o"}}),
                    db.session.commit()))
    confirm = client.get(f"{base(owner)}/endpoints/{endpoint[0]}/disable")
    assert confirm.status_code == 200 and "1 delivery waiting to be sent is canceled" in confirm.text
    assert endpoint_row(in_app, endpoint[0])[0] is True
    response = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/disable")
    assert response.status_code == 303
    assert endpoint_row(in_app, endpoint[0])[:2] == (False, None)
    assert [status for _, status, _ in deliveries(in_app)] == ["canceled"]
    again = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/disable")
    assert "disabled already" in client.get(again.location).text
    assert len(audited(in_app, "webhook_endpoint.disabled")) == 1

    enabled = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/enable")
    assert "replay those you need" in client.get(enabled.location).text
    assert endpoint_row(in_app, endpoint[0])[0] is True
    assert len(audited(in_app, "webhook_endpoint.enabled")) == 1


def test_a_rotated_endpoint_secret_signs_what_follows_and_is_shown_once(
        client, owner, endpoint, receiver, in_app, run_queue):
    confirm = client.get(f"{base(owner)}/endpoints/{endpoint[0]}/rotate-secret")
    assert confirm.status_code == 200
    assert "For 24 hours the current one signs them too" in confirm.text
    shown = re.search(r'name="shown"[^>]*value="([^"]+)"', confirm.text).group(1)
    assert shown == secret_fingerprint(endpoint[1])
    response = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/rotate-secret",
                         {"shown": shown})
    assert response.status_code == 200
    secret = shown_secret(response.text)
    assert secret != endpoint[1] and endpoint_row(in_app, endpoint[0])[2] == secret
    stale = form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/rotate-secret",
                      {"shown": shown})
    assert stale.status_code == 409 and "Reload the page" in stale.text
    assert endpoint_row(in_app, endpoint[0])[2] == secret

    # For a day both secrets sign, so a receiver still holding the old one keeps verifying.
    form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/test")
    run_queue()
    [(headers, body)] = receiver.requests
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    assert Webhook(endpoint[1]).verify(body, headers)["type"] == "webhook.test"
    [entry] = audited(in_app, "webhook_endpoint.secret_rotated")
    assert secret not in repr((entry.detail, entry.after))

    def end_the_grace():
        row = db.session.scalar(db.select(WebhookEndpoint).filter_by(public_id=endpoint[0]))
        row.previous_secret_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    in_app(end_the_grace)
    form_post(client, f"{base(owner)}/endpoints/{endpoint[0]}/test")
    run_queue()
    headers, body = receiver.requests[-1]
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint[1]).verify(body, headers)


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_support_and_viewers_may_not_touch_endpoints(client, team, as_person, in_app,
                                                     endpoint, role):
    delivery_id = failed_delivery(in_app, team)
    as_person(team.emails[role])
    for response in (
            client.get(f"{base(team)}/endpoints/{endpoint[0]}"),
            form_post(client, f"{base(team)}/endpoints", {"url": "https://x.example/h"}),
            form_post(client, f"{base(team)}/endpoints/{endpoint[0]}/disable"),
            form_post(client, f"{base(team)}/endpoints/{endpoint[0]}/rotate-secret",
                      {"shown": secret_fingerprint(endpoint[1])}),
            form_post(client, f"{base(team)}/endpoints/{endpoint[0]}/test"),
            form_post(client, f"{base(team)}/deliveries/{delivery_id}/replay")):
        assert response.status_code == 403
    assert endpoint_row(in_app, endpoint[0]) == (True, None, endpoint[1])
    assert deliveries(in_app) == [(delivery_id, "failed", 10)]
    assert in_app(lambda: db.session.scalar(db.select(db.func.count(AuditEntry.id)))) == 0
