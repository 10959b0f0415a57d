"""Signing in with a one-time code or link sent by email."""

import pytest

from buyflow.extensions import db
from buyflow.models import Buyer, SignInCode
from tests.management.conftest import code_in, csrf_token, link_in


def test_the_code_from_the_email_signs_in(client, ask_code, enter_code, in_app):
    message = ask_code("Ann@Example.com")
    assert "Buyflow" in message["Subject"] and code_in(message) in message["Subject"]
    response = enter_code(code_in(message))
    assert response.status_code == 302 and response.location.endswith("/account/")
    page = client.get("/account/")
    assert page.status_code == 200 and "ann@example.com" in page.text
    assert in_app(lambda: db.session.scalar(db.select(Buyer.email))) == "ann@example.com"
    hashes = in_app(lambda: db.session.execute(
        db.select(SignInCode.code_hash, SignInCode.link_hash)).one())
    assert code_in(message) not in "".join(hashes)


def test_the_email_speaks_the_browsers_language(client, mailbox):
    page = client.get("/account/sign-in", headers={"Accept-Language": "fr"})
    client.post("/account/sign-in", headers={"Accept-Language": "fr"},
                data={"email": "ann@example.com", "csrf_token": csrf_token(page.text)})
    assert "Votre code" in mailbox.last_to("ann@example.com").get_content()


def test_a_code_works_once(client, ask_code, enter_code):
    code = code_in(ask_code())
    assert enter_code(code).status_code == 302
    client.post("/account/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    with client.session_transaction() as session:
        session["sign_in_email"] = "ann@example.com"
    again = enter_code(code)
    assert again.status_code == 400 and "not right" in again.text


def test_the_link_signs_in_once(client, ask_code):
    link = link_in(ask_code()).removeprefix("http://localhost")
    assert client.get(link).status_code == 302
    assert "ann@example.com" in client.get("/account/").text
    assert client.get(link).status_code == 400


def test_a_new_code_ends_the_previous_one(ask_code, enter_code):
    first = code_in(ask_code())
    second = code_in(ask_code())
    if first != second:
        assert enter_code(first).status_code == 400
    assert enter_code(second).status_code == 302


def test_wrong_codes_then_too_many(ask_code, enter_code):
    code = code_in(ask_code())
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        response = enter_code(wrong)
        assert response.status_code == 400 and "not right" in response.text
    assert enter_code(wrong).status_code == 429
    response = enter_code(code)  # the right code no longer works either
    assert response.status_code == 400


def test_an_expired_code_is_refused(app, ask_code, enter_code, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_CODE_MAX_AGE", -1)
    response = enter_code(code_in(ask_code()))
    assert response.status_code == 400 and "expired" in response.text


def test_codes_are_rate_limited_per_email(client, ask_code):
    for _ in range(5):
        ask_code("ann@example.com")
    page = client.get("/account/sign-in")
    response = client.post("/account/sign-in", data={"email": "ann@example.com",
                                                     "csrf_token": csrf_token(page.text)})
    assert response.status_code == 429 and "Too many attempts" in response.text
    ask_code("bob@example.com")  # another email is not held back


def test_a_form_without_its_csrf_token_is_refused(client, mailbox):
    before = len(mailbox.messages)
    response = client.post("/account/sign-in", data={"email": "ann@example.com"})
    assert response.status_code in (200, 400)
    assert len(mailbox.messages) == before


@pytest.mark.parametrize("email", ["", "not-an-email", "a@"])
def test_a_bad_email_gets_a_clear_error(client, mailbox, email):
    page = client.get("/account/sign-in")
    before = len(mailbox.messages)
    response = client.post("/account/sign-in", data={"email": email,
                                                     "csrf_token": csrf_token(page.text)})
    assert response.status_code == 200 and 'role="alert"' in response.text
    assert len(mailbox.messages) == before


def test_signing_in_starts_a_new_session(client, signed_in):
    with client.session_transaction() as session:
        session["left_over"] = "from before"
    signed_in()
    with client.session_transaction() as session:
        assert "left_over" not in session and session["sid"]
        first_sid = session["sid"]
    client.post("/account/sign-out", data={"csrf_token": csrf_token(client.get("/").text)})
    assert client.get("/account/").status_code == 302
    signed_in()
    with client.session_transaction() as session:
        assert session["sid"] != first_sid


def test_sign_out_everywhere_ends_other_sessions(app, client, signed_in):
    signed_in()
    other = app.test_client()
    with client.session_transaction() as mine, other.session_transaction() as theirs:
        theirs.update(dict(mine))  # the same buyer, signed in elsewhere
    assert other.get("/account/").status_code == 200
    client.post("/account/sign-out-everywhere",
                data={"csrf_token": csrf_token(client.get("/account/").text)})
    assert other.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 302


def test_after_sign_in_the_person_goes_back_only_within_the_site(ask_code, enter_code):
    response = enter_code(code_in(ask_code(next_url="https://evil.example/steal")))
    assert response.location.endswith("/account/")
    response = enter_code(code_in(ask_code(next_url="/account/?after=x")))
    assert response.location.endswith("/account/?after=x")
