"""What the buyer is told, by stable code, in their language."""

from flask_babel import lazy_gettext as _l

from ..people.bans import REFUSAL_MESSAGE

BUYER_MESSAGES = {
    "card_declined": _l("Your card was declined. Please try another card."),
    "insufficient_funds": _l("Your card has insufficient funds. Please try another card."),
    "expired_card": _l("Your card has expired. Please try another card."),
    "invalid_expiry": _l("The expiry date is incorrect. Please check it and try again."),
    "incorrect_cvc": _l("The security code is incorrect. Please check it and try again."),
    "incorrect_number": _l("The card number is incorrect. Please check it and try again."),
    "authentication_failed": _l(
        "Your bank could not confirm this payment. Please try again or use another card."
    ),
    "processing_error": _l("The payment could not be processed. Please try again."),
    # The answer may have been lost after the provider acted: never claim nothing was
    # charged; a retry resumes the same charge under its key.
    "provider_unavailable": _l(
        "The payment service did not answer in time. Please try again in a moment: you "
        "will not be charged twice."
    ),
    "setup_incomplete": _l("Your card details could not be confirmed. Please try again."),
    "invalid_email": _l("Please enter a valid email address."),
    # Banned or blacklisted (buyflow/people/bans.py): one message whatever the rule.
    "email_refused": REFUSAL_MESSAGE,
    "unknown_seller": _l("This shop is not known to Buyflow."),
    "unknown_product": _l("This product is not available."),
    # The seller is not active (buyflow/sellers/status.py): the buyer cannot fix it.
    "seller_suspended": _l(
        "This shop cannot take payments at the moment. Nothing was charged. Please contact "
        "the shop."
    ),
    "seller_not_approved": _l(
        "This shop cannot take payments yet. Nothing was charged. Please contact the shop."
    ),
    "origin_not_allowed": _l("This website is not allowed to sell through this shop's account."),
    "flow_expired": _l("This checkout has expired. Please close it and start again."),
    "flow_invalid": _l("This checkout is not valid. Please close it and start again."),
    "already_paid": _l("This order has already been paid."),
    "order_expired": _l("This order has expired. Please go back to the shop and start again."),
    "bank_timeout": _l(
        "Your bank has not confirmed the payment yet. Please try again in a moment: you "
        "will not be charged twice."
    ),
    "payment_in_progress": _l(
        "A payment for this order is already in progress. Please wait a moment, then try "
        "again."
    ),
    "bad_request": _l("The request could not be understood."),
    "json_too_deep": _l("The request could not be understood."),
    "invalid_characters": _l(
        "Some of what was sent contains characters that cannot be used. Please check it "
        "and try again."
    ),
    "too_large": _l("What was sent is too large. Please shorten it and try again."),
    "request_invalid": _l(
        "This shop's checkout request is not valid. Please go back to the shop and try again."
    ),
    "request_expired": _l(
        "This shop's checkout request has expired. Please go back to the shop and try again."
    ),
    "wrong_code": _l("This code is not right. Check the latest email we sent and try again."),
    "expired_code": _l("This code has expired. Ask for a new one."),
    "too_many_attempts": _l("Too many wrong codes. Ask for a new one."),
    "too_many_requests": _l("Too many attempts. Please wait a few minutes and try again."),
    "card_unknown": _l("This card cannot be used. Please choose another card."),
    "insufficient_credit": _l(
        "Your credit with this shop is no longer enough for that. Please choose again."
    ),
    "card_token_expired": _l(
        "Your saved cards are no longer unlocked. Ask for a new code to use them."
    ),
    "card_token_invalid": _l("Your saved cards could not be unlocked. Ask for a new code."),
}

# The codes the flow's page may have to show without the server's words, so their
# messages travel in the page: those the card provider's adapter answers
# (static/providers/<name>.js) and those flow.js gives itself when the server's answer is
# missing, unreadable or never final. Every other refusal comes with its message.
PAGE_CODES = (
    "authentication_failed", "card_declined", "expired_card", "incorrect_cvc",
    "incorrect_number", "insufficient_funds", "invalid_expiry", "processing_error",
    "provider_unavailable", "bank_timeout",
)


def buyer_message(code: str) -> str:
    """The localized message for ``code`` (a generic one for codes we do not know)."""
    return str(BUYER_MESSAGES.get(code, BUYER_MESSAGES["processing_error"]))
