"""The JSON provider every request body is read through (buyflow/web_input.py). How each
area answers a refusal is tested with the area: tests/api, tests/flow, tests/management."""

import pytest
from werkzeug.exceptions import BadRequest

from buyflow.web_input import InputRefused, nests_deeper_than


@pytest.fixture
def loads(app):
    return app.json.loads


def test_depth_is_counted_outside_strings_only():
    assert not nests_deeper_than('{"a": [1, {"b": "[[[[{{{{"}]}', 3)
    assert nests_deeper_than('{"a": [1, {"b": [2]}]}', 3)
    assert not nests_deeper_than('{"a": "\\"[[[["}', 1)  # an escaped quote ends no string


def test_json_nested_100000_deep_is_refused_without_recursing(loads):
    with pytest.raises(InputRefused) as caught:
        loads("[" * 100_000 + "]" * 100_000)
    assert caught.value.error_code == "json_too_deep"
    assert isinstance(caught.value, BadRequest) and not isinstance(caught.value, ValueError)


def test_the_depth_limit_is_configured(app, loads):
    limit = app.config["JSON_MAX_DEPTH"]
    assert loads("[" * limit + "]" * limit) is not None
    with pytest.raises(InputRefused):
        loads("[" * (limit + 1) + "]" * (limit + 1))


@pytest.mark.parametrize("body", [
    '{"reason": "a\\u0000b"}',
    '{"a\\u0000": 1}',
    '{"reason": "\\ud800"}',
    '{"reason": "\\udc00 alone"}',
    '[{"deep": ["\\ud83d"]}]',
    b'{"reason": "\\ud800"}',
])
def test_nul_and_lone_surrogates_are_refused_in_any_string_or_key(loads, body):
    with pytest.raises(InputRefused) as caught:
        loads(body)
    assert caught.value.error_code == "invalid_characters"


def test_ordinary_text_and_surrogate_pairs_pass(loads):
    assert loads('{"reason": "caf\\u00e9 \\ud83d\\ude00\\n\\t"}') == {"reason": "café 😀\n\t"}
    assert loads('{"reason": "ok"}'.encode("utf-16")) == {"reason": "ok"}


@pytest.mark.parametrize("body", ['{"amount": NaN}', '{"amount": Infinity}', "-Infinity"])
def test_nan_and_infinity_are_not_json(loads, body):
    with pytest.raises(ValueError):
        loads(body)


@pytest.mark.parametrize("body", ['{"data": "a\\u0000b"}', '{"data": "' + "x" * 100_000 + '"}'],
                         ids=["nul", "100-kb"])
def test_provider_webhook_bodies_are_left_to_their_signature_check(client, body):
    response = client.post("/webhooks/stripe", data=body, content_type="application/json",
                           headers={"Stripe-Signature": "t=1,v1=forged"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_signature"  # the view ran, and refused
