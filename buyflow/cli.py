"""Command-line tools: ``flask --app wsgi demo seed``."""

from __future__ import annotations

import click
from flask import Flask

from .extensions import db
from .models import Product, Seller
from .models.sellers import hash_api_key

DEMO_SELLER_ID = "sel_demo"
DEMO_PRODUCT_ID = "prod_demo_coffee"


def seed_demo_data(*, origin: str, api_key: str, signing_secret: str) -> tuple[Seller, Product]:
    """Create, or bring up to date, the demo seller and its product."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=DEMO_SELLER_ID))
    if seller is None:
        seller = Seller(public_id=DEMO_SELLER_ID)
        db.session.add(seller)
    seller.name = "Northwind Coffee"
    seller.origins = [origin]
    seller.signing_secrets = [signing_secret]
    seller.api_key_hash = hash_api_key(api_key)
    product = db.session.scalar(db.select(Product).filter_by(public_id=DEMO_PRODUCT_ID))
    if product is None:
        product = Product(public_id=DEMO_PRODUCT_ID, seller=seller)
        db.session.add(product)
    product.name = "Ethiopia Yirgacheffe, 250 g"
    product.description = "Single-origin beans, roasted this week."
    product.amount = 1450
    product.currency = "EUR"
    db.session.commit()
    return seller, product


def init_app(app: Flask) -> None:
    demo = click.Group("demo", help="Demo data for trying Buyflow locally.")

    @demo.command("seed")
    @click.option("--origin", required=True, help="Origin of the demo selling site.")
    @click.option("--api-key", envvar="DEMO_API_KEY", required=True)
    @click.option("--signing-secret", envvar="DEMO_SIGNING_SECRET", required=True)
    def seed(origin: str, api_key: str, signing_secret: str) -> None:
        """Create or update the demo seller and product."""
        seller, product = seed_demo_data(origin=origin, api_key=api_key,
                                         signing_secret=signing_secret)
        click.echo(f"demo seller {seller.public_id}, product {product.public_id}")

    app.cli.add_command(demo)
