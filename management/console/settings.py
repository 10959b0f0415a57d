"""The console's settings: the seller's default language and currencies, its brand (the
name, accent colour and logo buyers see in the buy flow, on receipts and in emails), the
support contact receipts show, and offline payments (the instructions buyers get, and
whether a payment may be for less than is due).

One page, a form per part, each posting to its own route; what a form changed is written
to the audit log with what it was (``settings.updated``, ``brand.logo_changed``), in the
same transaction. The brand's checks are ``buyflow/sellers/brand.py``'s, as the CLI's
``sellers set-brand`` uses them; the accent is refused here when its contrast on a light
page fails WCAG AA (the buy flow, receipts and emails are light), and kept with a note
when only the dark scheme falls back to Buyflow's own."""

from __future__ import annotations

import base64

from babel.numbers import format_decimal, get_currency_name
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import ColorField, EmailField
from wtforms.validators import DataRequired, Length, Optional

from buyflow.audit import record_action
from buyflow.extensions import db
from buyflow.flow.theme import DARK_PANEL, LIGHT_PANEL
from buyflow.i18n import LANGUAGE_NAMES
from buyflow.money import CURRENCY_EXPONENTS
from buyflow.people.roles import Permission
from buyflow.sellers import accounts, brand

from . import bp
from .access import console_actor, current_seller, member_page

MAX_INSTRUCTIONS_CHARS = 2000
# A logo upload's body: the largest logo brand.py takes, and room to say it is too big
# in words rather than with a bare 413 (the service's MAX_CONTENT_LENGTH is far smaller).
LOGO_BODY_LIMIT = 1024 * 1024
# What settings.updated shows of each part.
GENERAL = ("default_locale", "currencies")
BRAND = ("name", "accent_color")
SUPPORT = ("support_email", "postal_address")
PAYMENTS = ("offline_instructions", "allow_partial_offline")


@bp.url_value_preprocessor
def _logo_body_limit(endpoint, _values):
    """A logo's upload may be larger than any other form: say so before the request's
    body is read (by ``buyflow/web_input.py``, before any view)."""
    if endpoint == "console.settings_logo":
        request.max_content_length = LOGO_BODY_LIMIT


def locale() -> str:
    return str(get_locale())


class SettingsForm(FlaskForm):
    """One of the page's forms, each with its prefix (so their fields' ids differ). The
    CSRF token is the page's one ``csrf_token`` field, checked by the app's CSRFProtect
    on every POST."""

    class Meta:
        csrf = False


class GeneralForm(SettingsForm):
    default_locale = SelectField(_l("Default language"), validators=[DataRequired()])
    currencies = SelectMultipleField(_l("Currencies"), validate_choice=True)


class BrandForm(SettingsForm):
    name = StringField(_l("Name buyers see"), validators=[DataRequired(), Length(max=200)])
    use_accent = BooleanField(_l("Use my accent colour"))
    accent = ColorField(_l("Accent colour"), validators=[Optional()])


class LogoForm(SettingsForm):
    logo = FileField(_l("Logo"), validators=[FileRequired(_l("Choose an image file."))])


class SupportForm(SettingsForm):
    support_email = EmailField(_l("Support email"), validators=[Optional(), Length(max=320)])
    postal_address = TextAreaField(_l("Postal address"), validators=[
        Optional(), Length(max=brand.MAX_ADDRESS_CHARS)])


class PaymentsForm(SettingsForm):
    offline_instructions = TextAreaField(_l("Instructions for paying offline"), validators=[
        Optional(), Length(max=MAX_INSTRUCTIONS_CHARS)])
    allow_partial_offline = BooleanField(_l("Allow offline payments for less than is due"))


class ConfirmForm(FlaskForm):
    """A button only: the CSRF token is the whole form."""


def _forms(seller, **submitted) -> dict:
    """Every form of the page, those not ``submitted`` filled from the seller."""
    forms = {
        "general": GeneralForm(formdata=None, prefix="general", data={
            "default_locale": seller.default_locale, "currencies": list(seller.currencies or [])}),
        "brand": BrandForm(formdata=None, prefix="brand", data={
            "name": seller.name, "use_accent": bool(seller.accent_color),
            "accent": seller.accent_color or "#0b5fff"}),
        "logo": LogoForm(formdata=None, prefix="logo"),
        "support": SupportForm(formdata=None, prefix="support", data={
            "support_email": seller.support_email or "",
            "postal_address": seller.postal_address or ""}),
        "payments": PaymentsForm(formdata=None, prefix="payments", data={
            "offline_instructions": seller.offline_instructions or "",
            "allow_partial_offline": seller.allow_partial_offline}),
    }
    forms.update(submitted)
    _choices(forms["general"])
    return forms


