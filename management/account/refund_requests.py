"""Refund requests on the buyer's order page: the forms, and what a refusal tells the
buyer. The rules are buyflow.refund_requests'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from buyflow.models import Order
from buyflow.models.requests import RefundRequestStatus
from buyflow.payments.states import RefundDestination
from buyflow.refund_requests import REASON_MAX_LENGTH, current_request

from .labels import REFUND_TO

REFUSALS = {
    "order_not_refundable": _l("This order was not paid, so there is nothing to refund."),
    "already_refunded": _l("This order was already refunded in full."),
    "request_already_open": _l("You already asked for a refund of this order. The shop "
                               "has not answered yet."),
    "not_your_request": _l("This request was made from another account: only that account "
                           "can withdraw it."),
    "refund_request_not_open": _l("This request is no longer open: the shop answered it, "
                                  "or it was withdrawn."),
    "reason_required": _l("Please say why you want a refund."),
    "reason_too_long": _l("Please shorten the reason: it can be at most 1,000 characters."),
    "invalid_refund_to": _l("Please choose how you want the money back."),
}


def refusal_message(code: str) -> str:
    return str(REFUSALS[code])


class RefundRequestForm(FlaskForm):
    reason = TextAreaField(_l("Why do you want a refund?"), validators=[
        DataRequired(message=REFUSALS["reason_required"]),
        Length(max=REASON_MAX_LENGTH, message=REFUSALS["reason_too_long"])])
    # Checked below rather than by WTForms, whose "Not a valid choice" is not ours to word.
    refund_to = RadioField(
        _l("How do you want the money back?"), default=RefundDestination.SOURCE,
        choices=[SelectChoice(value, label) for value, label in REFUND_TO.items()],
        validate_choice=False)

    def validate_refund_to(self, field):
        if field.data not in REFUND_TO:
            raise ValidationError(str(REFUSALS["invalid_refund_to"]))


def last_answer(order: Order):
    """The order's newest request when it is declined and none is open: the page shows
    the shop's answer above the form to ask again."""
    if current_request(order) is None and order.refund_requests:
        newest = order.refund_requests[-1]
        if newest.status == RefundRequestStatus.DECLINED:
            return newest
    return None
