"""Production headers and cookies: what turns on when the service runs on https
(buyflow/security.py, the HTTPS setting), and what stays cacheable."""

import pytest

from buyflow import create_app
from tests.conftest import SELLER_ORIGIN, page_data

TWO_YEARS = 2 * 365 * 24 * 60 * 60

SHARED_SETTINGS = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "STRIPE_SECRET_KEY",
                   "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE", "STRIPE_JS_URL",
                   "STRIPE_MAX_NETWORK_RETRIES", "REDIS_URL", "MAIL_BACKEND", "MAIL_SERVER",
                   "MAIL_PORT", "SECRETS_KEYS")


def app_with(app, tmp_path, **settings):
    """Another app on the suite's database and localstripe, with ``settings``."""
    return create_app(instance_path=str(tmp_path), test_config={
        **{name: app.config[name] for name in SHARED_SETTINGS}, **settings})


@pytest.fixture
def https_client(app, tmp_path):
    return app_with(app, tmp_path, PUBLIC_URL="https://pay.example.com").test_client()


def test_on_https_every_response_asks_for_https_for_two_years(https_client, product):
    flow = https_client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN})
    responses = [https_client.get("/"), https_client.get("/account/sign-in"), flow,
                 https_client.get("/api/v1/openapi.json"), https_client.get("/embed/v1/buyflow.js"),
                 https_client.get("/nowhere"), https_client.get("/api/v1/orders")]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 404, 401]
    for response in responses:
        assert response.headers["Strict-Transport-Security"] == (
            f"max-age={TWO_YEARS}; includeSubDomains")


def test_on_https_the_session_cookie_is_secure(https_client):
    page = https_client.get("/account/sign-in")  # its form's CSRF token starts a session
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "Secure" in cookie and "HttpOnly" in cookie


def test_on_http_neither(client):
    page = client.get("/account/sign-in")
    assert "Strict-Transport-Security" not in page.headers
    assert "Secure" not in page.headers["Set-Cookie"]


@pytest.mark.parametrize("settings, on", [
    ({"PUBLIC_URL": "https://pay.example.com", "HTTPS": False}, False),
    ({"PUBLIC_URL": "http://127.0.0.1:5000", "HTTPS": True}, True),
])
def test_https_can_be_set_explicitly(app, tmp_path, settings, on):
    response = app_with(app, tmp_path, **settings).test_client().get("/account/sign-in")
    assert ("Strict-Transport-Security" in response.headers) is on
    assert ("Secure" in response.headers["Set-Cookie"]) is on


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_buy_flow_sets_no_cookie(client, https_client, product, scheme):
    flow_client = https_client if scheme == "https" else client
    page = flow_client.get("/flow/", query_string={
        "seller": product.seller.public_id, "product": product.public_id,
        "origin": SELLER_ORIGIN})
    call = flow_client.post("/flow/api/checkout", json={"flow": page_data(page.text)["flow"],
                                                         "email": "ann@example.com"})
    refused = flow_client.get("/flow/?seller=%00")
    assert (page.status_code, call.status_code, refused.status_code) == (200, 200, 400)
    for response in (page, call, refused):
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_sign_in_pages_are_never_cached(client, https_client, scheme):
    """(Pages of signed-in people: tests/management/test_no_store.py.)"""
    page = (https_client if scheme == "https" else client).get("/account/sign-in")
    assert page.headers["Cache-Control"] == "no-store"


def test_what_anyone_may_cache_stays_cacheable(client):
    assert "no-store" not in client.get("/management/static/site.css").headers.get(
        "Cache-Control", "")
    assert client.get("/embed/v1/buyflow.js").headers["Cache-Control"] == "public, max-age=300"
