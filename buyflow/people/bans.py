"""Who may not come in: bans (a person and every email of theirs, one email, a domain and
its subdomains) and the blacklist (regular expressions over whole emails), checked
wherever an email comes in — signing in, signing up, adding an email, checking out — and
on every signed-in page (``management.auth.sessions.current_buyer``: a person whose email
is refused since they signed in is signed out).

- **One check for every door.** ``refusal_for_email(email)`` answers a stable code
  (``person_banned``, ``email_banned``, ``domain_banned``, ``email_blacklisted``) or
  None, in two small queries: the bans in force on the email itself, on each of its
  domain's suffixes (``a@x.shop.test`` is refused by a ban of ``shop.test``, not
  ``a@notshop.test``) and on the person it belongs to (``identity.email_owners``: the
  primary email or a verified other one — an unverified email proves nothing about who
  holds it, so it does not carry their ban); then the patterns in force. Emails are
  compared in their normalized lower-case form.
- **What the refused are told** is the same for every rule (``refusal_message``): which
  rule refused them is the operator's business, not theirs.
- **Patterns** are matched with ``re.fullmatch``, ignoring case, on valid emails only
  (at most 254 characters once validated: every door refuses invalid ones anyway).
  Python's ``re`` backtracks, so a pattern such as ``(a+)+`` takes exponential time on
  an email made to fail it, and nothing can interrupt a match (the ``regex`` module
  with its timeout is not installed, and no dependency is added for it). So, when an
  operator adds a pattern, it is refused (``slow_pattern``) if it repeats something
  that itself repeats (``(a+)+``, ``(.*@)*``) or repeats a choice without bound
  (``(a|ab)*``) — possessive ``++`` and atomic ``(?>...)`` groups give nothing back and
  are allowed —, then if matching it against email-shaped probes of growing length
  ever takes more than ``PROBE_BUDGET_SECONDS`` of CPU: a safety net for what the
  first rule misses (``.*.*.*.*x``), not a proof. Patterns are at most 500 characters;
  compiled patterns are cached per process, the patterns in force read once per check.
- **An operator cannot ban themselves**: their person, one of their emails, a domain or a
  pattern covering one of them (``cannot_ban_yourself``).

Each function writes its audit entry (``ban.added``, ``ban.lifted``,
``blacklist.added``, ``blacklist.removed``) as the operator's action and flushes; the
caller commits.
"""

from __future__ import annotations

import functools
import re
import time

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, literal, or_, select, union_all

from ..audit import record_action
from ..errors import CodedError
from ..extensions import db
from ..models import Ban, BlacklistPattern, Buyer
from ..models._base import utcnow
from ..models.audit import Actor
from ..models.people import BanKind
from ..buyers.identity import email_owners, verified_emails

MAX_EMAIL_LENGTH = 320
MAX_PATTERN_LENGTH = 500
PROBE_BUDGET_SECONDS = 0.01

REFUSAL_CODES = ("person_banned", "email_banned", "domain_banned", "email_blacklisted")
_CODE_OF_KIND = {BanKind.PERSON: "person_banned", BanKind.EMAIL: "email_banned",
                 BanKind.DOMAIN: "domain_banned"}

# One message for every rule: the refused are not told which one.
REFUSAL_MESSAGE = _l("This email address cannot be used here. If you think this is a "
                     "mistake, contact the shop.")


class BanRefused(CodedError):
    """``code``: invalid_email, invalid_domain, unknown_person, invalid_pattern (the
    message is the regular expression's error), slow_pattern, cannot_ban_yourself,
    already_banned, already_lifted, already_removed."""

    http_status = 422


def refusal_message(code: str) -> str:
    """What someone refused with ``code`` is told, in their language (the same for
    every code)."""
    return str(REFUSAL_MESSAGE)


# --- the check ----------------------------------------------------------------------


def _validated(email: str) -> str:
    """``email`` normalized as ``identity.normalized_email`` does, special-use domains
    such as ``.test`` allowed; EmailNotValidError when it is not an email."""
    return validate_email(email.strip(), check_deliverability=False,
                          test_environment=True).normalized.lower()


