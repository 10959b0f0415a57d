"""The operator admin's audit log: every entry, newest first, a page at a time (keyset:
``before`` an entry id), filtered by actor (a type, and/or an id or a person's email),
seller (its public id), action (a prefix: ``ban.``, ``order.refunded``) and dates (days
in the service's time zone, both included). Each filter uses an index of
``audit_entries`` (actor, seller_id, action, created_at). A filter that cannot be
understood is said next to its field (400), and nothing is listed."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from flask import render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp, ValidationError

from buyflow.buyers.identity import buyer_by_email
from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, BuyerEmail, Seller
from buyflow.models.audit import ActorType

from . import bp
from .access import operator_page

PAGE_SIZE = 50
PEOPLE_ACTORS = (ActorType.BUYER, ActorType.MEMBER, ActorType.OPERATOR)

ACTOR_TYPES = {
    ActorType.BUYER: _l("Person (their own account)"),
    ActorType.MEMBER: _l("Member (a seller's console)"),
    ActorType.OPERATOR: _l("Operator"),
    ActorType.SYSTEM: _l("System"),
    ActorType.API_KEY: _l("API key"),
}
ACTOR_LABELS = {
    ActorType.BUYER: _l("Person"),
    ActorType.MEMBER: _l("Member"),
    ActorType.OPERATOR: _l("Operator"),
    ActorType.SYSTEM: _l("System"),
    ActorType.API_KEY: _l("API key"),
}


class DayField(DateField):
    """A day, YYYY-MM-DD (a date input), refused in our words."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("Write the day as YYYY-MM-DD, for example 2026-03-31.")) \
                from None


class AuditFilterForm(FlaskForm):
    """The filters, from the query string (no CSRF token: reading only)."""

    class Meta:
        csrf = False

    actor_type = SelectField(_l("Actor"), validate_choice=False, choices=[
        SelectChoice("", _l("Anyone")),
        *(SelectChoice(value, label) for value, label in ACTOR_TYPES.items())])
    actor = StringField(_l("Actor's id or email"),
                        validators=[Optional(), Length(max=320)])
    seller = StringField(_l("Seller id"), description=_l("For example sel_…"),
                         validators=[Optional(), Length(max=40)])
    action = StringField(_l("Action starts with"),
                         description=_l("For example ban. or order.refunded"),
                         validators=[Optional(), Length(max=60),
                                     Regexp(r"^[a-z0-9_.:-]+$",
                                            message=_l("Actions are written in lower case "
                                                       "letters, digits, dots and "
                                                       "underscores, such as ban.added."))])
    since = DayField(_l("From"), validators=[Optional()])
    until = DayField(_l("To"), validators=[Optional()])
    before = StringField(validators=[Optional(), Regexp(
        r"^[0-9]{1,18}$", message=_l("This page link is not valid: go back to the first "
                                      "page."))])

    def validate_actor_type(self, field):
        if field.data and field.data not in ACTOR_TYPES:
            raise ValidationError(_("Choose one of the actors."))

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The last day is before the first."))


def _day_start(day) -> datetime:
    """Midnight of ``day`` in the service's time zone (pytz's, or a zoneinfo)."""
    zone, midnight = get_timezone(), datetime.combine(day, time())
    return zone.localize(midnight) if hasattr(zone, "localize") else midnight.replace(tzinfo=zone)


def _filtered(form: AuditFilterForm):
    """The entries the valid ``form`` asks for, as a query; field errors are added (and
    None answered) for values that name nothing."""
    query = db.select(AuditEntry)
    actor_type, actor = form.actor_type.data, (form.actor.data or "").strip()
    if actor_type:
        query = query.where(AuditEntry.actor_type == actor_type)
    if actor:
        if "@" in actor:
            person = buyer_by_email(actor.lower()) or db.session.scalar(
                db.select(Buyer).join(BuyerEmail).where(BuyerEmail.email == actor.lower()))
            if person is None:
                form.actor.errors.append(_("No person has this email."))
                return None
            if actor_type and actor_type not in PEOPLE_ACTORS:
                form.actor.errors.append(_("Only people act with an email: choose a "
                                           "person, a member or an operator."))
                return None
            query = query.where(AuditEntry.actor_id == str(person.id))
            if not actor_type:
                query = query.where(AuditEntry.actor_type.in_(PEOPLE_ACTORS))
        else:
            query = query.where(AuditEntry.actor_id == actor)
    if seller_id := (form.seller.data or "").strip():
        seller = db.session.scalar(db.select(Seller.id).filter_by(public_id=seller_id))
        if seller is None:
            form.seller.errors.append(_("There is no seller with this id."))
            return None
        query = query.where(AuditEntry.seller_id == seller)
    if action := form.action.data:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if form.since.data:
        query = query.where(AuditEntry.created_at >= _day_start(form.since.data))
    if form.until.data:
        query = query.where(AuditEntry.created_at
                            < _day_start(form.until.data + timedelta(days=1)))
    if form.before.data:
        query = query.where(AuditEntry.id < int(form.before.data))
    return query


def _labels(entries):
    """The people (id → email) and sellers (id → (public id, name)) the entries name."""
    person_ids = {int(e.actor_id) for e in entries
                  if e.actor_type in PEOPLE_ACTORS and (e.actor_id or "").isdigit()}
    seller_ids = {e.seller_id for e in entries if e.seller_id is not None}
    people = dict(db.session.execute(
        db.select(Buyer.id, Buyer.email).where(Buyer.id.in_(person_ids))).all()) \
        if person_ids else {}
    sellers = {row.id: (row.public_id, row.name) for row in db.session.execute(
        db.select(Seller.id, Seller.public_id, Seller.name).where(Seller.id.in_(seller_ids)))} \
        if seller_ids else {}
    return {str(k): v for k, v in people.items()}, sellers


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def changes(entry: AuditEntry) -> list[tuple[str, str | None, str | None]]:
    """What the entry changed, key by key: (key, before, after); "—" where one side
    lacks the key, None for a whole side the entry has not (a thing made has no before,
    one removed no after). Empty when it has neither: its detail says what happened."""
    if entry.before is None and entry.after is None:
        return []
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [(key, _value(before.get(key)) if entry.before is not None else None,
             _value(after.get(key)) if entry.after is not None else None) for key in keys]


def details(entry: AuditEntry) -> list[tuple[str, str]]:
    return [(key, _value(value)) for key, value in (entry.detail or {}).items()]


@bp.get("/audit-log")
@operator_page
def audit_log():
    """The audit log, filtered as the query string says."""
    form = AuditFilterForm(request.args)
    entries, next_before, status = [], None, 200
    query = _filtered(form) if form.validate() else None
    if query is None:
        status = 400
    else:
        found = db.session.scalars(query.order_by(AuditEntry.id.desc())
                                   .limit(PAGE_SIZE + 1)).all()
        entries = found[:PAGE_SIZE]
        if len(found) > PAGE_SIZE:
            next_before = entries[-1].id
    people, sellers = _labels(entries)
    filters = {name: request.args.get(name) for name in
               ("actor_type", "actor", "seller", "action", "since", "until")
               if request.args.get(name)}
    return render_template(
        "admin/audit_log.html", form=form, entries=entries, next_before=next_before,
        filters=filters, people=people, sellers=sellers, changes=changes, details=details,
        actor_labels=ACTOR_LABELS, zone=str(get_timezone()),
        people_actors=[str(t) for t in PEOPLE_ACTORS],
        error=_("Check the filters: some cannot be understood.") if status == 400 else None,
    ), status
