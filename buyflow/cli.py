"""Command-line tools: ``flask --app wsgi sellers|products|demo|payments|secrets|people ...``
(named in ``commands.py``, which imports this module only when one is listed or run)."""

from __future__ import annotations

from importlib.resources import files

import click

from .catalog import create_product
from .extensions import db
from .ledger.book import LedgerError
from .models import Buyer, Product, ReconciliationIssue, Seller, SellerApiKey, WebhookEndpoint
from .models.audit import SYSTEM
from .models.people import SellerRole
from .models.sellers import hash_api_key
from .sellers import accounts, brand
from .sellers.urls import UrlRefused

DEMO_SELLER_ID = "sel_demo"
DEMO_PRODUCT_ID = "prod_demo_coffee"


def _seller(public_id: str) -> Seller:
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=public_id))
    if seller is None:
        raise click.ClickException(f"no seller {public_id}")
    return seller


sellers = click.Group("sellers", help="Create sellers and manage their keys.")


@sellers.command("create")
@click.option("--name", required=True)
@click.option("--origin", "origins", multiple=True, required=True,
              help="An origin allowed to open the buy flow (repeatable).")
@click.option("--locale", default="en", show_default=True, help="The seller's default locale.")
@click.option("--webhook-url", help="Where to send the seller's webhooks.")
def create_seller_command(name, origins, locale, webhook_url):
    """Create a seller and print its ids and secrets (shown this once only)."""
    try:
        new = accounts.create_seller(name, list(origins), locale, webhook_url)
    except (UrlRefused, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"seller id (publishable): {new.seller.public_id}")
    click.echo(f"secret API key:          {new.api_key}")
    click.echo(f"signing secret:          {new.signing_secret}")
    if new.webhook:
        click.echo(f"webhook endpoint:        {new.webhook.public_id} {new.webhook.url}")
        click.echo(f"webhook secret:          {new.webhook_secret}")
    click.echo("Keep the secrets now: Buyflow will not show them again.")


@sellers.command("add-origin")
@click.argument("seller_id")
@click.argument("origins", nargs=-1, required=True)
def add_origin(seller_id, origins):
    """Let pages at ORIGINS (scheme://host[:port]) open and frame the seller's buy flow."""
    _change_origins(seller_id, add=list(origins))


@sellers.command("remove-origin")
@click.argument("seller_id")
@click.argument("origins", nargs=-1, required=True)
def remove_origin(seller_id, origins):
    """Stop pages at ORIGINS from opening the seller's buy flow (one origin must stay)."""
    _change_origins(seller_id, remove=list(origins))


def _change_origins(seller_id: str, **change) -> None:
    seller = _seller(seller_id)
    try:
        origins = accounts.set_origins(seller, **change)
    except (UrlRefused, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{seller.public_id}: origins {', '.join(origins)}")


@sellers.command("allow-partial-offline")
@click.argument("seller_id")
@click.argument("allowed", type=click.BOOL)
def allow_partial_offline(seller_id, allowed):
    """Whether offline payments recorded for this seller may be for less than is due."""
    seller = _seller(seller_id)
    seller.allow_partial_offline = allowed
    db.session.commit()
    click.echo(f"{seller.public_id}: partial offline payments {'allowed' if allowed else 'refused'}")


@sellers.command("set-brand")
@click.argument("seller_id")
@click.option("--name", help="The name buyers see on the flow, receipts and emails.")
@click.option("--accent", help="Accent colour #rrggbb (\"\" to clear); pages fall back to "
              "their own where its contrast is too low.")
@click.option("--logo", type=click.File("rb"), help="A PNG, JPEG or WebP logo, at most 256 KiB.")
@click.option("--no-logo", is_flag=True, help="Remove the logo.")
@click.option("--support-email", help="Shown on receipts (\"\" to clear).")
@click.option("--postal-address", help="Shown on receipts; lines separated by newlines "
              "(\"\" to clear).")
def set_brand(seller_id, name, accent, logo, no_logo, support_email, postal_address):
    """Set what buyers see of the seller: name, accent colour, logo, support contact."""
    seller = _seller(seller_id)
    try:
        if name is not None:
            accounts.rename_seller(seller, name)
        if accent is not None:
            brand.set_accent(seller, accent)
        if logo is not None or no_logo:
            brand.set_logo(seller, None if no_logo else logo.read())
        brand.set_support_contact(seller, email=support_email, postal_address=postal_address)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    accent_note = ("" if not seller.accent_color or brand.usable_accent(seller.accent_color,
                                                                         "#ffffff")
                   else " (too little contrast on white: pages use their own)")
    click.echo(f"{seller.public_id}: {seller.name}; accent {seller.accent_color or 'none'}"
               f"{accent_note}; logo {'set' if seller.logo_digest else 'none'}; "
               f"support {seller.support_email or 'none'}")


@sellers.command("list")
def list_sellers():
    """List sellers with their origins (secrets are never shown)."""
    for seller in db.session.scalars(db.select(Seller).order_by(Seller.id)):
        keys = ", ".join(f"sk_…{k.hint}" for k in seller.api_keys if k.revoked_at is None)
        click.echo(f"{seller.public_id}  {seller.name}  origins={','.join(seller.origins)}  "
                   f"api keys: {keys or 'none'}  signing secrets: {len(seller.signing_secrets)}")


@sellers.command("rotate-api-key")
@click.argument("seller_id")
@click.option("--revoke-old", is_flag=True, help="Revoke every other key at once.")
def rotate_api_key(seller_id, revoke_old):
    """Issue a new API key (printed once); old keys stay valid unless --revoke-old."""
    api_key = accounts.rotate_api_key(_seller(seller_id), revoke_others=revoke_old)
    db.session.commit()
    click.echo(api_key)


@sellers.command("rotate-signing-secret")
@click.argument("seller_id")
def rotate_signing_secret(seller_id):
    """Add a signing secret that signs from now on (printed once); old ones still verify."""
    secret = accounts.rotate_signing_secret(_seller(seller_id))
    db.session.commit()
    click.echo(secret)


@sellers.command("retire-signing-secrets")
@click.argument("seller_id")
def retire_signing_secrets(seller_id):
    """Keep only the newest signing secret."""
    retired = accounts.retire_signing_secrets(_seller(seller_id))
    db.session.commit()
    click.echo(f"retired {retired} secret(s)")


@sellers.command("add-webhook")
@click.argument("seller_id")
@click.argument("url")
def add_webhook(seller_id, url):
    """Send the seller's webhooks to URL too; prints the endpoint's secret once."""
    seller = _seller(seller_id)
    try:
        endpoint, secret = accounts.add_webhook_endpoint(seller, url)
    except UrlRefused as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"webhook endpoint: {endpoint.public_id} {endpoint.url}")
    click.echo(f"webhook secret:   {secret}")


