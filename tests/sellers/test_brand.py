"""A seller's brand: the accent colour and its contrast, the logo, the support contact."""

import io

import pytest
from PIL import Image

from buyflow.extensions import db
from buyflow.sellers import brand


def image_bytes(kind="PNG", size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (111, 78, 55)).save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize("first, second, ratio", [("#ffffff", "#000000", 21.0),
                                                   ("#767676", "#ffffff", 4.54),
                                                   ("#0b57d0", "#ffffff", 6.4)])
def test_contrast_ratios_are_wcags(first, second, ratio):
    assert brand.contrast_ratio(first, second) == pytest.approx(ratio, abs=0.05)
    assert brand.contrast_ratio(second, first) == pytest.approx(ratio, abs=0.05)


def test_an_accent_is_used_only_with_enough_contrast_and_gets_readable_text():
    assert brand.usable_accent("#6F4E37", "#ffffff") == brand.Accent("#6f4e37", "#ffffff")
    # Light yellow: dark text reads on it, but as a button it vanishes on white...
    assert brand.usable_accent("#ffe066", "#ffffff") is None
    # ...and stands out on a dark page, with dark text on it.
    assert brand.usable_accent("#ffe066", "#1c1d21") == brand.Accent("#ffe066", "#111111")
    # Mid grey: neither white nor dark text reaches 4.5:1 on it.
    assert brand.usable_accent("#777777", "#ffffff") is None
    assert brand.usable_accent(None, "#ffffff") is None
    assert brand.usable_accent("red", "#ffffff") is None


def test_a_bad_accent_is_refused_and_changes_nothing(seller):
    brand.set_accent(seller, "#123456")
    with pytest.raises(brand.BrandRefused, match="#rrggbb"):
        brand.set_accent(seller, "#12345g")
    assert seller.accent_color == "#123456"
    brand.set_accent(seller, "")
    assert seller.accent_color is None


@pytest.mark.parametrize("image, refusal", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not a readable"),
    (image_bytes("GIF"), "GIF"),
    (image_bytes(size=(8, 64)), "8×64"),
    (image_bytes(size=(3000, 20)), "3000×20"),
    (b"x" * (256 * 1024 + 1), "at most"),
])
def test_a_logo_that_cannot_be_shown_is_refused(seller, image, refusal):
    with pytest.raises(brand.BrandRefused, match=refusal):
        brand.set_logo(seller, image)
    assert seller.logo_digest is None


def test_the_logo_is_served_from_our_origin_cached_under_its_digest(app, client, seller):
    logo = image_bytes("JPEG")
    brand.set_logo(seller, logo)
    db.session.commit()
    with app.test_request_context():
        url = brand.logo_url(seller)
    answer = client.get(url)
    assert answer.status_code == 200 and answer.data == logo
    assert answer.mimetype == "image/jpeg"
    assert "immutable" in answer.headers["Cache-Control"]

    brand.set_logo(seller, image_bytes("PNG"))
    db.session.commit()
    assert client.get(url).status_code == 404  # the old image's URL
    brand.set_logo(seller, None)
    db.session.commit()
    with app.test_request_context():
        assert brand.logo_url(seller) is None


def test_the_support_contact_is_checked_and_tidied(seller):
    brand.set_support_contact(seller, email=" Help@Example.COM ",
                              postal_address="  Shop Ltd \r\n\n 1 High St\n")
    assert seller.support_email == "help@example.com"
    assert seller.postal_address == "Shop Ltd\n1 High St"
    with pytest.raises(brand.BrandRefused, match="email"):
        brand.set_support_contact(seller, email="not-an-email")
    with pytest.raises(brand.BrandRefused, match="500"):
        brand.set_support_contact(seller, postal_address="x" * 501)
    brand.set_support_contact(seller, email="", postal_address="")
    assert (seller.support_email, seller.postal_address) == (None, None)


def test_the_brand_is_set_from_the_command_line(app, seller, tmp_path):
    (tmp_path / "logo.png").write_bytes(image_bytes())
    result = app.test_cli_runner().invoke(args=[
        "sellers", "set-brand", seller.public_id, "--name", "Northwind Roasters",
        "--accent", "#ffe066", "--logo", str(tmp_path / "logo.png"),
        "--support-email", "help@northwind.example", "--postal-address", "1 Bean St\nLeeds"])
    assert result.exit_code == 0, result.output
    assert "too little contrast on white" in result.output
    db.session.refresh(seller)
    assert (seller.name, seller.accent_color, seller.logo_type, seller.postal_address) == (
        "Northwind Roasters", "#ffe066", "image/png", "1 Bean St\nLeeds")

    refused = app.test_cli_runner().invoke(args=["sellers", "set-brand", seller.public_id,
                                                 "--name", "Other", "--accent", "blue"])
    assert refused.exit_code != 0 and "#rrggbb" in refused.output
    db.session.refresh(seller)
    assert seller.name == "Northwind Roasters"  # nothing of a refused change is kept
