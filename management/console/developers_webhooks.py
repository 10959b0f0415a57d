"""The Developers section's webhook endpoints: add one (its URL checked as the CLI
checks it; its secret shown once), disable and enable it, rotate its secret (shown
once), its delivery log a page at a time (each delivery with its attempts), one
delivery's attempts and the payload sent, replaying a delivery and sending a test event.
The rules are in ``buyflow/sellers/accounts.py`` and ``buyflow/sellers/webhooks.py``."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import URLField
from wtforms.validators import DataRequired, Length

from buyflow.extensions import db
from buyflow.i18n import zoned_datetime
from buyflow.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from buyflow.sellers import accounts
from buyflow.sellers.accounts import DeveloperRefused, secret_fingerprint
from buyflow.sellers.urls import UrlRefused
from buyflow.sellers.webhooks import DeliveryRefused, event_body, replay_delivery, send_test_event

from . import bp
from .access import current_seller, seller_object
from .developers import ConfirmForm, SecretForm, audit, developers_page, overview, refusal, shown_once

PAGE_SIZE = 25

REFUSALS = {
    "url_invalid": _l("Enter an http:// or https:// URL, such as https://shop.example/buyflow/webhooks."),
    "url_credentials": _l("The URL must not contain a user name or password."),
    "endpoint_disabled": _l("This endpoint is disabled: enable it first. Nothing is sent to a "
                            "disabled endpoint."),
}

DELIVERY_STATUSES = {
    "pending": _l("On its way"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "canceled": _l("Canceled"),
}


class EndpointForm(FlaskForm):
    url = URLField(_l("Endpoint URL"), validators=[
        DataRequired(message=REFUSALS["url_invalid"]),
        Length(max=2000, message=REFUSALS["url_invalid"])])


def url_refusal(url: str) -> str:
    """Why ``url`` cannot receive webhooks, in the person's language (the checks of
    ``check_webhook_url``, in its order)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return str(REFUSALS["url_invalid"])
    if parts.username or parts.password:
        return str(REFUSALS["url_credentials"])
    return _("%(host)s does not resolve to a public address: webhooks are only sent to "
             "servers reachable on the internet.", host=parts.hostname)


def delivery_status(status: str) -> str:
    return str(DELIVERY_STATUSES.get(status, status))


@bp.post("/<seller_id>/developers/endpoints")
@developers_page
def developers_endpoint_add():
    """Register a webhook endpoint; its secret is shown in this answer once."""
    form = EndpointForm()
    if not form.validate_on_submit():
        return overview(400, endpoint_form=form)
    try:
        endpoint, secret = accounts.add_unique_webhook_endpoint(current_seller(), form.url.data)
    except UrlRefused:
        db.session.rollback()
        form.url.errors.append(url_refusal(form.url.data))
        return overview(400, endpoint_form=form)
    except DeveloperRefused as exc:
        db.session.rollback()
        form.url.errors.append(_("This URL is registered already (%(id)s). If you did not "
                                 "keep its secret, rotate it on the endpoint's page.",
                                 id=exc.message))
        return overview(409, endpoint_form=form)
    audit("webhook_endpoint.added", endpoint.public_id, after={"url": endpoint.url})
    db.session.commit()
    return shown_once(
        _("Webhook endpoint added"),
        _("Events are signed with this secret from now on. Put it in your receiver to verify "
          "each delivery (Standard Webhooks). Copy it now: it is not shown again."),
        secret, _("Endpoint secret"),
        back=url_for("console.developers_endpoint", endpoint_id=endpoint.public_id),
        endpoint=endpoint.url)


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    return seller_object(WebhookEndpoint, endpoint_id)