def comparable_email(email: str) -> str:
    """``email`` as bans compare it: normalized and lower case (just trimmed and lower
    case when it is not a valid email: it is still checked)."""
    try:
        return _validated(email)
    except EmailNotValidError:
        return email.strip().lower()


def domain_suffixes(domain: str) -> list[str]:
    """``x.shop.test`` → ``["x.shop.test", "shop.test"]``: the domains whose ban covers
    it (a top-level domain alone cannot be banned, see ``normalized_domain``)."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


def refusal_for_email(email: str) -> str | None:
    """Why ``email`` may not come in (a code of ``REFUSAL_CODES``), or None. The
    patterns are only matched on valid emails (every door refuses the others anyway),
    so on at most 254 characters."""
    try:
        email, valid = _validated(email), True
    except EmailNotValidError:
        email, valid = email.strip().lower(), False
    domain = email.rpartition("@")[2]
    bound = {"values": [email, *domain_suffixes(domain)], "email": email}
    kinds, patterns = set(), []
    for source, value in db.session.execute(_refusals_in_force(), bound):
        (kinds.add if source == _BAN else patterns.append)(value)
    for kind in (BanKind.PERSON, BanKind.EMAIL, BanKind.DOMAIN):
        if kind in kinds:
            return _CODE_OF_KIND[kind]
    if valid and any(_compiled(p).fullmatch(email) for p in patterns):
        return "email_blacklisted"
    return None


# What a row of _refusals_in_force is: a ban's kind, or a blacklist pattern.
_BAN, _PATTERN = "ban", "pattern"


# Built once: every door runs it, and building it costs more than running it. One
# statement, not one per table: a round trip less on every door.
@functools.cache
def _refusals_in_force() -> Select:
    """(``_BAN``, kind) for each ban in force on the emails and domains bound as
    ``values`` or on the person the email bound as ``email`` belongs to, then
    (``_PATTERN``, pattern) for each blacklist pattern in force."""
    bans = (select(literal(_BAN).label("source"), Ban.kind.label("value"))
            .where(Ban.lifted_at.is_(None),
                   or_(Ban.value.in_(bindparam("values", expanding=True)),
                       and_(Ban.kind == BanKind.PERSON, Ban.buyer_id.in_(email_owners())))))
    patterns = (select(literal(_PATTERN).label("source"), BlacklistPattern.pattern)
                .where(BlacklistPattern.removed_at.is_(None)))
    both = union_all(bans, patterns).subquery()
    return select(both.c.source, both.c.value)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern:
    """The pattern compiled once per process (patterns in force were checked when added;
    one that no longer compiles matches nothing)."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:
        return re.compile(r"(?!)")


# --- bans ---------------------------------------------------------------------------


def normalized_email_value(email: str) -> str:
    """``email`` as a ban of it keeps it; BanRefused invalid_email."""
    try:
        return _validated(email)
    except EmailNotValidError:
        raise BanRefused("invalid_email") from None


def normalized_domain(domain: str) -> str:
    """``domain`` as a ban of it keeps it: lower case, international names in Unicode as
    emails are normalized (``xn--bcher-kva.de`` → ``bücher.de``), a leading ``@``,
    ``*.`` or ``.`` dropped; BanRefused invalid_domain when it is not a domain of at
    least two labels."""
    text = domain.strip().lower().removeprefix("@").removeprefix("*.").strip(".")
    if not text or "@" in text or len(text) > 253:
        raise BanRefused("invalid_domain")
    try:
        return validate_email(f"x@{text}", check_deliverability=False,
                              test_environment=True).domain.lower()
    except EmailNotValidError:
        raise BanRefused("invalid_domain") from None


def _operator_emails(operator: Buyer) -> list[str]:
    return [comparable_email(e) for e in verified_emails(operator)]