@sellers.command("add-member")
@click.argument("seller_id")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in SellerRole]), default="owner",
              show_default=True)
def add_member_command(seller_id, email, role):
    """Make the person with EMAIL a member of the seller's team (bootstrapping a team for
    a seller made here); they sign in to the console with that email."""
    from .people.memberships import MembershipRefused, add_member

    seller = _seller(seller_id)
    try:
        membership = add_member(seller, _person(email, create=True), role, actor=SYSTEM)
    except MembershipRefused as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{seller.public_id}: {membership.person.email} is {membership.role}")


def _person(email: str, *, create: bool = False) -> Buyer:
    """The person whose primary or verified email is EMAIL (made when ``create`` and
    there is none: they sign in with it later)."""
    from .buyers.identity import buyer_by_email, buyer_for_email, normalized_email

    address = normalized_email(email)
    if address is None:
        raise click.ClickException(f"{email!r} is not a valid email address")
    person = buyer_for_email(address) if create else buyer_by_email(address)
    if person is None:
        raise click.ClickException(f"nobody has the email {address}")
    return person


products = click.Group("products", help="Manage sellers' catalogs.")


@products.command("create")
@click.option("--seller", "seller_id", required=True)
@click.option("--name", required=True)
@click.option("--amount", type=int, required=True, help="In minor units: 1450 is 14.50 EUR.")
@click.option("--currency", required=True)
@click.option("--description", default="")
@click.option("--credit-amount", type=int,
              help="A credit pack: the units each one bought grants (minor units, or points).")
@click.option("--credit-unit", help="The credit pack's unit: a currency, or points:<name>.")
def create_product_command(seller_id, name, amount, currency, description, credit_amount,
                           credit_unit):
    """Add a product to a seller's catalog (a credit pack with --credit-amount and
    --credit-unit) and print its id."""
    try:
        product = create_product(_seller(seller_id), name=name, amount=amount,
                                 currency=currency, description=description,
                                 credit_amount=credit_amount, credit_unit=credit_unit)
    except (ValueError, LedgerError) as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(product.public_id)


