"""The console's Developers section: API keys (named, shown once, their last use,
revoked after a confirmation), signing secrets (rotated, shown once; the older ones
retired), the origins that may open the buy flow, and the embed snippet with its SRI hash
and a preview. Webhook endpoints and their delivery log are in ``developers_webhooks``.

A secret is shown once, in the answer to the POST that made it (never after a redirect,
never in the session or a flash cookie; every console page is ``no-store``). Every
change writes its audit entry in the change's own transaction. The rules are in
``buyflow/sellers/accounts.py``."""

from __future__ import annotations

import functools
import html
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from buyflow import embed
from buyflow.audit import record_action
from buyflow.extensions import db
from buyflow.i18n import language_choices
from buyflow.models import Product, SellerApiKey, WebhookEndpoint
from buyflow.people.roles import Permission
from buyflow.sellers import accounts
from buyflow.sellers.accounts import DeveloperRefused, secret_fingerprint
from buyflow.sellers.urls import UrlRefused, normalize_origin

from . import bp, submissions
from .access import console_actor, current_seller, member_page

REFUSALS = {
    "name_required": _l("Give the key a name, such as “Production server”."),
    "name_too_long": _l("A key's name is at most 100 characters."),
    "secret_changed": _l("The secrets changed since this page was loaded (someone else may "
                         "have rotated them). Reload the page and try again."),
    "nothing_to_retire": _l("There is only one signing secret: there is nothing to retire."),
    "origin_invalid": _l("Enter an origin such as https://shop.example: the scheme, the "
                         "host and the port if any, with no path."),
    "origin_exists": _l("This origin is registered already."),
    "last_origin": _l("A seller needs at least one origin: add the new one before removing "
                      "this one."),
    "key_made_already": _l("This form made its key already, at your first click, and the "
                           "key was shown only then. If you did not copy it, revoke it below "
                           "and create another."),
}

MODES = ("overlay", "window", "inline")
MODE_LABELS = {"overlay": _l("Overlay over your page"), "window": _l("A new window"),
               "inline": _l("Inside your page")}


class ApiKeyForm(submissions.KeyedForm):
    """A key's name; once-only (``submissions.py``): a double click makes one key."""

    name = StringField(_l("Key name"), validators=[
        DataRequired(message=REFUSALS["name_required"]),
        Length(max=accounts.API_KEY_NAME_MAX, message=REFUSALS["name_too_long"])])


class ConfirmForm(FlaskForm):
    """A confirmation: nothing but its CSRF token."""


class SecretForm(FlaskForm):
    """A change of secrets, for the ones the page showed (their fingerprint)."""

    shown = HiddenField(validators=[DataRequired(message=REFUSALS["secret_changed"])])


class OriginForm(FlaskForm):
    origin = StringField(_l("Origin"), validators=[
        DataRequired(message=REFUSALS["origin_invalid"]),
        Length(max=300, message=REFUSALS["origin_invalid"])])


class RemoveOriginForm(FlaskForm):
    origin = HiddenField(validators=[DataRequired(message=REFUSALS["origin_invalid"])])


def developers_page(view):
    """A Developers route: owners and admins only."""
    return member_page(Permission.DEVELOPERS)(view)


def audit(action: str, target: str, **detail) -> None:
    """The entry of a change made here, by the signed-in member, at the current seller."""
    record_action(action, target, actor=console_actor(), seller=current_seller(), **detail)


def refusal(code: str) -> str:
    return str(REFUSALS[code])


# ---- The page -----------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _integrity_of(path: str, _modified: int) -> str:
    return embed.integrity(Path(path))


def embed_script() -> dict:
    """The pinned library's URL, its SRI hash and the script tag sellers paste."""
    version = embed.library_version(current_app)
    path = embed.library_path(current_app)
    url = url_for("embed.library_exact", version=version, _external=True)
    integrity = _integrity_of(str(path), path.stat().st_mtime_ns)
    tag = (f'<script src="{html.escape(url)}" integrity="{integrity}" '
           f'crossorigin="anonymous" defer></script>')
    return {"version": version, "url": url, "integrity": integrity, "tag": tag}


def button_snippet(seller_id: str, product_id: str, mode: str, label: str) -> str:
    """The declarative button for ``product_id`` in ``mode`` (inline: with its container)."""
    attributes = [f'data-buyflow-seller="{html.escape(seller_id)}"',
                  f'data-buyflow-product="{html.escape(product_id)}"']
    if mode == "window":
        attributes.append('data-buyflow-mode="window"')
    elif mode == "inline":
        attributes.append('data-buyflow-container="#buyflow-checkout"')
    snippet = f'<button type="button" {" ".join(attributes)}>{html.escape(label)}</button>'
    if mode == "inline":
        snippet += '\n<div id="buyflow-checkout"></div>'
    return snippet


