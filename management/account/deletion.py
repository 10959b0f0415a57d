"""Deleting one's own account, after saying what it does."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired

from buyflow.buyers.deletion import AccountDeletionRefused, delete_account
from buyflow.payments.base import PaymentError

from ..auth.sessions import buyer_required, current_buyer, sign_out
from . import bp
from .cards import PROVIDER_UNAVAILABLE


REFUSALS = {
    "last_owner": _l("You are the last owner of a seller's team. Make another member an "
                     "owner, or hand the ownership over, before deleting your account."),
    "last_operator": _l("You are the last operator of this Buyflow service. Make someone "
                        "else an operator before deleting your account."),
}


class DeleteAccountForm(FlaskForm):
    understood = BooleanField(
        _l("I understand that my account, my saved cards and my emails are deleted for good."),
        validators=[DataRequired(_l("Please tick the box to confirm."))])


@bp.route("/delete", methods=["GET", "POST"])
@buyer_required
def delete_my_account():
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            delete_account(current_buyer())
        except PaymentError:
            form.understood.errors.append(str(PROVIDER_UNAVAILABLE))
            status = 503
        except AccountDeletionRefused as exc:
            form.understood.errors.append(str(REFUSALS[exc.code]))
            status = 409
        else:
            sign_out()
            flash(_("Your account was deleted."))
            return redirect(url_for("management.home"))
    elif request.method == "POST":
        status = 400
    return render_template("account/delete.html", form=form), status
