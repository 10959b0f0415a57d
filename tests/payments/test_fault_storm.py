"""Purchases (with a new card, a new card kept, a saved card) and refunds while the
provider errs, resets connections before and after acting, and stalls past every
timeout; then reconciliation, and the sellers' retries of what never had an answer:
nothing inconsistent with the provider, nothing charged or refunded twice, nothing stuck,
no Idempotency-Key left unfinished (buyflow/dev/fault_storm.py)."""

from buyflow.dev.fault_proxy import every_fault, random_plan
from buyflow.dev.fault_storm import Shop, run_storm
from tests.conftest import SELLER_ORIGIN
from tests.management.conftest import code_in

FAULTS = every_fault(stall_seconds=1.5)  # past the provider client's 1 s timeouts


def test_a_fault_storm_leaves_every_order_and_refund_true_to_the_provider(
        app, product, faulty_provider, localstripe_url, short_leases, run_queue, mailbox):
    faulty_provider.set_rule(random_plan(FAULTS, rate=0.35, seed=10))
    # Nobody retries (tries=1): what a lost answer leaves is reconciliation's to finish.
    shop = Shop(product.seller.public_id, product.public_id, SELLER_ORIGIN,
                "sk_test_northwind")

    figures = run_storm(app, shop, faulty_provider, localstripe_url, purchases=12,
                        read_code=lambda email: code_in(mailbox.last_to(email)),
                        lease_seconds=1, run_tasks=run_queue, tries=1)

    assert sum(figures.faults.values()) >= 5  # the storm did storm
    # A charge that never reached the provider, with nobody retrying, leaves its order
    # unpaid (and uncharged: that is checked as consistency below).
    assert 6 <= figures.paid <= 12
    assert figures.saved_card_purchases >= 1  # a kept card was there to pay with
    assert (figures.inconsistent, figures.double_charges, figures.double_refunds,
            figures.over_refunded, figures.stuck, figures.stuck_saved_card,
            figures.unfinished_keys) == (0, 0, 0, 0, 0, 0, 0), figures
