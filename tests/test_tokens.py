"""Signed tokens: what one purpose signed, no other purpose accepts; nothing altered or
too old is accepted."""

import pytest
from itsdangerous import BadSignature, SignatureExpired

from buyflow.tokens import signed_serializer


def test_a_token_is_read_back_by_its_own_purpose_only(app_context):
    token = signed_serializer("buyflow.test-a.v1").dumps({"order": "ord_1"})
    assert signed_serializer("buyflow.test-a.v1").loads(token, max_age=60) == {"order": "ord_1"}
    with pytest.raises(BadSignature):
        signed_serializer("buyflow.test-b.v1").loads(token, max_age=60)
    with pytest.raises(BadSignature):
        signed_serializer("buyflow.test-a.v1").loads(token[:-2] + "xx", max_age=60)


def test_an_old_token_is_refused(app_context):
    token = signed_serializer("buyflow.test-a.v1").dumps("x")
    with pytest.raises(SignatureExpired):
        signed_serializer("buyflow.test-a.v1").loads(token, max_age=-1)
