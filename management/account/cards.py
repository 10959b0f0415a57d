"""A buyer's saved cards: list, add (the card goes from the page straight to the
provider through a card-setup session), make default, remove."""

from __future__ import annotations

import uuid

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from buyflow.buyers.cards import find_card, make_default, remove_card, save_card
from buyflow.extensions import db
from buyflow.flow.messages import BUYER_MESSAGES, buyer_message
from buyflow.models._base import utcnow
from buyflow.payments import get_provider
from buyflow.payments.base import PaymentError
from buyflow.security import content_security_policy

from ..auth.sessions import buyer_required, current_buyer
from . import bp
from .forms import ConfirmForm

PROVIDER_UNAVAILABLE = _l(
    "The payment service cannot be reached right now. Nothing was changed; please try again "
    "in a moment."
)


def card_error(exc: PaymentError) -> str:
    """What the buyer is told when the provider refused or could not be reached."""
    if exc.code == "provider_unavailable":
        return str(PROVIDER_UNAVAILABLE)
    return buyer_message(exc.code)


class AddCardForm(FlaskForm):
    # Filled in by cards.js with the card-setup session the browser completed.
    setup = HiddenField(validators=[DataRequired(), Length(max=100)])


def _card_or_404(card_id: str):
    card = find_card(current_buyer(), card_id)
    if card is None:
        abort(404)
    return card


def default_first(cards) -> list:
    """``cards``, the default first, then the newest first."""
    return sorted(cards, key=lambda card: (not card.is_default, -card.id))


@bp.get("/cards")
@buyer_required
def cards():
    """The buyer's saved cards, the default first."""
    return render_template("account/cards.html", cards=default_first(current_buyer().cards),
                           form=ConfirmForm(), today=utcnow().date())


@bp.route("/cards/new", methods=["GET", "POST"])
@buyer_required
def add_card():
    """A card-entry form backed by a card-setup session at the provider; the page posts
    back the completed session, and the card is kept."""
    buyer = current_buyer()
    provider = get_provider()
    form = AddCardForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            saved = provider.finish_card_setup(form.setup.data, buyer.provider_customer_ref or "")
            save_card(buyer, saved)
        except PaymentError as exc:
            db.session.rollback()  # nothing of the card is kept
            error, status = card_error(exc), 400
        else:
            db.session.commit()
            flash(_("Card added."))
            return redirect(url_for("account.cards"))
    elif request.method == "POST":
        error, status = buyer_message("setup_incomplete"), 400
    try:
        if not buyer.provider_customer_ref:
            buyer.provider_customer_ref = provider.ensure_customer(buyer.email, None)
            db.session.commit()
        setup = provider.start_card_setup(
            buyer.provider_customer_ref, idempotency_key=f"buyflow-card-{uuid.uuid4().hex}",
            metadata={"buyflow_purpose": "saved_card"})
    except PaymentError as exc:
        return render_template("account/add_card.html", form=form, setup=None,
                               error=card_error(exc)), 503
    config = provider.browser_config()
    response = make_response(render_template(
        "account/add_card.html", form=form, error=error, js_url=config["js_url"], page_data={
            "provider": config["provider"],
            "publishable_key": config["publishable_key"], "client_secret": setup.client_secret,
            "email": buyer.email,
            "messages": {code: str(message) for code, message in BUYER_MESSAGES.items()},
        }), status)
    # This page loads the provider's script and card frame; every other one loads nothing.
    response.headers["Content-Security-Policy"] = content_security_policy(
        script_src=config["script_src"], connect_src=config["connect_src"],
        frame_src=config["frame_src"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cards/<card_id>/default")
@buyer_required
def make_card_default(card_id: str):
    card = _card_or_404(card_id)
    if ConfirmForm().validate_on_submit():
        try:
            make_default(current_buyer(), card)
        except PaymentError as exc:
            flash(card_error(exc), "error")
        else:
            db.session.commit()
            flash(_("%(brand)s ending in %(last4)s is now your default card.",
                    brand=card.brand.title(), last4=card.last4))
    return redirect(url_for("account.cards"))


@bp.route("/cards/<card_id>/remove", methods=["GET", "POST"])
@buyer_required
def remove_saved_card(card_id: str):
    """Ask, then detach the card at the provider and forget it."""
    card = _card_or_404(card_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        label = _("%(brand)s ending in %(last4)s", brand=card.brand.title(), last4=card.last4)
        try:
            remove_card(current_buyer(), card)
        except PaymentError as exc:
            flash(card_error(exc), "error")
        else:
            db.session.commit()
            flash(_("%(card)s was removed.", card=label))
        return redirect(url_for("account.cards"))
    return render_template("account/remove_card.html", card=card, form=form)