@bp.get("/<seller_id>/developers/endpoints/<endpoint_id>")
@developers_page
def developers_endpoint(endpoint_id: str):
    """The endpoint, what may be done to it, and its deliveries, newest first, each with
    its attempts, a page at a time (keyset: ``before`` a delivery)."""
    endpoint = _endpoint(endpoint_id)
    query = (db.select(WebhookDelivery, WebhookEvent)
             .join(WebhookEvent, WebhookDelivery.event_id == WebhookEvent.id)
             .where(WebhookDelivery.endpoint_id == endpoint.id))
    if before := request.args.get("before"):
        if not before.isdigit():
            abort(404)
        query = query.where(WebhookDelivery.id < int(before))
    rows = db.session.execute(query.order_by(WebhookDelivery.id.desc())
                              .limit(PAGE_SIZE + 1)).all()
    page = rows[:PAGE_SIZE]
    attempts: dict[int, list[WebhookAttempt]] = {delivery.id: [] for delivery, _ in page}
    if attempts:
        for attempt in db.session.scalars(
                db.select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(attempts))
                .order_by(WebhookAttempt.id)):
            attempts[attempt.delivery_id].append(attempt)
    return render_template(
        "console/developers_endpoint.html", endpoint=endpoint, deliveries=page,
        attempts=attempts, delivery_status=delivery_status,
        next_before=page[-1][0].id if len(rows) > PAGE_SIZE else None,
        first_page=not before, form=ConfirmForm(formdata=None))


