"""Purchases and refunds while the provider misbehaves: what reaches the provider twice,
what is left inconsistent or stuck (all must be 0).

    .venv/bin/python bench/faults.py 50 0.2          # 50 purchases, 20 % of money calls faulted
    .venv/bin/python bench/faults.py 50 0.2 --tries 1   # nobody retries: reconciliation finishes

Starts localstripe (with Buyflow's development shim) and a FaultProxy in front of it, and
builds the app on a fresh SQLite database (or BUYFLOW_BENCH_DATABASE_URL, emptied first)
with provider timeouts of 1 s and the SDK's retries on. Each purchase goes through the
flow's calls — of every three, one with a new card, one with a new card kept after the
mailed code, one with that saved card — and is then refunded twice through the seller
API with Idempotency-Keys; a 5xx answer is retried (``--tries`` in all) the way a buyer
and a seller would. The faults: a 500, a reset before the provider acted, a reset after
it acted, a stall past the timeout before (the request landing late) or after it, a drop
after a stall. Then the faults stop, leases run out, reconciliation runs, each refund
request never answered below 500 is sent once more, and every order, payment and refund
is compared with the provider's, the Idempotency-Keys left unfinished counted
(buyflow/dev/fault_storm.py). Prints the figures.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from buyflow import create_app  # noqa: E402
from buyflow.dev.fault_proxy import FaultProxy, every_fault, random_plan  # noqa: E402
from buyflow.dev.fault_storm import Shop, run_storm  # noqa: E402
from buyflow.extensions import db  # noqa: E402
from buyflow.models import Product, Seller, SellerApiKey  # noqa: E402
from buyflow.models.sellers import hash_api_key  # noqa: E402
from buyflow.payments.stripe import StripeProvider  # noqa: E402
from support import database_url, start_localstripe  # noqa: E402

FAULTS = every_fault(stall_seconds=1.5)  # past the provider client's 1 s timeouts
ORIGIN = "https://shop.bench.example"
API_KEY = "sk_bench_faults"


def build_app(folder: str, stripe_url: str, proxy_url: str):
    app = create_app(instance_path=folder, test_config={
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database_url(folder),
        "STRIPE_SECRET_KEY": "sk_test_suite", "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
        "STRIPE_API_BASE": proxy_url, "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
        "TASKS_IMMEDIATE": True, "MAIL_BACKEND": "locmem",
        "MONEY_CALL_LEASE_SECONDS": 1, "IDEMPOTENCY_LEASE_SECONDS": 1,
        "RECONCILE_GRACE_SECONDS": 0,
    })
    app.extensions["buyflow.payment_sources"]["stripe"] = StripeProvider(
        secret_key="sk_test_suite", publishable_key="pk_test_suite", api_base=proxy_url,
        js_url=f"{stripe_url}/js.stripe.com/v3/", max_network_retries=2,
        connect_timeout=1, read_timeout=1)
    with app.app_context():
        upgrade()
        seller = Seller(name="Bench shop", origins=[ORIGIN], signing_secrets=["bench"])
        seller.api_keys.append(SellerApiKey(key_hash=hash_api_key(API_KEY), hint="ults"))
        product = Product(seller=seller, name="Beans", description="", amount=1450,
                          currency="EUR")
        db.session.add_all([seller, product])
        db.session.commit()
        shop = Shop(seller.public_id, product.public_id, ORIGIN, API_KEY)
    return app, shop


def mailed_code(app, email: str) -> str:
    """The code in the newest mail to ``email`` (the locmem backend keeps them in order)."""
    mail = next(m for m in reversed(app.extensions["mailman"].outbox) if email in m.to)
    return re.search(r"^[ \t]+(\d{6})\s*$", mail.body, re.M).group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("purchases", type=int, nargs="?", default=50)
    parser.add_argument("rate", type=float, nargs="?", default=0.2,
                        help="share of the calls that move money to fault (0 to 1)")
    parser.add_argument("--tries", type=int, default=4,
                        help="how often a buyer or seller sends a request that got a 5xx")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    localstripe, stripe_url = start_localstripe()
    try:
        with FaultProxy(stripe_url) as proxy, tempfile.TemporaryDirectory() as folder:
            app, shop = build_app(folder, stripe_url, proxy.url)
            proxy.set_rule(random_plan(FAULTS, rate=args.rate, seed=args.seed))
            started = time.perf_counter()
            figures = run_storm(app, shop, proxy, stripe_url, purchases=args.purchases,
                                read_code=lambda email: mailed_code(app, email),
                                lease_seconds=1, tries=args.tries)
            took = time.perf_counter() - started
    finally:
        localstripe.terminate()
        localstripe.wait(10)

    faults = ", ".join(f"{kind} {n}" for kind, n in sorted(figures.faults.items()))
    print(f"{figures.purchases} purchases, {figures.refunds_asked} refunds asked, "
          f"money calls faulted at {args.rate:.0%}, {args.tries} tries each, in {took:.0f} s")
    print(f"  with a saved card:      {figures.saved_card_purchases} "
          f"({args.purchases - figures.purchases} more planned: their card was never kept)")
    print(f"  faults injected:        {sum(figures.faults.values())} ({faults or 'none'})")
    print(f"  5xx answers seen:       {figures.answers_5xx} (each retried while tries were left)")
    print(f"  orders paid:            {figures.paid} "
          f"({figures.paid_by_saved_card} by a saved card)")
    print(f"  refunds retried late:   {figures.late_retries} (after reconciliation, once)")
    print(f"  inconsistent with the provider: {figures.inconsistent}")
    print(f"  double charges:         {figures.double_charges}")
    print(f"  double refunds:         {figures.double_refunds}")
    print(f"  refunded above paid:    {figures.over_refunded}")
    print(f"  stuck rows:             {figures.stuck} "
          f"(saved-card payments among them: {figures.stuck_saved_card})")
    print(f"  keys left unfinished:   {figures.unfinished_keys}")
    sys.exit(1 if figures.failures else 0)


if __name__ == "__main__":
    main()
