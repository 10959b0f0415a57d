"""The buyer's emails page: add an email, verify it with the code (or link) sent to it,
send a new code, remove it, make it the primary. The rules are in buyflow.buyers.emails."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from buyflow.buyers.codes import CodeRefused, IssuedCode
from buyflow.buyers.emails import (
    EmailRefused,
    add_email,
    find_email,
    make_primary,
    remove_email,
    start_verification,
    verify_by_code,
    verify_by_link,
)
from buyflow.buyers.identity import normalized_email
from buyflow.extensions import db, limiter
from buyflow.models import BuyerEmail
from buyflow.people.bans import REFUSAL_MESSAGE

from ..auth import REFUSALS as CODE_REFUSALS
from ..auth import CodeForm, send_code_mail
from ..auth.sessions import buyer_required, current_buyer
from . import bp

REFUSALS = {
    "invalid_email": _l("Please enter a valid email address."),
    "email_refused": REFUSAL_MESSAGE,  # banned or blacklisted
    "already_yours": _l("This email is already one of yours."),
    "taken": _l("This email is already verified on another Buyflow account. Sign in with "
                "that account and remove it there first."),
    "other_account": _l("This email belongs to another Buyflow account that keeps more than "
                        "purchases (saved cards, other emails, credit, a seller's team). "
                        "Sign in with it and sort that out, or delete that account, first."),
    "not_yours": _l("This link verifies an email added to another Buyflow account. Sign in "
                    "with the account that added it, then open the link again."),
    "already_verified": _l("This email is already verified."),
    "not_verified": _l("Verify this email before making it your primary email."),
}


class AddEmailForm(FlaskForm):
    email = EmailField(_l("Email to add"), validators=[DataRequired(), Length(max=320)])


def _email_getting_a_code() -> str:
    """The rate limit's key: the email a code would be sent to."""
    if email_id := (request.view_args or {}).get("email_id"):
        buyer = current_buyer()
        row = find_email(buyer, email_id) if buyer else None
        email = row.email if row else None
    else:
        email = normalized_email(request.form.get("email", ""))
    return email or request.remote_addr or ""


def _limit_codes(view):
    """Codes by email are limited as sign-in codes are, per IP and per email."""
    per_ip = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"],
                                  scope="email_codes_ip", methods=["POST"])
    per_email = limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_EMAIL"],
                                     scope="email_codes_email", methods=["POST"],
                                     key_func=_email_getting_a_code)
    return per_ip(per_email(view))


def _send_code(row: BuyerEmail, issued: IssuedCode) -> None:
    send_code_mail(row.email, issued,
                   _("Your Buyflow code to verify this email: %(code)s", code=issued.code),
                   "email/verify_email_code.txt", "account.follow_email_link")


def _own_email(email_id: str) -> BuyerEmail:
    row = find_email(current_buyer(), email_id)
    if row is None:
        abort(404)
    return row


def _list_page(form: AddEmailForm, error: str | None = None, status: int = 200):
    return render_template("account/emails.html", form=form,
                           error=error, buyer=current_buyer()), status


@bp.route("/emails", methods=["GET", "POST"])
@_limit_codes
@buyer_required
def emails():
    """The buyer's emails, and adding one (its code goes out at once)."""
    form = AddEmailForm()
    if request.method == "GET":
        return _list_page(form)
    if not form.validate_on_submit():
        return _list_page(form, status=400)
    try:
        row = add_email(current_buyer(), form.email.data)
    except EmailRefused as exc:
        form.email.errors.append(str(REFUSALS[exc.code]))
        return _list_page(form, status=400 if exc.code == "invalid_email"
                          else 403 if exc.code == "email_refused" else 409)
    issued = start_verification(row)
    db.session.commit()  # the email and its code, before the code is mailed
    _send_code(row, issued)
    return redirect(url_for("account.verify_email", email_id=row.public_id))


@bp.post("/emails/<email_id>/send-code")
@_limit_codes
@buyer_required
def send_email_code(email_id: str):
    """Send a new code (and link) to one of the buyer's unverified emails."""
    row = _own_email(email_id)
    try:
        issued = start_verification(row)
    except EmailRefused:
        return redirect(url_for("account.emails"))
    db.session.commit()  # the code, before it is mailed
    _send_code(row, issued)
    return redirect(url_for("account.verify_email", email_id=row.public_id))


@bp.route("/emails/<email_id>/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"], methods=["POST"])
@buyer_required
def verify_email(email_id: str):
    """Take the code sent to one of the buyer's emails."""
    row = _own_email(email_id)
    if row.verified_at is not None:
        return redirect(url_for("account.emails"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            verify_by_code(current_buyer(), row, form.code.data)
        except CodeRefused as exc:
            form.code.errors.append(str(CODE_REFUSALS[exc.code]))
            status = 429 if exc.code == "too_many_attempts" else 400
        except EmailRefused as exc:
            form.code.errors.append(str(REFUSALS[exc.code]))
            status = 409
        else:
            flash(_("%(email)s is verified: what you bought with it is now in your purchases.",
                    email=row.email))
            return redirect(url_for("account.emails"))
    elif request.method == "POST":
        status = 400
    return render_template("account/emails_verify.html", form=form, row=row), status


@bp.get("/emails/link/<token>")
@buyer_required
def follow_email_link(token: str):
    """The link in the email verifies it too, once, for the buyer who added it."""
    try:
        row = verify_by_link(current_buyer(), token)
    except CodeRefused as exc:
        message, status = CODE_REFUSALS[exc.code], 400
    except EmailRefused as exc:
        message, status = REFUSALS[exc.code], 403 if exc.code == "not_yours" else 409
    else:
        flash(_("%(email)s is verified: what you bought with it is now in your purchases.",
                email=row.email))
        return redirect(url_for("account.emails"))
    return render_template("account/emails_link_refused.html", message=message), status


@bp.post("/emails/<email_id>/remove")
@buyer_required
def remove_email_page(email_id: str):
    """Forget one of the buyer's other emails (CSRF is checked for every POST)."""
    row = _own_email(email_id)
    remove_email(current_buyer(), row)
    db.session.commit()
    flash(_("%(email)s is no longer one of your emails.", email=row.email))
    return redirect(url_for("account.emails"))


@bp.post("/emails/<email_id>/make-primary")
@buyer_required
def make_primary_email(email_id: str):
    """Make one of the buyer's verified emails the primary."""
    row = _own_email(email_id)
    new_primary = row.email
    try:
        make_primary(current_buyer(), row)
    except EmailRefused as exc:
        return _list_page(AddEmailForm(formdata=None), error=str(REFUSALS[exc.code]),
                          status=409)
    flash(_("%(email)s is now your primary email.", email=new_primary))
    return redirect(url_for("account.emails"))
