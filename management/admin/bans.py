"""The operator admin's bans and blacklist: the bans (in force and lifted, by kind,
searched, a page at a time), banning a person (by their email), an email or a domain
with a reason, lifting a ban; the blacklist's patterns, adding one (checked: a valid,
safe regular expression), removing one, and a box that tells whether an email would be
refused and by which pattern. The rules are in ``buyflow/people/bans.py``, which every
door (sign-in, sign-up, adding an email, checkout) asks."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from buyflow.buyers.identity import buyer_by_email
from buyflow.extensions import db
from buyflow.models import Ban, BlacklistPattern, Buyer
from buyflow.models.people import BanKind
from buyflow.people import bans as rules
from buyflow.people.bans import BanRefused

from ..auth.sessions import current_buyer
from . import bp
from .access import operator_page

PAGE_SIZE = 50
REMOVED_SHOWN = 20
REASON_MAX_LENGTH = 1000

KINDS = {
    BanKind.PERSON: _l("A person (by their email)"),
    BanKind.EMAIL: _l("An email address"),
    BanKind.DOMAIN: _l("A domain and its subdomains"),
}
KIND_LABELS = {BanKind.PERSON: _l("Person"), BanKind.EMAIL: _l("Email"),
               BanKind.DOMAIN: _l("Domain")}
STATES = {"in_force": _l("In force"), "lifted": _l("Lifted"), "all": _l("All")}

REFUSALS = {
    "invalid_email": _l("Please enter a valid email address."),
    "invalid_domain": _l("Please enter a domain such as example.com: it covers its "
                         "subdomains too."),
    "unknown_person": _l("No person has this email (as their primary email, or another one "
                         "they verified). Ban the email address instead."),
    "slow_pattern": _l("This pattern could take very long to match some emails: it repeats "
                       "something that itself repeats, or a choice, such as (a+)+ or "
                       "(a|ab)*. Write it without that nesting; atomic groups (?>…) and "
                       "possessive repeats such as a++ are fine."),
    "cannot_ban_yourself": _l("You cannot ban yourself: this would cover your own email."),
    "already_banned": _l("This is already in force."),
    "already_lifted": _l("This ban was lifted already."),
    "already_removed": _l("This pattern was removed already."),
}
# What each refusal code of bans.refusal_for_email means, for operators only.
REFUSAL_LABELS = {
    "person_banned": _l("Refused: the person it belongs to is banned."),
    "email_banned": _l("Refused: this email address is banned."),
    "domain_banned": _l("Refused: its domain is banned."),
    "email_blacklisted": _l("Refused: a pattern of the blacklist matches it."),
}


def refusal_text(exc: BanRefused) -> str:
    if exc.code == "invalid_pattern":
        return _("This is not a valid regular expression: %(error)s", error=exc.message)
    return str(REFUSALS.get(exc.code, exc.code))


class BanForm(FlaskForm):
    kind = SelectField(_l("Ban"), choices=[SelectChoice(k, label) for k, label in KINDS.items()],
                       validators=[DataRequired()])
    value = StringField(_l("Email or domain"),
                        validators=[DataRequired(message=_l("Enter the email or the domain "
                                                            "to ban.")),
                                    Length(max=320)])
    reason = TextAreaField(_l("Why (operators read it; the banned person never does)"),
                           validators=[DataRequired(message=_l("Say why: other operators "
                                                               "will read it.")),
                                       Length(max=REASON_MAX_LENGTH)])


class PatternForm(FlaskForm):
    pattern = StringField(
        _l("Regular expression over the whole email"),
        description=_l("Matched against the whole address, ignoring case, for example "
                       r".*@(spam|junk)\.example"),
        validators=[DataRequired(message=_l("Enter a regular expression.")),
                    Length(max=rules.MAX_PATTERN_LENGTH)])
    reason = TextAreaField(_l("Why (operators read it)"),
                           validators=[DataRequired(message=_l("Say why: other operators "
                                                               "will read it.")),
                                       Length(max=REASON_MAX_LENGTH)])


class UndoForm(FlaskForm):
    """Lifting a ban or removing a pattern: an optional reason."""

    reason = StringField(_l("Why (optional)"),
                         validators=[Optional(), Length(max=REASON_MAX_LENGTH)])


def _creators(rows) -> dict[int, str]:
    """The emails of whoever made ``rows``, by person id."""
    ids = {row.created_by_id for row in rows if row.created_by_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(db.select(Buyer.id, Buyer.email).where(Buyer.id.in_(ids))).all())


# --- bans ---------------------------------------------------------------------------


def _bans_page(form: BanForm, *, error: str | None = None, status: int = 200):
    state = request.args.get("state", "in_force")
    if state not in STATES:
        state = "in_force"
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        kind = ""
    query_text = request.args.get("q", "").strip().lower()[:320]
    select = db.select(Ban)
    if state == "in_force":
        select = select.where(Ban.lifted_at.is_(None))
    elif state == "lifted":
        select = select.where(Ban.lifted_at.is_not(None))
    if kind:
        select = select.where(Ban.kind == kind)
    if query_text:
        select = select.where(Ban.value.contains(query_text, autoescape=True))
    if after := request.args.get("after"):
        after_id = db.session.scalar(db.select(Ban.id).filter_by(public_id=after))
        if after_id is None:
            abort(404)
        select = select.where(Ban.id < after_id)
    found = db.session.scalars(select.order_by(Ban.id.desc()).limit(PAGE_SIZE + 1)).all()
    page = found[:PAGE_SIZE]
    next_after = page[-1].public_id if len(found) > PAGE_SIZE else None
    return render_template(
        "admin/bans.html", bans=page, next_after=next_after, state=state, kind=kind,
        query_text=query_text, states=STATES, kinds=KINDS, kind_labels=KIND_LABELS,
        creators=_creators(page), form=form, undo_form=UndoForm(), error=error), status


@bp.get("/bans")
@operator_page
def bans():
    """The bans, in force by default, newest first (``state``, ``kind``, ``q`` a part of
    the value, keyset ``after`` a ban), and the form to add one (``kind`` and ``value``
    in the query fill it, as the people pages link to it)."""
    form = BanForm(formdata=None, kind=request.args.get("ban_kind", BanKind.EMAIL),
                   value=request.args.get("value", "")[:320])
    return _bans_page(form)


@bp.post("/bans/new")
@operator_page
def bans_add():
    """Ban a person (by their email), an email or a domain."""
    form = BanForm()
    if not form.validate_on_submit():
        return _bans_page(form, status=400)
    operator = current_buyer()
    try:
        if form.kind.data == BanKind.PERSON:
            person = buyer_by_email(rules.comparable_email(form.value.data))
            if person is None:
                raise BanRefused("unknown_person")
            ban = rules.ban_person(person, operator=operator, reason=form.reason.data)
        elif form.kind.data == BanKind.EMAIL:
            ban = rules.ban_email(form.value.data, operator=operator, reason=form.reason.data)
        else:
            ban = rules.ban_domain(form.value.data, operator=operator, reason=form.reason.data)
    except BanRefused as exc:
        db.session.rollback()
        form.value.errors.append(refusal_text(exc))
        return _bans_page(form, status=422)
    db.session.commit()
    flash(_("Banned: %(value)s. From now on it cannot sign in, sign up, add an email or "
            "buy.", value=ban.value), "success")
    return redirect(url_for("admin.bans"), 303)


@bp.post("/bans/<ban_id>/lift")
@operator_page
def bans_lift(ban_id: str):
    """Lift a ban: it stays listed, lifted."""
    ban = db.session.scalar(db.select(Ban).filter_by(public_id=ban_id))
    if ban is None:
        abort(404)
    form = UndoForm()
    if not form.validate_on_submit():
        return _bans_page(BanForm(formdata=None), error=_("The reason is too long."),
                          status=400)
    try:
        rules.lift_ban(ban, operator=current_buyer(), reason=form.reason.data or "")
    except BanRefused as exc:
        db.session.rollback()
        return _bans_page(BanForm(formdata=None), error=refusal_text(exc), status=422)
    db.session.commit()
    flash(_("The ban of %(value)s is lifted.", value=ban.value), "success")
    return redirect(url_for("admin.bans"), 303)


# --- the blacklist ------------------------------------------------------------------


def _check_result() -> dict | None:
    """The "would this email be refused?" box: with ``check_email`` (and, to try a
    pattern before adding it, ``check_pattern``) in the query."""
    email = request.args.get("check_email", "").strip()[:320]
    pattern = request.args.get("check_pattern", "")[:rules.MAX_PATTERN_LENGTH]
    if not email:
        return None
    result = {"email": email, "pattern": pattern}
    if pattern:
        try:
            result["pattern_matches"] = rules.pattern_matches(pattern, email)
        except BanRefused as exc:
            result["pattern_error"] = refusal_text(exc)
        return result
    code = rules.refusal_for_email(email)
    result["verdict"] = str(REFUSAL_LABELS[code]) if code else _("Not refused.")
    result["refused"] = code is not None
    in_force = db.session.scalars(db.select(BlacklistPattern).where(
        BlacklistPattern.removed_at.is_(None)).order_by(BlacklistPattern.id)).all()
    comparable = rules.comparable_email(email)
    result["matching"] = [row for row in in_force
                          if rules._compiled(row.pattern).fullmatch(comparable)]
    return result


def _blacklist_page(form: PatternForm, *, error: str | None = None, status: int = 200):
    in_force = db.session.scalars(db.select(BlacklistPattern).where(
        BlacklistPattern.removed_at.is_(None)).order_by(BlacklistPattern.id.desc())).all()
    removed = db.session.scalars(db.select(BlacklistPattern).where(
        BlacklistPattern.removed_at.is_not(None))
        .order_by(BlacklistPattern.removed_at.desc(), BlacklistPattern.id.desc())
        .limit(REMOVED_SHOWN)).all()
    return render_template(
        "admin/blacklist.html", patterns=in_force, removed=removed,
        creators=_creators([*in_force, *removed]), form=form, undo_form=UndoForm(),
        check=_check_result(), error=error), status


@bp.get("/blacklist")
@operator_page
def blacklist():
    """The patterns in force, the last ones removed, the form to add one and the box
    that checks an email."""
    return _blacklist_page(PatternForm(formdata=None))


@bp.post("/blacklist/new")
@operator_page
def blacklist_add():
    """Add a pattern (refused when it is not a valid, safe regular expression, or covers
    the operator's own email)."""
    form = PatternForm()
    if not form.validate_on_submit():
        return _blacklist_page(form, status=400)
    try:
        row = rules.add_pattern(form.pattern.data, operator=current_buyer(),
                                reason=form.reason.data)
    except BanRefused as exc:
        db.session.rollback()
        form.pattern.errors.append(refusal_text(exc))
        return _blacklist_page(form, status=422)
    db.session.commit()
    flash(_("Added to the blacklist: %(pattern)s", pattern=row.pattern), "success")
    return redirect(url_for("admin.blacklist"), 303)


@bp.post("/blacklist/<pattern_id>/remove")
@operator_page
def blacklist_remove(pattern_id: str):
    """Take a pattern off the blacklist: it stays listed, removed."""
    row = db.session.scalar(db.select(BlacklistPattern).filter_by(public_id=pattern_id))
    if row is None:
        abort(404)
    form = UndoForm()
    if not form.validate_on_submit():
        return _blacklist_page(PatternForm(formdata=None), error=_("The reason is too long."),
                               status=400)
    try:
        rules.remove_pattern(row, operator=current_buyer(), reason=form.reason.data or "")
    except BanRefused as exc:
        db.session.rollback()
        return _blacklist_page(PatternForm(formdata=None), error=refusal_text(exc),
                               status=422)
    db.session.commit()
    flash(_("Removed from the blacklist: %(pattern)s", pattern=row.pattern), "success")
    return redirect(url_for("admin.blacklist"), 303)
