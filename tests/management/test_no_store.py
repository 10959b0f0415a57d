"""No browser cache or proxy keeps a page of a signed-in person (management/__init__.py)."""

import pytest


@pytest.mark.parametrize("url, status", [
    ("/", 200), ("/account/", 200), ("/account/cards", 200), ("/account/emails", 200),
    ("/account/delete", 200), ("/account/orders/ord_nope", 404), ("/account/?after=%00", 400),
])
def test_pages_of_a_signed_in_buyer_are_never_cached(client, signed_in, url, status):
    signed_in()
    page = client.get(url)
    assert page.status_code == status
    assert "no-store" in page.headers["Cache-Control"]


def test_the_sign_in_steps_are_never_cached(client, ask_code):
    assert client.get("/account/sign-in").headers["Cache-Control"] == "no-store"
    ask_code()
    assert client.get("/account/sign-in/code").headers["Cache-Control"] == "no-store"
