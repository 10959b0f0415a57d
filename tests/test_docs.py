"""The seller's guide and the README say what the code does: every field and status the
API answers (its OpenAPI document comes from the same schemas), every setting a path or a
port of a run depends on."""

from __future__ import annotations

import re

import pytest

from buyflow import PROJECT_ROOT
from buyflow.api import schemas
from buyflow.payments.states import OrderStatus, PaymentStatus, RefundStatus
from buyflow.sellers.payloads import RESULT_FIELDS

SELLERS = (PROJECT_ROOT / "docs" / "sellers.md").read_text()
README = (PROJECT_ROOT / "README.md").read_text()
RUN_SH = (PROJECT_ROOT / "scripts" / "run.sh").read_text()


def section(text: str, heading: str) -> str:
    """The text of the ``## heading...`` section, up to the next one."""
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def named(text: str) -> set[str]:
    return set(re.findall(r"`([a-z_0-9]+)`", text))


@pytest.mark.parametrize("model", [schemas.Order, schemas.Item, schemas.Payment,
                                   schemas.Refund, schemas.RefundPart, schemas.Card])
def test_every_field_the_api_answers_is_documented(model):
    api = section(SELLERS, "5. The API")
    assert set(model.model_fields) - named(api) == set()


@pytest.mark.parametrize("statuses", [OrderStatus, PaymentStatus, RefundStatus])
def test_every_status_is_documented(statuses):
    api = section(SELLERS, "5. The API")
    assert {status.value for status in statuses} - named(api) == set()


def test_the_result_fields_are_documented():
    result = section(SELLERS, "3. The result")
    assert {"order", "iat", *RESULT_FIELDS} - named(result) == set()
    assert {"unit_amount", "amount"} <= named(result)


def test_every_answer_of_the_refund_call_is_documented(client):
    document = client.get("/api/v1/openapi.json").json
    declared = set(document["paths"]["/orders/{order_id}/refunds"]["post"]["responses"])
    api = section(SELLERS, "5. The API")
    row = next(line for line in api.splitlines()
               if line.startswith("| `POST /orders/{id}/refunds`"))
    said = set(re.findall(r"\b([1-5]\d\d)\b", row)) | set(re.findall(r"\b(40[134]|413)\b", api))
    assert declared - said == set()
    for code in ("invalid_amount", "order_not_paid", "amount_exceeds_refundable",
                 "refund_failed", "provider_unavailable"):
        assert f"`{code}`" in row


@pytest.mark.parametrize("setting", [
    "BUYFLOW_DATABASE_URL", "BUYFLOW_TASKS_SQLITE_PATH", "BUYFLOW_MAIL_FILE_PATH",
    "BUYFLOW_SECRET_KEY_FILE", "BUYFLOW_REDIS_URL", "BUYFLOW_WEBHOOK_ALLOW_PRIVATE_URLS",
    "BUYFLOW_STRIPE_API_BASE", "BUYFLOW_STRIPE_JS_URL", "LOCALSTRIPE_STORE",
    "BUYFLOW_SECRETS_KEYS", "BUYFLOW_SECRETS_KEYS_FILE", "BUYFLOW_READINESS_TIMEOUT",
    "BUYFLOW_LOG_FORMAT",
])
def test_the_readme_configuration_names_every_path_and_development_setting(setting):
    assert f"`{setting}`" in section(README, "Configuration")


def test_the_readme_names_every_variable_of_run_sh():
    variables = re.findall(r"^(\w+)=\$\{\1:-", RUN_SH, re.M)
    assert {"SERVICE_PORT", "SHOP_PORT", "STRIPE_PORT", "LOCALSTRIPE_STORE"} <= set(variables)
    assert [v for v in variables if f"`{v}`" not in README] == []


def test_the_readme_says_how_to_point_at_localstripe():
    local = section(README, "Developing against localstripe")
    for needed in ("python -m buyflow.dev.localstripe_server --port", "--keep-in",
                   "BUYFLOW_STRIPE_API_BASE", "BUYFLOW_STRIPE_JS_URL",
                   "BUYFLOW_STRIPE_SECRET_KEY", "BUYFLOW_STRIPE_PUBLISHABLE_KEY",
                   "BUYFLOW_STRIPE_WEBHOOK_SECRET", "/_config/webhooks/"):
        assert needed in local
    # The values scripts/run.sh uses.
    assert "sk_test_localstripe" in RUN_SH and "sk_test_localstripe" in local
    assert "/js.stripe.com/v3/" in RUN_SH and "/_config/webhooks/buyflow" in RUN_SH
