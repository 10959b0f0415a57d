"""Card expiry dates in the development shim as in Stripe (buyflow/dev/card_expiry.py): the
fake card field's script is served corrected, and an invalid expiry is refused with
Stripe's codes, which the flow tells the buyer as an expiry error, never as a decline."""

from datetime import UTC, datetime

import pytest
import requests

from buyflow.payments.stripe import buyer_code

NOW = datetime.now(UTC)


def payment_method(localstripe_url, month, year):
    return requests.post(f"{localstripe_url}/v1/payment_methods", timeout=10,
                         headers={"Authorization": "Bearer sk_test_suite"},
                         json={"type": "card", "card": {
                             "number": "4242424242424242", "exp_month": month,
                             "exp_year": year, "cvc": "123"}})


@pytest.mark.parametrize("month, year", [("12", "2034"), ("12", "34"), (12, 2034),
                                         (NOW.month, NOW.year)])
def test_a_valid_expiry_is_taken_with_a_two_or_four_digit_year(localstripe_url, month, year):
    answer = payment_method(localstripe_url, month, year)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["card"]["exp_month"], answer.json()["card"]["exp_year"]) == (
        int(month), 2034 if str(year).endswith("34") else NOW.year)


@pytest.mark.parametrize("month, year, code", [
    ("13", "2034", "invalid_expiry_month"),
    ("0", "2034", "invalid_expiry_month"),
    ("ab", "2034", "invalid_expiry_month"),
    ("12", "202034", "invalid_expiry_year"),  # what the fake field used to send for "2034"
    ("12", str(NOW.year - 1), "invalid_expiry_year"),
    ("12", str(NOW.year + 51), "invalid_expiry_year"),
    *([(str(NOW.month - 1), str(NOW.year), "invalid_expiry_month")] if NOW.month > 1 else []),
])
def test_an_invalid_expiry_is_refused_as_stripe_refuses_it(localstripe_url, month, year,
                                                           code):
    answer = payment_method(localstripe_url, month, year)
    assert answer.status_code == 402
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("card_error", code)
    assert buyer_code(error["code"]) == "invalid_expiry"


def test_the_fake_stripe_js_is_served_with_the_corrected_card_field(localstripe_url):
    script = requests.get(f"{localstripe_url}/js.stripe.com/v3/", timeout=10)
    assert script.status_code == 200
    assert script.headers["Content-Type"].startswith("application/javascript")
    text = script.text
    assert "class Element" in text  # localstripe's own script first, whatever follows it
    assert text.rstrip().endswith("}());") and "function fullYear(typed)" in text
    assert text.index("class Element") < text.index("function fullYear(typed)")


def test_the_buyers_codes_for_stripes_errors():
    assert buyer_code("invalid_expiry_month") == buyer_code("invalid_expiry_year") == (
        "invalid_expiry")
    assert buyer_code("expired_card") == "expired_card"
    assert buyer_code("card_declined") == "card_declined"