def _choices(form: GeneralForm) -> None:
    form.default_locale.choices = [(code, LANGUAGE_NAMES.get(code, code))
                                   for code in current_app.config["LANGUAGES"]]
    form.currencies.choices = [(code, code) for code in sorted(CURRENCY_EXPONENTS)]


def _currency_names() -> dict[str, str]:
    return {code: get_currency_name(code, locale=locale()) for code in CURRENCY_EXPONENTS}


def swatch(colour: str, text: str) -> str:
    """A small picture of ``colour`` with ``text`` on it, as a data: URL (the page's CSP
    allows no inline style)."""
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' width='96' height='32'>"
           f"<rect width='96' height='32' rx='6' fill='{colour}'/>"
           f"<text x='48' y='21' font-family='sans-serif' font-size='14' font-weight='700' "
           f"text-anchor='middle' fill='{text}'>Aa</text></svg>")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _page(seller=None, status: int = 200, **submitted):
    seller = seller or current_seller()
    accent = brand.usable_accent(seller.accent_color, LIGHT_PANEL)
    return render_template(
        "console/settings.html", seller=seller, forms=_forms(seller, **submitted),
        currency_names=_currency_names(), logo_url=brand.logo_url(seller),
        accent=accent, accent_swatch=swatch(accent.colour, accent.on_colour) if accent else None,
        accent_on_dark=brand.usable_accent(seller.accent_color, DARK_PANEL) is not None,
        logo_rules=_logo_rules(), remove=ConfirmForm()), status


def _logo_rules() -> str:
    return _("PNG, JPEG or WebP, at most %(size)s KiB, each side %(least)s to %(most)s "
             "pixels.", size=brand.MAX_LOGO_BYTES // 1024,
             least=format_decimal(brand.LOGO_SIDES[0], locale=locale()),
             most=format_decimal(brand.LOGO_SIDES[1], locale=locale()))


def _save(seller, fields: tuple[str, ...], before: dict, message: str,
          note: str | None = None):
    """Audit what changed among ``fields`` (from ``before``), commit, and go back to the
    page with ``message`` and ``note`` (or say nothing changed)."""
    after = {field: getattr(seller, field) for field in fields}
    changed = [field for field in fields if before[field] != after[field]]
    if changed:
        record_action("settings.updated", seller.public_id, actor=console_actor(),
                      seller=seller, before={f: before[f] for f in changed},
                      after={f: after[f] for f in changed})
        db.session.commit()
        flash(message, "success")
        if note:
            flash(note, "warning")
    else:
        db.session.rollback()
        flash(_("Nothing changed."), "success")
    return redirect(url_for("console.settings"), 303)


def _before(seller, fields: tuple[str, ...]) -> dict:
    """``fields`` of ``seller`` as they are (a copy of the list of currencies)."""
    return {field: (list(getattr(seller, field) or []) if field == "currencies"
                    else getattr(seller, field)) for field in fields}


@bp.get("/<seller_id>/settings")
@member_page(Permission.SETTINGS)
def settings():
    return _page()


@bp.post("/<seller_id>/settings/general")
@member_page(Permission.SETTINGS)
def settings_general():
    """The default language (of the buy flow, receipts and emails, when the buyer's own
    is not one we have) and the currencies products may be priced in (none: any)."""
    seller = current_seller()
    form = GeneralForm(prefix="general")
    _choices(form)
    if not form.validate():
        if form.currencies.errors:
            form.currencies.errors[:] = [_("Choose one of the currencies in the list.")]
        return _page(seller, 400, general=form)
    before = _before(seller, GENERAL)
    seller.default_locale = form.default_locale.data
    seller.currencies = sorted(set(form.currencies.data or []))
    return _save(seller, GENERAL, before, _("Language and currencies saved."))


def _contrast_refusal(colour: str) -> str | None:
    """Why ``colour`` cannot be the accent on a light page, or None when it can."""
    if brand.usable_accent(colour, LIGHT_PANEL) is not None:
        return None
    text_ratio = max(brand.contrast_ratio(colour, text) for text in brand.TEXT_ON_ACCENT)
    if text_ratio < brand.TEXT_CONTRAST:
        return _("Text on this colour would be hard to read: its contrast is %(ratio)s:1, "
                 "and at least %(needed)s:1 is needed. Choose a darker or a lighter colour.",
                 ratio=format_decimal(round(text_ratio, 1), locale=locale()),
                 needed=format_decimal(brand.TEXT_CONTRAST, locale=locale()))
    page_ratio = brand.contrast_ratio(colour, LIGHT_PANEL)
    return _("This colour is too light to stand out on a white page: its contrast is "
             "%(ratio)s:1, and at least %(needed)s:1 is needed. Choose a darker colour.",
             ratio=format_decimal(round(page_ratio, 1), locale=locale()),
             needed=format_decimal(brand.CONTROL_CONTRAST, locale=locale()))


