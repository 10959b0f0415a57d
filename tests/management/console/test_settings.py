"""The console's Settings: default language, currencies, the brand (name, accent colour
checked for contrast, logo), the support contact and offline payments — each change
audited with what it was, bad input refused with its reason and nothing saved."""

from __future__ import annotations

import html
import io

import pytest
from PIL import Image

from buyflow.buyers.identity import buyer_for_email
from buyflow.extensions import db
from buyflow.models import AuditEntry, Order, Product, Seller
from buyflow.sellers import brand
from tests.management.conftest import form_post


def base(team) -> str:
    return f"/console/{team.northwind}/settings"


def seller(in_app, team) -> Seller:
    return in_app(lambda: db.session.scalar(db.select(Seller).filter_by(
        public_id=team.northwind)))


def audited(in_app, action: str) -> list[AuditEntry]:
    return in_app(lambda: db.session.scalars(
        db.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)).all())


def image_bytes(kind="PNG", size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (111, 78, 55)).save(out, kind)
    return out.getvalue()


@pytest.fixture
def admin(team, as_person):
    as_person(team.emails["admin"])
    return team


def test_the_page_shows_every_setting(client, admin):
    page = client.get(base(admin))
    assert page.status_code == 200
    for text in ("Default language", "Currencies", "Name buyers see", "Accent colour",
                 "Logo", "Support email", "Postal address", "Instructions for paying offline",
                 "Allow offline payments for less than is due"):
        assert text in html.unescape(page.text)
    assert 'type="color"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert "Français" in page.text and "Swiss Franc" in page.text


def test_language_and_currencies_are_saved_and_audited(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/general", {
        "general-default_locale": "de", "general-currencies": ["EUR", "CHF"]})
    assert response.status_code == 303
    shop = seller(in_app, admin)
    assert (shop.default_locale, shop.currencies) == ("de", ["CHF", "EUR"])
    [entry] = audited(in_app, "settings.updated")
    assert entry.before == {"default_locale": "en", "currencies": []}
    assert entry.after == {"default_locale": "de", "currencies": ["CHF", "EUR"]}
    # The product form now offers only these.
    new_product = client.get(f"/console/{admin.northwind}/products/new").text
    assert 'value="CHF"' in new_product and 'value="USD"' not in new_product


@pytest.mark.parametrize("data", [
    {"general-default_locale": "xx"},
    {"general-default_locale": "en", "general-currencies": ["EUR", "XYZ"]},
])
def test_an_unknown_language_or_currency_is_refused(client, admin, in_app, data):
    response = form_post(client, f"{base(admin)}/general", data)
    assert response.status_code == 400 and "Nothing was saved" in response.text
    assert seller(in_app, admin).currencies == []
    assert audited(in_app, "settings.updated") == []


def test_saving_what_is_already_there_writes_nothing(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/general", {"general-default_locale": "en"})
    assert response.status_code == 303
    assert "Nothing changed" in client.get(response.location).text
    assert audited(in_app, "settings.updated") == []


def test_the_name_and_a_readable_accent_are_saved(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/brand", {
        "brand-name": "Northwind Roasters", "brand-use_accent": "y",
        "brand-accent": "#6F4E37"})
    assert response.status_code == 303
    shop = seller(in_app, admin)
    assert (shop.name, shop.accent_color) == ("Northwind Roasters", "#6f4e37")
    [entry] = audited(in_app, "settings.updated")
    assert entry.before == {"name": "Northwind Coffee", "accent_color": None}
    assert entry.after == {"name": "Northwind Roasters", "accent_color": "#6f4e37"}
    assert "data:image/svg+xml" in client.get(base(admin)).text  # the colour, shown


@pytest.mark.parametrize("colour, reason", [
    ("#ffe066", "too light to stand out on a white page"),
    ("#777777", "Text on this colour would be hard to read"),
    ("red", "#rrggbb"),
])
def test_an_accent_without_enough_contrast_is_refused_with_its_reason(client, admin, in_app,
                                                                      colour, reason):
    response = form_post(client, f"{base(admin)}/brand", {
        "brand-name": "Northwind Coffee", "brand-use_accent": "y", "brand-accent": colour})
    assert response.status_code == 400
    assert reason in html.unescape(response.text)
    assert seller(in_app, admin).accent_color is None


