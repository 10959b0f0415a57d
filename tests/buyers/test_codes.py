"""One-time codes: a wrong try counts even though the caller refuses and rolls back."""

import pytest

from buyflow.buyers.codes import CodeRefused, confirm_code, issue_code
from buyflow.extensions import db

EMAIL = "ann@example.com"


def test_wrong_tries_are_kept_when_the_caller_rolls_back(app, app_context):
    issued = issue_code(EMAIL)
    db.session.commit()  # as the sign-in page does, before mailing it
    wrong = "000000" if issued.code != "000000" else "111111"
    refusals = []
    for _ in range(app.config["SIGN_IN_CODE_MAX_ATTEMPTS"]):
        with pytest.raises(CodeRefused) as refused:
            confirm_code(EMAIL, wrong)
        db.session.rollback()  # what a refusing caller's request does in the end
        refusals.append(refused.value.code)
    assert refusals[-1] == "too_many_attempts" and set(refusals[:-1]) == {"wrong_code"}
    with pytest.raises(CodeRefused, match="wrong_code"):
        confirm_code(EMAIL, issued.code)  # too late: the code is used up
