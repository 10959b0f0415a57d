"""Sellers, their keys and secrets, from the command line."""

import re

import pytest

from buyflow.extensions import db
from buyflow.models import Product, Seller
from buyflow.sellers.urls import UrlRefused, check_webhook_url, normalize_origin


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        result = runner.invoke(args=list(args))
        return result

    return run


def printed(output: str, label: str) -> str:
    return re.search(rf"^{label}:\s+(\S+)", output, re.M).group(1)


def test_create_seller_prints_its_secrets_once_and_stores_no_api_key(cli, app_context):
    result = cli("sellers", "create", "--name", "Acme", "--origin", "https://Shop.Example/",
                 "--origin", "http://localhost:8000", "--webhook-url", "http://127.0.0.1:9/hooks")
    assert result.exit_code == 0, result.output
    seller_id = printed(result.output, r"seller id \(publishable\)")
    api_key = printed(result.output, "secret API key")
    signing = printed(result.output, "signing secret")
    webhook_secret = printed(result.output, "webhook secret")
    assert api_key.startswith("sk_") and webhook_secret.startswith("whsec_")

    seller = db.session.scalar(db.select(Seller).filter_by(public_id=seller_id))
    assert seller.origins == ["http://localhost:8000", "https://shop.example"]
    assert seller.signing_secrets == [signing]
    assert api_key not in repr([k.key_hash for k in seller.api_keys])
    assert Seller.by_api_key(api_key) == seller
    assert [e.url for e in seller.webhook_endpoints] == ["http://127.0.0.1:9/hooks"]

    listing = cli("sellers", "list").output
    assert seller_id in listing and api_key not in listing and signing not in listing


@pytest.mark.parametrize("args, message", [
    (["--name", "A", "--origin", "ftp://x"], "not an http(s) origin"),
    (["--name", "A", "--origin", "https://x.example/path"], "origin only"),
    (["--name", " ", "--origin", "https://x.example"], "needs a name"),
])
def test_bad_seller_input_is_refused_and_writes_nothing(cli, app_context, args, message):
    result = cli("sellers", "create", *args)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(db.select(db.func.count(Seller.id))) == 0


def test_api_key_rotation_keeps_old_keys_until_revoked(cli, seller):
    new_key = cli("sellers", "rotate-api-key", seller.public_id).output.strip()
    assert Seller.by_api_key(new_key) == seller
    assert Seller.by_api_key("sk_test_northwind") == seller
    newest = cli("sellers", "rotate-api-key", seller.public_id, "--revoke-old").output.strip()
    db.session.expire_all()
    assert Seller.by_api_key(newest) == seller
    assert Seller.by_api_key(new_key) is None
    assert Seller.by_api_key("sk_test_northwind") is None


def test_signing_secret_rotation_then_retirement(cli, seller):
    new_secret = cli("sellers", "rotate-signing-secret", seller.public_id).output.strip()
    db.session.expire_all()
    assert seller.signing_secrets == ["sign-northwind", new_secret]
    assert "retired 1" in cli("sellers", "retire-signing-secrets", seller.public_id).output
    db.session.expire_all()
    assert seller.signing_secrets == [new_secret]


def test_unknown_seller_is_a_clear_error(cli, app_context):
    result = cli("sellers", "rotate-api-key", "sel_nope")
    assert result.exit_code != 0 and "no seller sel_nope" in result.output


def test_products_are_created_in_minor_units(cli, seller):
    result = cli("products", "create", "--seller", seller.public_id, "--name", "Beans",
                 "--amount", "1450", "--currency", "eur")
    assert result.exit_code == 0, result.output
    product = db.session.scalar(db.select(Product).filter_by(public_id=result.output.strip()))
    assert (product.amount, product.currency, product.seller_id) == (1450, "EUR", seller.id)


@pytest.mark.parametrize("amount, currency, message", [
    ("0", "EUR", "positive integer"), ("-5", "EUR", "positive integer"),
    ("100", "XYZ", "XYZ"),
])
def test_bad_products_are_refused(cli, seller, amount, currency, message):
    result = cli("products", "create", "--seller", seller.public_id, "--name", "Beans",
                 "--amount", amount, "--currency", currency)
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(db.select(db.func.count(Product.id))) == 0


def test_origins_are_normalized():
    assert normalize_origin("HTTPS://Shop.Example:8443/") == "https://shop.example:8443"


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost/hook",
                                 "http://10.0.0.5/hook", "http://[::1]/hook",
                                 "http://169.254.169.254/latest"])
def test_webhook_urls_to_private_networks_are_refused_unless_allowed(url):
    with pytest.raises(UrlRefused):
        check_webhook_url(url, allow_private=False)
    assert check_webhook_url(url, allow_private=True) == url


def test_a_refused_private_url_names_the_setting_that_allows_it_in_development():
    with pytest.raises(UrlRefused, match="BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS=true"):
        check_webhook_url("http://localhost:8000/hooks", allow_private=False)


def test_the_commands_refusing_a_local_webhook_url_say_how_to_allow_it(cli, app, seller,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    for args in (("sellers", "add-webhook", seller.public_id, "http://localhost:8000/hooks"),
                 ("sellers", "create", "--name", "Acme", "--origin", "https://shop.example",
                  "--webhook-url", "http://127.0.0.1:8000/hooks")):
        result = cli(*args)
        assert result.exit_code != 0
        assert "private, loopback or reserved address" in result.output
        assert "BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS=true" in result.output
    assert db.session.scalar(db.select(db.func.count(Seller.id))) == 1


def test_webhook_urls_with_credentials_are_refused():
    with pytest.raises(UrlRefused):
        check_webhook_url("https://user:pw@example.com/hook", allow_private=True)