@bp.route("/<seller_id>/developers/endpoints/<endpoint_id>/disable", methods=["GET", "POST"])
@developers_page
def developers_endpoint_disable(endpoint_id: str):
    """Stop sending to the endpoint, after a confirmation: what waits for it is canceled."""
    endpoint = _endpoint(endpoint_id)
    form = ConfirmForm()
    if request.method == "GET":
        waiting = db.session.scalar(db.select(db.func.count(WebhookDelivery.id)).where(
            WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending"))
        return render_template("console/developers_disable_endpoint.html", endpoint=endpoint,
                               form=form, waiting=waiting)
    if accounts.disable_webhook_endpoint(endpoint):
        audit("webhook_endpoint.disabled", endpoint.public_id, before={"enabled": True},
              after={"enabled": False}, url=endpoint.url)
        db.session.commit()
        flash(_("The endpoint is disabled: nothing is sent to it until you enable it again."))
    else:
        flash(_("This endpoint is disabled already."), "error")
    return redirect(url_for("console.developers_endpoint", endpoint_id=endpoint_id), 303)


@bp.post("/<seller_id>/developers/endpoints/<endpoint_id>/enable")
@developers_page
def developers_endpoint_enable(endpoint_id: str):
    """Send new events to the endpoint again."""
    endpoint = _endpoint(endpoint_id)
    reason = endpoint.disabled_reason
    if accounts.enable_webhook_endpoint(endpoint):
        audit("webhook_endpoint.enabled", endpoint.public_id,
              before={"enabled": False, "disabled_reason": reason}, after={"enabled": True},
              url=endpoint.url)
        db.session.commit()
        flash(_("The endpoint is enabled: new events are sent to it. Deliveries canceled "
                "while it was disabled are not: replay those you need."))
    else:
        flash(_("This endpoint is enabled already."), "error")
    return redirect(url_for("console.developers_endpoint", endpoint_id=endpoint_id), 303)


@bp.route("/<seller_id>/developers/endpoints/<endpoint_id>/rotate-secret",
          methods=["GET", "POST"])
@developers_page
def developers_endpoint_rotate(endpoint_id: str):
    """A new secret for the endpoint, after a confirmation; shown in this answer once."""
    endpoint = _endpoint(endpoint_id)
    form = SecretForm()
    if request.method == "GET":
        form.shown.data = secret_fingerprint(endpoint.secret)
        return render_template("console/developers_rotate_endpoint.html", endpoint=endpoint,
                               form=form, grace_hours=_grace_hours())
    if not form.validate_on_submit():
        return _rotate_refused(endpoint, form)
    try:
        secret = accounts.rotate_webhook_secret(endpoint, form.shown.data)
    except DeveloperRefused:
        db.session.rollback()
        return _rotate_refused(endpoint, form)
    audit("webhook_endpoint.secret_rotated", endpoint.public_id, url=endpoint.url,
          after={"hint": secret[-4:]})
    db.session.commit()
    return shown_once(
        _("New endpoint secret"),
        ngettext("Every delivery is signed with this secret from now on, and with the old "
                 "one too for %(num)d hour: put this one in your receiver before then. Copy "
                 "it: it is not shown again.",
                 "Every delivery is signed with this secret from now on, and with the old "
                 "one too for %(num)d hours: put this one in your receiver before then. Copy "
                 "it: it is not shown again.", _grace_hours()),
        secret, _("Endpoint secret"),
        back=url_for("console.developers_endpoint", endpoint_id=endpoint.public_id),
        endpoint=endpoint.url)


def _grace_hours() -> int:
    """How long a rotated secret still signs (``WEBHOOK_SECRET_GRACE_HOURS``)."""
    return int(current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])


def _rotate_refused(endpoint: WebhookEndpoint, form: SecretForm):
    form.shown.data = secret_fingerprint(endpoint.secret)
    return render_template("console/developers_rotate_endpoint.html", endpoint=endpoint,
                           form=form, error=refusal("secret_changed"),
                           grace_hours=_grace_hours()), 409


@bp.post("/<seller_id>/developers/endpoints/<endpoint_id>/test")
@developers_page
def developers_endpoint_test(endpoint_id: str):
    """A ``webhook.test`` event to this endpoint alone."""
    endpoint = _endpoint(endpoint_id)
    try:
        event = send_test_event(endpoint)
    except DeliveryRefused:
        db.session.rollback()
        flash(str(REFUSALS["endpoint_disabled"]), "error")
        return redirect(url_for("console.developers_endpoint", endpoint_id=endpoint_id), 303)
    audit("webhook.test_sent", endpoint.public_id, event=event.public_id, url=endpoint.url)
    db.session.commit()
    flash(_("A test event (%(id)s) is on its way: its delivery shows below within seconds.",
            id=event.public_id))
    return redirect(url_for("console.developers_endpoint", endpoint_id=endpoint_id), 303)


def _delivery(delivery_id: int) -> WebhookDelivery:
    """The delivery if its endpoint is the current seller's, else 404."""
    delivery = db.session.scalar(
        db.select(WebhookDelivery).join(WebhookEndpoint,
                                        WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .where(WebhookDelivery.id == delivery_id,
               WebhookEndpoint.seller_id == current_seller().id))
    if delivery is None:
        abort(404)
    return delivery


@bp.get("/<seller_id>/developers/deliveries/<int:delivery_id>")
@developers_page
def developers_delivery(delivery_id: int):
    """One delivery: its event, every attempt and the payload it sends."""
    delivery = _delivery(delivery_id)
    payload = json.dumps(json.loads(event_body(delivery.event)), indent=2, ensure_ascii=False,
                         sort_keys=True)
    return render_template("console/developers_delivery.html", delivery=delivery,
                           payload=payload, delivery_status=delivery_status,
                           form=ConfirmForm(formdata=None))


@bp.post("/<seller_id>/developers/deliveries/<int:delivery_id>/replay")
@developers_page
def developers_delivery_replay(delivery_id: int):
    """Send the delivery's event to its endpoint again (same ``webhook-id``)."""
    delivery = _delivery(delivery_id)
    status = delivery.status
    try:
        replay_delivery(delivery)
    except DeliveryRefused as exc:
        db.session.rollback()
        if exc.code == "delivery_pending":
            message = _("This delivery is still on its way (it is sent again at %(when)s if it "
                        "fails): there is nothing to replay yet.",
                        when=_when(delivery.next_attempt_at))
        else:
            message = str(REFUSALS["endpoint_disabled"])
        flash(message, "error")
        return redirect(url_for("console.developers_delivery", delivery_id=delivery_id), 303)
    audit("webhook_delivery.replayed", str(delivery.id), before={"status": status},
          after={"status": "pending"}, event=delivery.event.public_id,
          endpoint=delivery.endpoint.public_id)
    db.session.commit()
    flash(_("The event is sent again now, with the same webhook-id: its attempt shows below "
            "within seconds."))
    return redirect(url_for("console.developers_delivery", delivery_id=delivery_id), 303)


def _when(moment) -> str:
    return zoned_datetime(moment, str(get_locale())) if moment else "—"
