"""The operator's commands for the money core's settings: credit packs, partial offline
payments."""

from buyflow.extensions import db
from buyflow.models import Product


def test_a_credit_pack_is_created_from_the_command_line(app, seller):
    result = app.test_cli_runner().invoke(args=[
        "products", "create", "--seller", seller.public_id, "--name", "100 stars",
        "--amount", "500", "--currency", "EUR", "--credit-amount", "100",
        "--credit-unit", "points:stars"])
    assert result.exit_code == 0, result.output
    product = db.session.scalar(db.select(Product).filter_by(public_id=result.output.strip()))
    assert (product.credit_amount, product.credit_unit) == (100, "points:stars")


def test_a_credit_pack_without_its_unit_or_with_a_bad_one_is_refused(app, seller):
    for extra in (["--credit-amount", "100"], ["--credit-amount", "100", "--credit-unit", "STARS"]):
        result = app.test_cli_runner().invoke(args=[
            "products", "create", "--seller", seller.public_id, "--name", "Pack",
            "--amount", "500", "--currency", "EUR", *extra])
        assert result.exit_code != 0 and "Error" in result.output
    assert db.session.scalar(db.select(db.func.count(Product.id))) == 0


def test_partial_offline_payments_are_a_sellers_setting(app, seller):
    result = app.test_cli_runner().invoke(args=["sellers", "allow-partial-offline",
                                                seller.public_id, "true"])
    assert result.exit_code == 0 and "allowed" in result.output
    db.session.refresh(seller)
    assert seller.allow_partial_offline is True
