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


def test_the_first_operator_is_granted_from_the_command_line_and_never_the_last_revoked(
        app, app_context):
    from buyflow.models import AuditEntry, Buyer

    run = app.test_cli_runner().invoke
    result = run(args=["people", "grant-operator", "Boss@Example.com"])
    assert result.exit_code == 0 and "boss@example.com is now an operator" in result.output
    boss = db.session.scalar(db.select(Buyer).filter_by(email="boss@example.com"))
    assert boss.is_operator  # made: they sign in with it later
    assert run(args=["people", "grant-operator", "boss@example.com"]).output.strip() == \
        "boss@example.com is already an operator"
    refused = run(args=["people", "revoke-operator", "boss@example.com"])
    assert refused.exit_code != 0 and "last operator" in refused.output
    assert run(args=["people", "grant-operator", "second@example.com"]).exit_code == 0
    assert run(args=["people", "revoke-operator", "boss@example.com"]).exit_code == 0
    unknown = run(args=["people", "revoke-operator", "nobody@example.com"])
    assert unknown.exit_code != 0 and "nobody has the email" in unknown.output
    db.session.expire_all()
    assert [(e.action, e.actor_type) for e in db.session.scalars(
        db.select(AuditEntry).order_by(AuditEntry.id))] == [
        ("person.operator_granted", "system"), ("person.operator_granted", "system"),
        ("person.operator_revoked", "system")]


def test_a_team_is_bootstrapped_for_a_seller_made_on_the_command_line(app, seller):
    from buyflow.models import AuditEntry, Membership

    run = app.test_cli_runner().invoke
    result = run(args=["sellers", "add-member", seller.public_id, "owner@example.com"])
    assert result.exit_code == 0 and "owner@example.com is owner" in result.output
    assert run(args=["sellers", "add-member", seller.public_id, "help@example.com",
                     "--role", "support"]).exit_code == 0
    again = run(args=["sellers", "add-member", seller.public_id, "owner@example.com"])
    assert again.exit_code != 0 and "already a member" in again.output
    bad = run(args=["sellers", "add-member", seller.public_id, "x@example.com", "--role", "boss"])
    assert bad.exit_code != 0
    assert run(args=["sellers", "add-member", "sel_nope", "x@example.com"]).exit_code != 0
    db.session.expire_all()
    assert sorted(m.role for m in db.session.scalars(db.select(Membership))) == ["owner",
                                                                                 "support"]
    entry = db.session.scalar(db.select(AuditEntry).order_by(AuditEntry.id))
    assert (entry.action, entry.actor_type, entry.seller_id) == ("member.added", "system",
                                                                seller.id)


def test_the_demo_seller_has_an_owner_who_is_also_the_operator(app, app_context):
    from buyflow.models import Buyer, Membership

    for _ in range(2):  # seeding again changes nothing
        result = app.test_cli_runner().invoke(args=[
            "demo", "seed", "--origin", "http://localhost:5001", "--api-key", "sk_demo_x",
            "--signing-secret", "sign-demo"])
        assert result.exit_code == 0, result.output
    rows = db.session.execute(db.select(Buyer.email, Buyer.is_operator, Membership.role)
                              .join(Membership.person)).all()
    assert rows == [("owner@northwind.example", True, "owner")]
