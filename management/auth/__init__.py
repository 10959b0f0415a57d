"""Signing in without a password: a one-time code (or link) sent by email."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mailman import EmailMessage
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from buyflow.buyers.codes import CodeRefused, IssuedCode, confirm_code, confirm_link, issue_code
from buyflow.buyers.identity import buyer_for_email, normalized_email
from buyflow.extensions import db, limiter
from buyflow.models import Buyer, SignInCode
from buyflow.people.bans import REFUSAL_MESSAGE, refusal_for_email

from .sessions import buyer_required, current_buyer, sign_in, sign_out, sign_out_everywhere

bp = Blueprint("auth", __name__, url_prefix="/account")

REFUSALS = {
    "wrong_code": _l("This code is not right. Check the latest email we sent and try again."),
    "expired_code": _l("This code has expired. Ask for a new one."),
    "too_many_attempts": _l("Too many wrong codes. Ask for a new one."),
    "email_refused": REFUSAL_MESSAGE,  # banned or blacklisted (buyflow/people/bans.py)
    "account_deactivated": _l("This account has been deactivated by the operators of this "
                              "service, so it cannot sign in. Contact them if you think this "
                              "is a mistake."),
}


class EmailForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=320)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(min=6, max=6)])


def _email_being_signed_in() -> str:
    return normalized_email(request.form.get("email", "")) or request.remote_addr or ""


def _next_url() -> str:
    """Where to go after signing in: only a path on this site, never elsewhere."""
    target = request.args.get("next") or session.get("sign_in_next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("account.purchases")
    return target


def _signed_in_buyer(code: SignInCode) -> Buyer:
    """The buyer whose email ``code`` was sent to, made on first sign-in; the code is
    used up in the same transaction."""
    if refusal_for_email(code.email):  # banned since the code was sent
        db.session.commit()  # the code is used up all the same
        raise CodeRefused("email_refused", http_status=403)
    buyer = buyer_for_email(code.email)
    code.buyer_id = buyer.id
    db.session.commit()
    if buyer.deactivated_at is not None:  # the code is used up all the same
        raise CodeRefused("account_deactivated", http_status=403)
    return buyer


def send_code_mail(email: str, issued: IssuedCode, subject: str, template: str,
                   link_endpoint: str) -> None:
    """Mail ``issued``'s code and its link (to ``link_endpoint``) to ``email``."""
    link = url_for(link_endpoint, token=issued.link_token, _external=True)
    EmailMessage(
        subject=subject,
        body=render_template(template, code=issued.code, link=link,
                             minutes=current_app.config["SIGN_IN_CODE_MAX_AGE"] // 60),
        to=[email],
    ).send()


def send_sign_in_mail(email: str, issued: IssuedCode) -> None:
    send_code_mail(email, issued, _("Your Buyflow sign-in code: %(code)s", code=issued.code),
                   "email/sign_in_code.txt", "auth.follow_link")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_email_being_signed_in)
def sign_in_page():
    """Ask for an email; send it a code and a link."""
    form = EmailForm()
    status = 200
    if form.validate_on_submit():
        email = normalized_email(form.email.data)
        if email is None:
            form.email.errors.append(_("Please enter a valid email address."))
        elif refusal_for_email(email):  # no code goes to a banned email
            form.email.errors.append(str(REFUSAL_MESSAGE))
            status = 403
        else:
            issued = issue_code(email)
            db.session.commit()  # the code, before it is mailed
            send_sign_in_mail(email, issued)
            session["sign_in_email"] = email
            session["sign_in_next"] = _next_url()
            return redirect(url_for("auth.enter_code"))
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_IP"], methods=["POST"])
def enter_code():
    """Take the code sent to the email given just before."""
    email = session.get("sign_in_email")
    if not email:
        return redirect(url_for("auth.sign_in_page"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            buyer = _signed_in_buyer(confirm_code(email, form.code.data))
        except CodeRefused as exc:
            form.code.errors.append(str(REFUSALS[exc.code]))
            status = 429 if exc.code == "too_many_attempts" else exc.http_status
        else:
            target = _next_url()
            sign_in(buyer)
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("auth/enter_code.html", form=form, email=email), status


@bp.get("/sign-in/link/<token>")
def follow_link(token: str):
    """The link in the email signs in too, once."""
    try:
        buyer = _signed_in_buyer(confirm_link(token))
    except CodeRefused as exc:
        return render_template("auth/link_refused.html", message=REFUSALS[exc.code]), \
            exc.http_status
    sign_in(buyer)
    return redirect(url_for("account.purchases"))


@bp.post("/sign-out")
def sign_out_page():
    sign_out()
    return redirect(url_for("auth.sign_in_page"))


@bp.post("/sign-out-everywhere")
@buyer_required
def sign_out_everywhere_page():
    sign_out_everywhere(current_buyer())
    return redirect(url_for("auth.sign_in_page"))