def _snippet_choices(seller) -> dict:
    """What the snippet and preview show, from the query (product, mode, label)."""
    products = db.session.scalars(db.select(Product).filter_by(seller_id=seller.id, active=True)
                                  .order_by(Product.id.desc()).limit(100)).all()
    chosen = next((p for p in products if p.public_id == request.args.get("product")),
                  products[0] if products else None)
    mode = request.args.get("mode") if request.args.get("mode") in MODES else "overlay"
    label = " ".join(request.args.get("label", "").split())[:80] or _("Buy now")
    product_id = chosen.public_id if chosen else "prod_..."
    preview_url = None
    if chosen is not None and seller.origins:
        # The real flow, opened in a tab as a buyer on the seller's first origin sees it.
        preview_url = url_for("flow.open_flow", seller=seller.public_id,
                              product=chosen.public_id, origin=seller.origins[0])
    return {"products": products, "product": chosen, "mode": mode, "label": label,
            "button": button_snippet(seller.public_id, product_id, mode, label),
            "preview_url": preview_url}


def overview(status: int = 200, *, key_form=None, origin_form=None, endpoint_form=None,
             error: str | None = None):
    """The section's page, with the forms as given (their errors) or empty."""
    from .developers_webhooks import EndpointForm  # noqa: PLC0415 - the sibling module

    seller = current_seller()
    keys = db.session.scalars(db.select(SellerApiKey).filter_by(seller_id=seller.id)
                              .order_by(SellerApiKey.revoked_at.is_not(None),
                                        SellerApiKey.id.desc())).all()
    endpoints = db.session.scalars(db.select(WebhookEndpoint).filter_by(seller_id=seller.id)
                                   .order_by(WebhookEndpoint.id)).all()
    secrets = seller.signing_secrets
    return render_template(
        "console/developers.html", seller=seller, keys=keys,
        active_keys=sum(1 for key in keys if key.revoked_at is None),
        secrets=[secret[-4:] for secret in secrets],
        newest_secret=secret_fingerprint(secrets[-1]) if secrets else "",
        endpoints=endpoints, embed=embed_script(), snippet=_snippet_choices(seller),
        modes=[(mode, MODE_LABELS[mode]) for mode in MODES], languages=language_choices(),
        key_form=key_form or new_key_form(),
        origin_form=origin_form or OriginForm(formdata=None),
        endpoint_form=endpoint_form or EndpointForm(formdata=None), error=error,
    ), status


@bp.get("/<seller_id>/developers")
@developers_page
def developers():
    """API keys, signing secrets, origins, webhook endpoints and the embed snippet."""
    return overview()


def shown_once(title: str, lede: str, secret: str, label: str, *, back: str | None = None,
               status: int = 200, **facts):
    """The page that shows a new secret, the one time it is shown."""
    return render_template("console/developers_secret.html", title=title, lede=lede,
                           secret=secret, label=label, facts=facts,
                           back=back or url_for("console.developers")), status


# ---- API keys -----------------------------------------------------------------------