@bp.post("/<seller_id>/settings/brand")
@member_page(Permission.SETTINGS)
def settings_brand():
    """The name buyers see, and the accent colour (checked for contrast), or none."""
    seller = current_seller()
    form = BrandForm(prefix="brand")
    if not form.validate():
        return _page(seller, 400, brand=form)
    colour = (form.accent.data or "").strip() if form.use_accent.data else ""
    if colour and not brand.HEX_COLOUR.fullmatch(colour):
        form.accent.errors.append(_("Choose a colour written #rrggbb, like #0b5fff."))
        return _page(seller, 400, brand=form)
    if colour and (refusal := _contrast_refusal(colour)):
        form.accent.errors.append(refusal)
        return _page(seller, 400, brand=form)
    before = _before(seller, BRAND)
    try:
        accounts.rename_seller(seller, form.name.data)
    except ValueError:
        db.session.rollback()
        form.name.errors.append(_("A name has at most %(count)d characters.", count=200))
        return _page(None, 400, brand=form)
    brand.set_accent(seller, colour or None)
    note = None
    if seller.accent_color and brand.usable_accent(seller.accent_color, DARK_PANEL) is None:
        note = _("In dark mode buyers see Buyflow's own colour: yours has too little "
                 "contrast on a dark background.")
    return _save(seller, BRAND, before, _("Name and colour saved."), note)


@bp.post("/<seller_id>/settings/logo")
@member_page(Permission.SETTINGS)
def settings_logo():
    """Upload a new logo (checked by ``brand.set_logo``)."""
    seller = current_seller()
    form = LogoForm(prefix="logo")
    if not form.validate():
        return _page(seller, 400, logo=form)
    image = form.logo.data.read(brand.MAX_LOGO_BYTES + 1)
    try:
        before = seller.logo_digest
        brand.set_logo(seller, image)
    except brand.BrandRefused:
        db.session.rollback()
        form.logo.errors.append(_("This file cannot be the logo: it must be %(rules)s",
                                  rules=_logo_rules()))
        return _page(None, 400, logo=form)
    if before != seller.logo_digest:
        record_action("brand.logo_changed", seller.public_id, actor=console_actor(),
                      seller=seller, before={"logo_digest": before},
                      after={"logo_digest": seller.logo_digest, "logo_type": seller.logo_type})
    db.session.commit()
    flash(_("Logo saved."), "success")
    return redirect(url_for("console.settings"), 303)


@bp.post("/<seller_id>/settings/logo/remove")
@member_page(Permission.SETTINGS)
def settings_logo_remove():
    seller = current_seller()
    if not ConfirmForm().validate_on_submit():
        return _page(seller, 400)
    before = seller.logo_digest
    if before is not None:
        brand.set_logo(seller, None)
        record_action("brand.logo_changed", seller.public_id, actor=console_actor(),
                      seller=seller, before={"logo_digest": before},
                      after={"logo_digest": None})
        db.session.commit()
        flash(_("Logo removed."), "success")
    return redirect(url_for("console.settings"), 303)


@bp.post("/<seller_id>/settings/support")
@member_page(Permission.SETTINGS)
def settings_support():
    """The support email and postal address receipts show (empty: none)."""
    seller = current_seller()
    form = SupportForm(prefix="support")
    if not form.validate():
        return _page(seller, 400, support=form)
    before = _before(seller, SUPPORT)
    try:
        brand.set_support_contact(seller, email=form.support_email.data or "")
    except brand.BrandRefused:
        db.session.rollback()
        form.support_email.errors.append(_("Enter an email address, or leave it empty."))
        return _page(None, 400, support=form)
    try:
        brand.set_support_contact(seller, postal_address=form.postal_address.data or "")
    except brand.BrandRefused:
        db.session.rollback()
        form.postal_address.errors.append(_("An address has at most %(count)d characters.",
                                            count=brand.MAX_ADDRESS_CHARS))
        return _page(None, 400, support=form)
    return _save(seller, SUPPORT, before, _("Support contact saved."))


@bp.post("/<seller_id>/settings/payments")
@member_page(Permission.SETTINGS)
def settings_payments():
    """What buyers are told to do to pay offline, and partial offline payments."""
    seller = current_seller()
    form = PaymentsForm(prefix="payments")
    if not form.validate():
        return _page(seller, 400, payments=form)
    before = _before(seller, PAYMENTS)
    lines = (form.offline_instructions.data or "").replace("\r\n", "\n").strip()
    seller.offline_instructions = lines or None
    seller.allow_partial_offline = bool(form.allow_partial_offline.data)
    return _save(seller, PAYMENTS, before, _("Offline payments saved."))
