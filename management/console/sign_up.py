"""Signing a business up as a seller, for any signed-in person (who becomes its owner),
and the page that shows the new seller's secrets, once. The rules are in
``buyflow/people/signup.py``."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from buyflow.extensions import db, limiter
from buyflow.i18n import language_choices
from buyflow.models.encrypted import decrypt, encrypt
from buyflow.models.sellers import SellerStatus
from buyflow.people.bans import refusal_message as ban_message
from buyflow.people.roles import Permission
from buyflow.people.signup import NAME_MAX_LENGTH, SignUpRefused
from buyflow.people.signup import sign_up as sign_up_seller

from ..auth.sessions import buyer_required, current_buyer
from . import bp
from .access import console_actor, current_seller, member_page

REFUSALS = {
    "name_required": _l("Please enter your business's name."),
    "name_too_long": _l("The name is at most %(max)s characters.", max=NAME_MAX_LENGTH),
    "invalid_origin": _l("Enter your site's origin only: https://shop.example, or with its "
                         "port, https://shop.example:8443; no path."),
    "invalid_locale": _l("Choose one of the languages."),
    "not_a_person": _l("A deactivated account cannot sign up a business."),
    "banned": _l("This account may not sign up a business on this service."),
}

# The new seller's secrets wait here, encrypted (SECRETS_KEYS), for the one page that
# shows them: the session cookie never carries them readable.
SECRETS_KEY = "new_seller_secrets"


class SignUpForm(FlaskForm):
    name = StringField(_l("Business name"),
                       validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)])
    origin = StringField(_l("Your site's address"), validators=[DataRequired(), Length(max=300)])
    default_locale = SelectField(_l("Default language for your buyers"),
                                 validators=[DataRequired()])


def _signing_up_person() -> str:
    """The rate limit's key: the signed-in person."""
    person = current_buyer()
    return f"person:{person.id}" if person else request.remote_addr or ""


def _refusal_message(exc: SignUpRefused) -> str:
    if exc.code == "banned" and exc.ban_code:
        return ban_message(exc.ban_code)
    return str(REFUSALS[exc.code])


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SELLER_SIGNUP_LIMIT_PER_PERSON"], methods=["POST"],
               key_func=_signing_up_person,
               deduct_when=lambda response: response.status_code == 303)  # sign-ups made
@buyer_required
def sign_up():
    """Sign a business up: its name, its site, its buyers' default language."""
    form = SignUpForm()
    form.default_locale.choices = language_choices()
    if request.method == "GET":
        form.default_locale.data = str(get_locale() or "en")
    status = 200
    error = None
    if form.validate_on_submit():
        try:
            new = sign_up_seller(current_buyer(), name=form.name.data, origin=form.origin.data,
                                 default_locale=form.default_locale.data, actor=console_actor())
        except SignUpRefused as exc:
            db.session.rollback()
            field = {"name_required": form.name, "name_too_long": form.name,
                     "invalid_origin": form.origin,
                     "invalid_locale": form.default_locale}.get(exc.code)
            if field is not None:
                field.errors = [*field.errors, _refusal_message(exc)]
                status = 400
            else:
                error, status = _refusal_message(exc), 403
        else:
            db.session.commit()
            seller = new.seller
            session[SECRETS_KEY] = encrypt(json.dumps({
                "seller": seller.public_id, "api_key": new.api_key,
                "signing_secret": new.signing_secret}))
            flash(_("%(seller)s is signed up. You are its owner.", seller=seller.name))
            return redirect(url_for("console.sign_up_done", seller_id=seller.public_id), 303)
    elif request.method == "POST":
        status = 400
    needs_approval = current_app.config["SELLER_SIGNUP_NEEDS_APPROVAL"]
    return render_template("console/sign_up.html", form=form, error=error,
                           needs_approval=needs_approval), status


@bp.get("/<seller_id>/welcome")
@member_page(Permission.DEVELOPERS)
def sign_up_done():
    """The new seller's API key and signing secret, shown this once; then what is next."""
    secrets = None
    if (kept := session.get(SECRETS_KEY)) is not None:
        try:
            secrets = json.loads(decrypt(kept))
        except Exception:  # noqa: BLE001 - a key rotated away, a cookie tampered with
            secrets = None
        if secrets is not None and secrets.get("seller") == current_seller().public_id:
            session.pop(SECRETS_KEY)
        else:
            secrets = None
    return render_template("console/sign_up_done.html", secrets=secrets,
                           pending=current_seller().status == SellerStatus.PENDING)