def seed_demo_data(*, origin: str, api_key: str, signing_secret: str,
                   webhook_secret: str | None = None) -> tuple[Seller, Product]:
    """Create, or bring up to date, the demo seller and its product (and, given a
    ``webhook_secret``, its webhook endpoint on the demo shop)."""
    seller = db.session.scalar(db.select(Seller).filter_by(public_id=DEMO_SELLER_ID))
    if seller is None:
        seller = Seller(public_id=DEMO_SELLER_ID)
        db.session.add(seller)
    seller.name = "Northwind Coffee"
    seller.origins = [origin]
    brand.set_accent(seller, "#6f4e37")
    brand.set_logo(seller, files("buyflow.dev").joinpath("static/demo-logo.png").read_bytes())
    brand.set_support_contact(seller, email="hello@northwind.example",
                              postal_address="Northwind Coffee GmbH\nKaffeestraße 12\n"
                                             "10115 Berlin\nGermany")
    seller.signing_secrets = [signing_secret]
    if not any(key.key_hash == hash_api_key(api_key) for key in seller.api_keys):
        seller.api_keys.append(SellerApiKey(key_hash=hash_api_key(api_key), hint=api_key[-4:]))
    if webhook_secret:
        url = f"{origin}/buyflow/webhooks"
        endpoint = next((e for e in seller.webhook_endpoints if e.url == url), None)
        if endpoint is None:
            endpoint = WebhookEndpoint(url=url)
            seller.webhook_endpoints.append(endpoint)
        endpoint.secret, endpoint.enabled, endpoint.disabled_reason = webhook_secret, True, None
    product = db.session.scalar(db.select(Product).filter_by(public_id=DEMO_PRODUCT_ID))
    if product is None:
        product = Product(public_id=DEMO_PRODUCT_ID, seller=seller)
        db.session.add(product)
    product.name = "Ethiopia Yirgacheffe, 250 g"
    product.description = "Single-origin beans, roasted this week."
    product.amount = 1450
    product.currency = "EUR"
    _seed_demo_owner(seller)
    db.session.commit()
    return seller, product


DEMO_OWNER_EMAIL = "owner@northwind.example"


def _seed_demo_owner(seller: Seller) -> None:
    """The demo seller's owner, who is also the service's operator: one person to try
    the console and the admin with (signing in by the code mailed to the instance)."""
    from .models import Buyer, Membership

    owner = db.session.scalar(db.select(Buyer).filter_by(email=DEMO_OWNER_EMAIL))
    if owner is None:
        owner = Buyer(email=DEMO_OWNER_EMAIL)
        db.session.add(owner)
    owner.is_operator = True
    db.session.flush()
    if db.session.scalar(db.select(Membership).filter_by(seller_id=seller.id,
                                                         buyer_id=owner.id)) is None:
        db.session.add(Membership(seller=seller, person=owner, role="owner"))


demo = click.Group("demo", help="Demo data for trying Buyflow locally.")


@demo.command("seed")
@click.option("--origin", required=True, help="Origin of the demo selling site.")
@click.option("--api-key", envvar="DEMO_API_KEY", required=True)
@click.option("--signing-secret", envvar="DEMO_SIGNING_SECRET", required=True)
@click.option("--webhook-secret", envvar="DEMO_WEBHOOK_SECRET")
def seed(origin: str, api_key: str, signing_secret: str, webhook_secret: str | None) -> None:
    """Create or update the demo seller and product."""
    seller, product = seed_demo_data(origin=origin, api_key=api_key,
                                     signing_secret=signing_secret,
                                     webhook_secret=webhook_secret)
    click.echo(f"demo seller {seller.public_id}, product {product.public_id}")


payments = click.Group("payments", help="Keep payments and refunds true to the provider.")


@payments.command("reconcile")
def reconcile_command() -> None:
    """Finish what crashes and lost answers left, repair what differs from the provider,
    and print what was done; exits with status 1 when issues need an operator."""
    from .payments.reconcile import reconcile

    report = reconcile()
    for name, count in report.as_dict().items():
        click.echo(f"{name.replace('_', ' ')}: {count}")
    open_issues = db.session.scalar(db.select(db.func.count(ReconciliationIssue.id)))
    click.echo(f"issues recorded in all (reconciliation_issues): {open_issues}")
    if report.issues or report.errors:
        raise SystemExit(1)


secrets_at_rest = click.Group("secrets", help="Secrets kept encrypted in the database.")


@secrets_at_rest.command("rotate")
def rotate_secrets_command() -> None:
    """Re-encrypt every secret in the database under the newest key of SECRETS_KEYS (the
    first); once it has run, the older keys may be dropped from the list."""
    from .models.encrypted import SecretsKeyError, rotate

    try:
        rewritten = rotate(db.session, db.metadata)
    except SecretsKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for table, count in rewritten.items():
        click.echo(f"{table}: {count} row(s) re-encrypted under the newest key")


people = click.Group("people", help="Who runs this service: operators.")


@people.command("grant-operator")
@click.argument("email")
def grant_operator_command(email):
    """Make the person with EMAIL an operator (made if they never signed in: the first
    operator is bootstrapped so); they sign in to /admin with that email."""
    from .people.operators import OperatorRefused, grant_operator

    person = _person(email, create=True)
    try:
        granted = grant_operator(person, actor=SYSTEM)
    except OperatorRefused as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{person.email} is {'now' if granted else 'already'} an operator")


@people.command("revoke-operator")
@click.argument("email")
def revoke_operator_command(email):
    """Make the person with EMAIL an operator no more (never the last one)."""
    from .people.operators import OperatorRefused, revoke_operator

    person = _person(email)
    try:
        revoked = revoke_operator(person, actor=SYSTEM)
    except OperatorRefused as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"{person.email} is {'no longer' if revoked else 'not'} an operator")