def _in_force(kind: BanKind, value: str | None = None, buyer_id: int | None = None) -> bool:
    query = select(Ban.id).where(Ban.kind == kind, Ban.lifted_at.is_(None))
    query = query.where(Ban.buyer_id == buyer_id) if buyer_id is not None \
        else query.where(Ban.value == value)
    return db.session.scalar(query.limit(1)) is not None


def _add_ban(kind: BanKind, value: str, operator: Buyer, reason: str,
             person: Buyer | None = None) -> Ban:
    ban = Ban(kind=kind, value=value, buyer_id=person.id if person else None,
              reason=reason.strip(), created_by_id=operator.id)
    db.session.add(ban)
    db.session.flush()
    record_action("ban.added", ban.public_id, actor=Actor.operator(operator), buyer=person,
                  after={"kind": str(kind), "value": value, "in_force": True},
                  reason=ban.reason or None, kind=str(kind), value=value)
    return ban


def ban_person(person: Buyer, *, operator: Buyer, reason: str = "") -> Ban:
    """Ban ``person`` and every email of theirs (their primary email at this moment is
    the ban's value; their sessions end)."""
    if person.id == operator.id:
        raise BanRefused("cannot_ban_yourself")
    if _in_force(BanKind.PERSON, buyer_id=person.id):
        raise BanRefused("already_banned")
    person.session_epoch += 1  # signed out everywhere
    return _add_ban(BanKind.PERSON, comparable_email(person.email), operator, reason, person)


def ban_email(email: str, *, operator: Buyer, reason: str = "") -> Ban:
    """Ban one email address."""
    if comparable_email(email) in _operator_emails(operator):
        raise BanRefused("cannot_ban_yourself")
    value = normalized_email_value(email)
    if value in _operator_emails(operator):
        raise BanRefused("cannot_ban_yourself")
    if _in_force(BanKind.EMAIL, value):
        raise BanRefused("already_banned")
    return _add_ban(BanKind.EMAIL, value, operator, reason)


def ban_domain(domain: str, *, operator: Buyer, reason: str = "") -> Ban:
    """Ban a domain and its subdomains."""
    value = normalized_domain(domain)
    if any(value in domain_suffixes(e.rpartition("@")[2]) for e in _operator_emails(operator)):
        raise BanRefused("cannot_ban_yourself")
    if _in_force(BanKind.DOMAIN, value):
        raise BanRefused("already_banned")
    return _add_ban(BanKind.DOMAIN, value, operator, reason)


def lift_ban(ban: Ban, *, operator: Buyer, reason: str = "") -> Ban:
    """Lift ``ban``: from now on it refuses nobody (it stays listed, lifted)."""
    if ban.lifted_at is not None:
        raise BanRefused("already_lifted")
    ban.lifted_at = utcnow()
    db.session.flush()
    record_action("ban.lifted", ban.public_id, actor=Actor.operator(operator),
                  buyer=ban.person, before={"in_force": True}, after={"in_force": False},
                  reason=reason.strip() or None, kind=ban.kind, value=ban.value)
    return ban


# --- the blacklist ------------------------------------------------------------------


def checked_pattern(pattern: str) -> re.Pattern:
    """``pattern`` compiled as the blacklist matches it; BanRefused ``invalid_pattern``
    (its message the regular expression's error) or ``slow_pattern`` (see the module's
    docstring)."""
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise BanRefused("invalid_pattern", "too long" if pattern else "empty")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except (re.error, OverflowError, RecursionError) as exc:
        raise BanRefused("invalid_pattern", str(exc)) from None
    if _nested_repetition(pattern) or _slow_on_probes(compiled):
        raise BanRefused("slow_pattern")
    return compiled