@bp.post("/<seller_id>/developers/keys")
@developers_page
def developers_key_create():
    """A new named API key, shown in this answer once."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return overview(400, key_form=_with_new_key(form))
    seller = current_seller()
    try:
        submission = submissions.claim(seller, form.submission.data,
                                       submissions.fingerprint("api_key", form.name.data))
    except submissions.SubmissionRefused as exc:
        form.submission.errors = [str(submissions.refusal_message(exc.code))]
        return overview(409 if exc.code == "busy" else 400, key_form=_with_new_key(form))
    if submission.resource is not None:  # made by the first click, and shown only then
        form.submission.errors = [refusal("key_made_already")]
        return overview(409, key_form=_with_new_key(form))
    try:
        key, api_key = accounts.issue_named_api_key(seller, form.name.data)
    except DeveloperRefused as exc:
        db.session.rollback()
        submissions.forget(submission)
        form.name.errors.append(refusal(exc.code))
        return overview(400, key_form=_with_new_key(form))
    audit("api_key.created", str(key.id), after={"name": key.name, "hint": key.hint})
    submissions.remember(submission, str(key.id))
    db.session.commit()
    submissions.finish(submission, 200)
    return shown_once(
        _("Your new API key"),
        _("Copy it now and keep it on your server: it is shown this once, and Buyflow keeps "
          "only its digest. Your server sends it as “Authorization: Bearer” with every API "
          "call."),
        api_key, _("API key"), name=key.name)


def new_key_form() -> ApiKeyForm:
    """An empty key form with a fresh once-only key (a GET: nothing read from the request)."""
    return _with_new_key(ApiKeyForm(formdata=None))


def _with_new_key(form: ApiKeyForm) -> ApiKeyForm:
    """``form`` as shown again: a new key, since the one sent is used or refused."""
    form.submission.data = submissions.new_key()
    return form


def _own_key(key_id: int) -> SellerApiKey:
    key = db.session.scalar(db.select(SellerApiKey).filter_by(id=key_id,
                                                              seller_id=current_seller().id))
    if key is None:
        abort(404)
    return key


@bp.route("/<seller_id>/developers/keys/<int:key_id>/revoke", methods=["GET", "POST"])
@developers_page
def developers_key_revoke(key_id: int):
    """Revoke a key, after a confirmation; revoking the last active one is allowed (a
    leaked key must go at once), and the page says what it means."""
    key = _own_key(key_id)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        if accounts.revoke_api_key(key):
            audit("api_key.revoked", str(key.id), before={"name": key.name, "hint": key.hint})
            db.session.commit()
            flash(_("The key “%(name)s” is revoked: calls made with it are refused from now "
                    "on.", name=key.name or key.hint))
        else:
            flash(_("This key is revoked already."), "error")
        return redirect(url_for("console.developers"), 303)
    others = db.session.scalar(db.select(db.func.count(SellerApiKey.id)).where(
        SellerApiKey.seller_id == key.seller_id, SellerApiKey.revoked_at.is_(None),
        SellerApiKey.id != key.id))
    return render_template("console/developers_revoke_key.html", key=key, form=form,
                           last=others == 0), 200 if request.method == "GET" else 400


# ---- Signing secrets ----------------------------------------------------------------

@bp.post("/<seller_id>/developers/signing-secrets")
@developers_page
def developers_secret_rotate():
    """A new signing secret, which signs from now on (shown in this answer once); the
    older ones still verify until they are retired."""
    form = SecretForm()
    if not form.validate_on_submit():
        return overview(400, error=refusal("secret_changed"))
    try:
        secret = accounts.rotate_signing_secret_of(current_seller(), form.shown.data)
    except DeveloperRefused as exc:
        db.session.rollback()
        return overview(exc.http_status, error=refusal(exc.code))
    seller = current_seller()
    audit("signing_secret.rotated", seller.public_id,
          after={"secrets": len(seller.signing_secrets), "hint": secret[-4:]})
    db.session.commit()
    return shown_once(
        _("Your new signing secret"),
        _("It signs purchase results from now on, and your server may sign purchase "
          "requests with it. The older secrets still verify until you retire them: once "
          "every server of yours uses this one, retire them. Copy it now: it is not shown "
          "again."),
        secret, _("Signing secret"))


@bp.route("/<seller_id>/developers/signing-secrets/retire", methods=["GET", "POST"])
@developers_page
def developers_secrets_retire():
    """Keep only the newest signing secret, after a confirmation."""
    seller = current_seller()
    form = SecretForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return overview(400, error=refusal("secret_changed"))
        try:
            retired = accounts.retire_older_signing_secrets(seller, form.shown.data)
        except DeveloperRefused as exc:
            db.session.rollback()
            return overview(exc.http_status, error=refusal(exc.code))
        audit("signing_secret.retired", seller.public_id,
              before={"secrets": retired + 1}, after={"secrets": 1})
        db.session.commit()
        flash(_("The older signing secrets are retired: only the newest one signs and "
                "verifies now."))
        return redirect(url_for("console.developers"), 303)
    form.shown.data = secret_fingerprint(seller.signing_secrets[-1])
    return render_template("console/developers_retire.html", form=form,
                           older=[s[-4:] for s in seller.signing_secrets[:-1]],
                           newest=seller.signing_secrets[-1][-4:])


# ---- Origins ------------------------------------------------------------------------

@bp.post("/<seller_id>/developers/origins")
@developers_page
def developers_origin_add():
    """Register an origin that may open and frame the seller's buy flow."""
    form = OriginForm()
    if not form.validate_on_submit():
        return overview(400, origin_form=form)
    try:
        origin = normalize_origin(form.origin.data)
    except UrlRefused:
        form.origin.errors.append(refusal("origin_invalid"))
        return overview(400, origin_form=form)
    seller = current_seller()
    before = list(seller.origins)
    after = accounts.change_origins(seller, add=[origin])
    if after == before:
        db.session.rollback()
        form.origin.errors.append(refusal("origin_exists"))
        return overview(409, origin_form=form)
    audit("origin.added", origin, before={"origins": before}, after={"origins": after})
    db.session.commit()
    flash(_("%(origin)s is registered: the buy flow opens on its pages.", origin=origin))
    return redirect(url_for("console.developers"), 303)


@bp.route("/<seller_id>/developers/origins/remove", methods=["GET", "POST"])
@developers_page
def developers_origin_remove():
    """Stop an origin from opening the buy flow, after a confirmation (the last one
    stays: the flow would open nowhere)."""
    form = RemoveOriginForm()
    seller = current_seller()
    if request.method == "GET":
        origin = request.args.get("origin", "")
        if origin not in seller.origins:
            abort(404)
        form.origin.data = origin
        return render_template("console/developers_remove_origin.html", form=form,
                               origin=origin, last=len(seller.origins) == 1)
    if not form.validate_on_submit():
        return overview(400, error=refusal("origin_invalid"))
    origin = form.origin.data
    if origin not in seller.origins:
        abort(404)
    before = list(seller.origins)
    try:
        after = accounts.change_origins(seller, remove=[origin])
    except (ValueError, UrlRefused):
        db.session.rollback()
        return overview(422, error=refusal("last_origin"))
    if after == before:  # removed meanwhile by someone else
        db.session.rollback()
    else:
        audit("origin.removed", origin, before={"origins": before}, after={"origins": after})
        db.session.commit()
    flash(_("%(origin)s is removed: the buy flow no longer opens on its pages.", origin=origin))
    return redirect(url_for("console.developers"), 303)