def test_an_accent_that_fails_only_in_dark_mode_is_kept_with_a_note(client, admin, in_app):
    colour = "#1a1a80"  # dark blue: fine on white, too dark on the dark panel
    assert brand.usable_accent(colour, "#1b1c1f") is None
    response = form_post(client, f"{base(admin)}/brand", {
        "brand-name": "Northwind Coffee", "brand-use_accent": "y", "brand-accent": colour})
    assert response.status_code == 303
    assert "In dark mode" in html.unescape(client.get(response.location).text)
    assert seller(in_app, admin).accent_color == colour


def test_unticking_the_accent_clears_it(client, admin, in_app):
    in_app(lambda: (brand.set_accent(db.session.scalar(db.select(Seller).filter_by(
        public_id=admin.northwind)), "#6f4e37"), db.session.commit()))
    form_post(client, f"{base(admin)}/brand", {"brand-name": "Northwind Coffee",
                                                "brand-accent": "#6f4e37"})
    assert seller(in_app, admin).accent_color is None


def test_a_blank_name_is_refused(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/brand", {"brand-name": "  "})
    assert response.status_code == 400 and 'aria-invalid="true"' in response.text
    assert seller(in_app, admin).name == "Northwind Coffee"


def test_a_logo_is_uploaded_then_removed_each_change_audited(client, admin, in_app):
    png = image_bytes()
    response = form_post(client, f"{base(admin)}/logo",
                         {"logo-logo": (io.BytesIO(png), "logo.png")},
                         content_type="multipart/form-data")
    assert response.status_code == 303
    shop = seller(in_app, admin)
    assert shop.logo_type == "image/png" and shop.logo_digest
    assert f"/{shop.logo_digest}" in client.get(base(admin)).text
    assert form_post(client, f"{base(admin)}/logo/remove").status_code == 303
    assert seller(in_app, admin).logo_digest is None
    entries = audited(in_app, "brand.logo_changed")
    assert [e.after["logo_digest"] for e in entries] == [shop.logo_digest, None]
    assert entries[0].before == {"logo_digest": None}


@pytest.mark.parametrize("upload", [
    b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",  # not a raster image
    image_bytes("GIF"),
    image_bytes(size=(8, 8)),
    image_bytes("BMP", size=(320, 320)),  # larger than 256 KiB
])
def test_a_logo_that_cannot_be_used_is_refused_in_words(client, admin, in_app, upload):
    response = form_post(client, f"{base(admin)}/logo",
                         {"logo-logo": (io.BytesIO(upload), "logo")},
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert "PNG, JPEG or WebP, at most 256 KiB" in html.unescape(response.text)
    assert seller(in_app, admin).logo_digest is None
    assert audited(in_app, "brand.logo_changed") == []


def test_an_upload_without_a_file_is_refused(client, admin):
    response = form_post(client, f"{base(admin)}/logo", {},
                         content_type="multipart/form-data")
    assert response.status_code == 400 and "Choose an image file." in response.text


def test_the_support_contact_is_saved_and_a_bad_email_refused(client, admin, in_app):
    refused = form_post(client, f"{base(admin)}/support", {
        "support-support_email": "not an email", "support-postal_address": "Here"})
    assert refused.status_code == 400
    assert seller(in_app, admin).postal_address is None
    response = form_post(client, f"{base(admin)}/support", {
        "support-support_email": "Help@Northwind-Coffee.com",
        "support-postal_address": "Northwind Coffee\r\n\r\nKaffeestraße 12\r\n10115 Berlin"})
    assert response.status_code == 303
    shop = seller(in_app, admin)
    assert shop.support_email == "help@northwind-coffee.com"
    assert shop.postal_address == "Northwind Coffee\nKaffeestraße 12\n10115 Berlin"
    [entry] = audited(in_app, "settings.updated")
    assert entry.after["support_email"] == "help@northwind-coffee.com"


def test_an_address_too_long_is_refused(client, admin, in_app):
    response = form_post(client, f"{base(admin)}/support", {
        "support-postal_address": "x" * (brand.MAX_ADDRESS_CHARS + 1)})
    assert response.status_code == 400
    assert seller(in_app, admin).postal_address is None


def test_offline_instructions_are_shown_to_buyers_of_unpaid_orders(client, admin, in_app,
                                                                  as_person):
    response = form_post(client, f"{base(admin)}/payments", {
        "payments-offline_instructions": "IBAN DE89 3704 0044 0532 0130 00\r\nRef: <order>",
        "payments-allow_partial_offline": "y"})
    assert response.status_code == 303
    shop = seller(in_app, admin)
    assert shop.allow_partial_offline is True
    assert shop.offline_instructions == "IBAN DE89 3704 0044 0532 0130 00\nRef: <order>"
    [entry] = audited(in_app, "settings.updated")
    assert entry.before == {"offline_instructions": None, "allow_partial_offline": False}

    def orders():
        shop = db.session.scalar(db.select(Seller).filter_by(public_id=admin.northwind))
        made = {}
        for status in ("pending", "paid"):
            order = Order(seller=shop, buyer=buyer_for_email(admin.buyer),
                          buyer_email=admin.buyer, checkout_key=f"offline-{status}",
                          status=status, amount=1450, currency="EUR")
            db.session.add(order)
            db.session.flush()
            made[status] = order.public_id
        db.session.commit()
        return made
    made = in_app(orders)
    as_person(admin.buyer)
    unpaid = client.get(f"/account/orders/{made['pending']}").text
    assert "How to pay offline" in unpaid and "IBAN DE89" in unpaid
    assert "Ref: &lt;order&gt;" in unpaid  # the seller's text, never markup
    assert "How to pay offline" not in client.get(f"/account/orders/{made['paid']}").text


def test_a_post_without_the_csrf_token_is_refused(client, admin, in_app):
    response = client.post(f"{base(admin)}/payments",
                           data={"payments-offline_instructions": "Pay me"})
    assert response.status_code == 400
    assert seller(in_app, admin).offline_instructions is None


@pytest.mark.parametrize("role", ["support", "viewer"])
def test_only_owners_and_admins_see_settings(client, team, as_person, role):
    as_person(team.emails[role])
    assert client.get(base(team)).status_code == 403
    assert form_post(client, f"{base(team)}/payments", {}).status_code == 403


def test_changing_currencies_keeps_the_products_currency(client, admin, in_app):
    def product():
        shop = db.session.scalar(db.select(Seller).filter_by(public_id=admin.northwind))
        item = Product(seller=shop, name="Beans", amount=1450, currency="USD")
        db.session.add(item)
        db.session.commit()
        return item.public_id
    product_id = in_app(product)
    form_post(client, f"{base(admin)}/general", {"general-default_locale": "en",
                                                  "general-currencies": ["EUR"]})
    edit = client.get(f"/console/{admin.northwind}/products/{product_id}").text
    assert 'value="USD"' in edit  # its own currency stays possible
    response = form_post(client, f"/console/{admin.northwind}/products/{product_id}", {
        "name": "Beans", "price": "15", "currency": "USD"})
    assert response.status_code == 303


def test_an_upload_beyond_the_limit_is_refused_before_it_is_read(client, admin, in_app):
    from management.console.settings import LOGO_BODY_LIMIT

    response = form_post(client, f"{base(admin)}/logo",
                         {"logo-logo": (io.BytesIO(b"x" * LOGO_BODY_LIMIT), "logo.png")},
                         content_type="multipart/form-data")
    assert response.status_code == 413
    assert seller(in_app, admin).logo_digest is None
    # Other forms keep the service's own limit.
    big = form_post(client, f"{base(admin)}/payments",
                    {"payments-offline_instructions": "x" * 70_000})
    assert big.status_code == 413