def _nested_repetition(pattern: str) -> bool:
    """Whether ``pattern`` repeats something that itself repeats, one of the two
    unbounded (``(a+)+``, ``(a{2,}){3}``, ``(x*y)*``), or repeats without bound a choice
    between alternatives (``(a|ab)*``; a choice of single characters is a set, allowed)."""
    try:
        from re import _constants as c
        from re import _parser as parser
        tree = parser.parse(pattern, re.IGNORECASE)
    except Exception:  # the internal parser moved: the probes still run
        return False
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)

    def walk(items, outer) -> bool:
        """``outer``: None outside any repeat, else whether the repeat around is
        unbounded."""
        for op, av in items:
            if op in repeats:
                high, body = av[1], av[2]
                if high > 1:
                    unbounded = high == c.MAXREPEAT
                    if outer is not None and (outer or unbounded):
                        return True
                    if walk(body, unbounded):
                        return True
                elif walk(body, outer):
                    return True
            elif op == c.SUBPATTERN:
                if walk(av[3], outer):
                    return True
            elif op == c.BRANCH:
                if outer:
                    return True
                if any(walk(branch, outer) for branch in av[1]):
                    return True
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if walk(av[1], outer):
                    return True
            elif op == c.GROUPREF_EXISTS:
                if any(walk(branch, outer) for branch in av[1:] if branch is not None):
                    return True
            # POSSESSIVE_REPEAT and ATOMIC_GROUP give nothing back: not descended.
        return False

    return walk(tree, None)


# Probe lengths grow by about √2 a step, so the first probe over the budget comes before
# one that runs away; an email is at most 254 characters once validated, its local part
# 64 and each label of its domain 63.
_PROBE_LENGTHS = (4, 6, 8, 11, 16, 22, 32, 45, 64, 90, 128, 180, 254)


def _probes(alphabet: list[str], length: int):
    for ch in alphabet:
        yield ch * length + "!"
        yield ch * min(length, 64) + "@x.example"
        yield "a@" + ch * min(length, 63) + ".example"
        yield ("a@" + (ch + ".") * (length // 2) + "example")[:254]


def _slow_on_probes(compiled: re.Pattern) -> bool:
    """Whether matching strings built to fail slowly, ever longer, takes more than the
    budget once; stops at the first that does."""
    literals = sorted({ch.lower() for ch in compiled.pattern if ch.isalnum()})
    alphabet = ["a", "0", ".", "-", "_", *literals[:8]]
    for length in _PROBE_LENGTHS:
        for probe in _probes(alphabet, length):
            started = time.thread_time()
            compiled.fullmatch(probe)
            if time.thread_time() - started > PROBE_BUDGET_SECONDS:
                return True
    return False


def add_pattern(pattern: str, *, operator: Buyer, reason: str = "") -> BlacklistPattern:
    """Add ``pattern`` to the blacklist (checked as ``checked_pattern`` says)."""
    compiled = checked_pattern(pattern)
    if any(compiled.fullmatch(e) for e in _operator_emails(operator)):
        raise BanRefused("cannot_ban_yourself")
    if db.session.scalar(select(BlacklistPattern.id).where(
            BlacklistPattern.pattern == pattern,
            BlacklistPattern.removed_at.is_(None)).limit(1)) is not None:
        raise BanRefused("already_banned")
    row = BlacklistPattern(pattern=pattern, reason=reason.strip(), created_by_id=operator.id)
    db.session.add(row)
    db.session.flush()
    record_action("blacklist.added", row.public_id, actor=Actor.operator(operator),
                  after={"pattern": pattern, "in_force": True}, reason=row.reason or None,
                  pattern=pattern)
    return row


def remove_pattern(row: BlacklistPattern, *, operator: Buyer,
                   reason: str = "") -> BlacklistPattern:
    """Take ``row`` off the blacklist (it stays listed, removed)."""
    if row.removed_at is not None:
        raise BanRefused("already_removed")
    row.removed_at = utcnow()
    db.session.flush()
    record_action("blacklist.removed", row.public_id, actor=Actor.operator(operator),
                  before={"pattern": row.pattern, "in_force": True},
                  after={"pattern": row.pattern, "in_force": False},
                  reason=reason.strip() or None, pattern=row.pattern)
    return row


def pattern_matches(pattern: str, email: str) -> bool:
    """Whether the blacklist's ``pattern`` (checked) refuses ``email``: the admin's
    "does this email match?" box."""
    return checked_pattern(pattern).fullmatch(comparable_email(email)[:MAX_EMAIL_LENGTH]) \
        is not None
