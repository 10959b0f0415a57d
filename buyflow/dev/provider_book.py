"""What the provider (localstripe) holds, read as an auditor would: with the secret key,
through Stripe's own list endpoints (the development shim's filters), never through
Buyflow's rows. For tests and benchmarks."""

from __future__ import annotations

import requests


class ProviderBook:
    """The customers, PaymentIntents and refunds at ``base`` (localstripe's URL)."""

    def __init__(self, base: str, secret_key: str = "sk_test_suite"):
        self.base = base
        self.auth = (secret_key, "")

    def _list(self, path: str, **params) -> list[dict]:
        objects, after = [], None
        while True:
            page = requests.get(f"{self.base}{path}", auth=self.auth, timeout=10,
                                params={"limit": 100, **params,
                                        **({"starting_after": after} if after else {})}).json()
            objects += page["data"]
            if not page.get("has_more") or not page["data"]:
                return objects
            after = page["data"][-1]["id"]

    def customers(self, email: str) -> list[dict]:
        """The customers the provider holds for ``email``."""
        return [c for c in self._list("/v1/customers") if c.get("email") == email]

    def all_intents(self) -> list[dict]:
        return self._list("/v1/payment_intents")

    def intents(self, order_id: str) -> list[dict]:
        """The PaymentIntents made for our order ``order_id`` (its metadata)."""
        return [i for i in self.all_intents()
                if (i.get("metadata") or {}).get("buyflow_order") == order_id]

    def succeeded(self, order_id: str) -> list[dict]:
        return [i for i in self.intents(order_id) if i["status"] == "succeeded"]

    def refunds(self, intent_id: str) -> list[dict]:
        return self._list("/v1/refunds", payment_intent=intent_id)

    def refunded(self, intent_id: str) -> int:
        return sum(r["amount"] for r in self.refunds(intent_id) if r["status"] == "succeeded")

    def flush(self) -> None:
        """Forget every object (and idempotency key), as a fresh provider account."""
        requests.delete(f"{self.base}/_config/data", timeout=10).raise_for_status()
