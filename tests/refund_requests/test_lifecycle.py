"""Refund requests: open → refunded / declined / withdrawn, one open per order, asked again
after a decline; each change with its audit entry and webhook, each refusal with a
stable code and nothing written."""

from contextlib import contextmanager

import pytest
from sqlalchemy.exc import IntegrityError

from buyflow.extensions import db
from buyflow.models import AuditEntry, Buyer, Order, RefundRequest, WebhookEvent
from buyflow.models.audit import SYSTEM, Actor, ActorType
from buyflow.refund_requests import (
    RefundRequestRefused,
    decline,
    mark_refunded,
    open_request,
    refusal_to_ask,
    request_of_seller,
    requests_of_seller,
    withdraw,
)
from tests.conftest import at_once
from tests.refund_requests.conftest import make_order, succeeded_refund


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count(model.id)))


def written() -> tuple[int, int, int]:
    return count(RefundRequest), count(AuditEntry), count(WebhookEvent)


def events() -> list[tuple[str, dict]]:
    return [(e.type, e.data["refund_request"]) for e in
            db.session.scalars(db.select(WebhookEvent).order_by(WebhookEvent.id))]


@contextmanager
def refused(code: str):
    """Expect a refusal with ``code``; yields pytest's ExceptionInfo."""
    with pytest.raises(RefundRequestRefused) as caught:
        yield caught
    assert caught.value.code == code


def api_key_of(seller) -> Actor:
    return Actor.api_key(seller.api_keys[0])


def test_asking_records_the_request_its_audit_entry_and_the_webhook(people):
    request = open_request(people.ann_order, people.ann, "  The bag arrived torn. ", "credit")
    db.session.commit()

    assert (request.status, request.reason, request.refund_to, request.buyer_id) == (
        "open", "The bag arrived torn.", "credit", people.ann.id)
    [entry] = db.session.scalars(db.select(AuditEntry)).all()
    assert (entry.action, entry.subject, entry.buyer_id, entry.actor) == (
        "refund.requested", request.public_id, people.ann.id, Actor.buyer(people.ann))
    assert entry.detail == {"order": people.ann_order.public_id, "refund_to": "credit"}
    [(event_type, data)] = events()
    assert event_type == "refund.requested"
    assert data["id"] == request.public_id and data["order"] == people.ann_order.public_id
    assert (data["status"], data["reason"], data["refund_to"]) == (
        "open", "The bag arrived torn.", "credit")


def test_the_money_goes_back_to_its_source_unless_the_buyer_asks_for_credit(people):
    assert open_request(people.ann_order, people.ann, "Torn").refund_to == "source"


def test_nothing_is_kept_unless_the_caller_commits(people):
    open_request(people.ann_order, people.ann, "Torn")
    db.session.rollback()
    assert written() == (0, 0, 0)


def test_one_open_request_per_order_and_another_once_it_was_declined(people):
    first = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    with refused("request_already_open"):
        open_request(people.ann_order, people.ann, "Please")
    db.session.rollback()
    assert refusal_to_ask(people.ann_order) == "request_already_open"

    decline(first, "Opened and used.", api_key_of(people.seller))
    db.session.commit()
    assert refusal_to_ask(people.ann_order) is None
    second = open_request(people.ann_order, people.ann, "It was torn on arrival.")
    db.session.commit()
    assert [(r.public_id, r.status) for r in people.ann_order.refund_requests] == [
        (first.public_id, "declined"), (second.public_id, "open")]


def test_the_database_refuses_a_second_open_request_written_past_the_lifecycle(people):
    open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    db.session.add(RefundRequest(order=people.ann_order, buyer_id=people.ann.id, reason="Again"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert count(RefundRequest) == 1


@pytest.mark.parametrize(("status", "code"), [("pending", "order_not_refundable"),
                                              ("expired", "order_not_refundable"),
                                              ("refunded", "already_refunded")])
def test_no_request_for_an_order_not_paid_or_refunded_in_full(people, status, code):
    order = make_order(people.seller, people.ann, status=status)
    with refused(code):
        open_request(order, people.ann, "Refund me")
    db.session.rollback()
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(("reason", "refund_to", "code"), [
    ("", "source", "reason_required"),
    (" \n\t ", "source", "reason_required"),
    (None, "source", "reason_required"),
    ("x" * 1001, "source", "reason_too_long"),
    ("Torn", "card", "invalid_refund_to"),
    ("Torn", "", "invalid_refund_to"),
])
def test_bad_input_is_refused_and_writes_nothing(people, reason, refund_to, code):
    with refused(code) as caught:
        open_request(people.ann_order, people.ann, reason, refund_to)
    assert caught.value.http_status == 400 and caught.value.message
    db.session.rollback()
    assert written() == (0, 0, 0)


def test_a_reason_of_exactly_the_longest_length_is_taken(people):
    assert len(open_request(people.ann_order, people.ann, "x" * 1000).reason) == 1000


def test_nobody_asks_for_a_refund_of_an_order_bought_with_another_email(people):
    with refused("not_your_order"):
        open_request(people.bob_order, people.ann, "Mine now")
    db.session.rollback()
    assert written() == (0, 0, 0)


def test_the_buyer_withdraws_their_open_request(people):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    withdraw(request, people.ann)
    db.session.commit()

    assert request.status == "withdrawn" and request.closed_at is not None
    entry = db.session.scalar(
        db.select(AuditEntry).filter_by(action="refund_request.withdrawn"))
    assert (entry.subject, entry.actor) == (request.public_id, Actor.buyer(people.ann))
    assert [(t, d["status"]) for t, d in events()] == [
        ("refund.requested", "open"), ("refund_request.withdrawn", "withdrawn")]
    assert refusal_to_ask(people.ann_order) is None  # they may ask again

    with refused("refund_request_not_open"):
        withdraw(request, people.ann)


def test_nobody_withdraws_someone_elses_request(people):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    before = written()
    with refused("not_your_request") as caught:
        withdraw(request, people.bob)
    assert caught.value.http_status == 403
    db.session.rollback()
    assert written() == before and request.status == "open"


def test_the_seller_declines_with_a_reason_recorded_as_its_api_keys_doing(people):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    declined = decline(request, "  The seal was broken. ", api_key_of(people.seller))
    db.session.commit()

    assert (declined.status, declined.decline_reason) == ("declined", "The seal was broken.")
    assert declined.closed_at is not None
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="refund_request.declined"))
    assert entry.buyer_id == people.ann.id  # whose data it is
    assert (entry.actor_type, entry.actor_id) == (
        ActorType.API_KEY, str(people.seller.api_keys[0].id))
    event_type, data = events()[-1]
    assert event_type == "refund_request.declined"
    assert (data["status"], data["decline_reason"]) == ("declined", "The seal was broken.")


@pytest.mark.parametrize(("reason", "code"), [("", "reason_required"),
                                              ("   ", "reason_required"),
                                              ("x" * 1001, "reason_too_long")])
def test_a_decline_needs_a_reason_of_at_most_1000_characters(people, reason, code):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    before = written()
    with refused(code):
        decline(request, reason, api_key_of(people.seller))
    db.session.rollback()
    assert written() == before and request.status == "open"


@pytest.mark.parametrize(("end", "code"), [("withdrawn", "refund_request_not_open"),
                                           ("declined", "refund_request_not_open"),
                                           ("refunded", "already_refunded")])
def test_a_request_that_ended_cannot_be_declined(people, end, code):
    request = open_request(people.ann_order, people.ann, "Torn")
    if end == "withdrawn":
        withdraw(request, people.ann)
    elif end == "declined":
        decline(request, "No.", api_key_of(people.seller))
    else:
        mark_refunded(people.ann_order, succeeded_refund(people.ann_order))
    db.session.commit()
    before = written()
    with refused(code) as caught:
        decline(request, "No, again.", api_key_of(people.seller))
    assert caught.value.http_status == 409
    db.session.rollback()
    assert written() == before and request.status == end


def test_a_succeeded_refund_closes_the_open_request(people):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    refund = succeeded_refund(people.ann_order)
    assert mark_refunded(people.ann_order, refund) == request
    db.session.commit()

    assert (request.status, request.refund_id) == ("refunded", refund.id)
    assert request.closed_at is not None
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="refund_request.refunded"))
    assert (entry.buyer_id, entry.actor) == (people.ann.id, SYSTEM)
    assert entry.detail == {"order": people.ann_order.public_id, "refund": refund.public_id}

    # Told twice (a replayed event), or with nothing open: nothing more happens.
    assert mark_refunded(people.ann_order, refund) is None
    assert count(AuditEntry) == 2


def test_a_refund_closes_nothing_when_no_request_is_open(people):
    assert mark_refunded(people.ann_order, succeeded_refund(people.ann_order)) is None
    assert written() == (0, 0, 0)


def test_giving_back_an_overpayment_answers_no_request(people):
    request = open_request(people.ann_order, people.ann, "Torn")
    refund = succeeded_refund(people.ann_order, kind="overpayment")
    assert mark_refunded(people.ann_order, refund) is None
    assert request.status == "open"


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_only_a_succeeded_refund_of_the_order_closes_a_request(people, status):
    open_request(people.ann_order, people.ann, "Torn")
    with pytest.raises(ValueError):
        mark_refunded(people.ann_order, succeeded_refund(people.ann_order, status=status))
    with pytest.raises(ValueError):
        mark_refunded(people.ann_order, succeeded_refund(people.bob_order))


def test_after_a_partial_refund_the_buyer_may_ask_again_but_not_after_a_full_one(people):
    open_request(people.ann_order, people.ann, "Two bags were torn")
    mark_refunded(people.ann_order, succeeded_refund(people.ann_order))
    people.ann_order.status = "partially_refunded"
    db.session.commit()
    assert refusal_to_ask(people.ann_order) is None

    people.ann_order.status = "refunded"
    db.session.commit()
    with refused("already_refunded"):
        open_request(people.ann_order, people.ann, "The rest")


def test_a_seller_lists_its_requests_newest_first_a_page_at_a_time(people, other_seller):
    orders = [make_order(people.seller, people.ann) for _ in range(4)]
    asked = [open_request(order, people.ann, f"Reason {i}") for i, order in enumerate(orders)]
    decline(asked[1], "No.", api_key_of(people.seller))
    theirs = make_order(other_seller, people.ann)
    open_request(theirs, people.ann, "Elsewhere")
    db.session.commit()

    first = requests_of_seller(people.seller, limit=3)
    assert [r.reason for r in first.requests] == ["Reason 3", "Reason 2", "Reason 1"]
    assert first.has_more and first.next_cursor == asked[1].public_id
    rest = requests_of_seller(people.seller, cursor=first.next_cursor, limit=3)
    assert [r.reason for r in rest.requests] == ["Reason 0"]
    assert (rest.has_more, rest.next_cursor) == (False, None)

    open_ones = requests_of_seller(people.seller, status="open")
    assert [r.reason for r in open_ones.requests] == ["Reason 3", "Reason 2", "Reason 0"]
    assert [r.reason for r in requests_of_seller(people.seller, "declined").requests] == [
        "Reason 1"]
    # A cursor whose request changed status since the page was read still works.
    assert [r.reason for r in requests_of_seller(
        people.seller, "open", cursor=asked[1].public_id).requests] == ["Reason 0"]


@pytest.mark.parametrize(("arguments", "code"), [
    ({"status": "closed"}, "invalid_status"),
    ({"cursor": "rr_unknown"}, "invalid_cursor"),
    ({"limit": 0}, "invalid_limit"),
    ({"limit": 101}, "invalid_limit"),
    ({"limit": "20"}, "invalid_limit"),
])
def test_bad_list_arguments_are_refused(people, arguments, code):
    with refused(code) as caught:
        requests_of_seller(people.seller, **arguments)
    assert caught.value.http_status == 400


def test_a_seller_finds_only_its_own_requests(people, other_seller):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    assert request_of_seller(people.seller, request.public_id) == request
    with refused("not_found") as caught:
        request_of_seller(other_seller, request.public_id)
    assert caught.value.http_status == 404
    with refused("invalid_cursor"):  # nor pages through them
        requests_of_seller(other_seller, cursor=request.public_id)


def test_buyers_asking_at_the_same_moment_make_one_request(app, people):
    order_id, buyer_id = people.ann_order.id, people.ann.id

    def ask(reason):
        with app.app_context():
            try:
                open_request(db.session.get(Order, order_id), db.session.get(Buyer, buyer_id),
                             reason)
                db.session.commit()
                return "asked"
            except RefundRequestRefused as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    answers = at_once(ask, [f"Reason {i}" for i in range(6)], workers=6)
    assert sorted(answers) == ["asked"] + ["request_already_open"] * 5
    db.session.expire_all()
    assert count(RefundRequest) == 1


def test_a_decline_and_a_withdrawal_at_the_same_moment_end_the_request_once(app, people):
    request = open_request(people.ann_order, people.ann, "Torn")
    db.session.commit()
    request_id, buyer_id = request.id, people.ann.id
    actor = api_key_of(people.seller)

    def act(what):
        with app.app_context():
            try:
                asked = db.session.get(RefundRequest, request_id)
                if what == "decline":
                    decline(asked, "No.", actor)
                else:
                    withdraw(asked, db.session.get(Buyer, buyer_id))
                db.session.commit()
                return what
            except RefundRequestRefused as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    answers = at_once(act, ["decline", "withdraw"] * 3, workers=6)
    assert answers.count("refund_request_not_open") == 5
    db.session.expire_all()
    ended = db.session.get(RefundRequest, request_id).status
    assert ended in ("declined", "withdrawn")
    actions = db.session.scalars(db.select(AuditEntry.action)).all()
    assert sorted(actions) == sorted(["refund.requested", f"refund_request.{ended}"])



def test_a_refund_through_the_api_closes_the_open_request(client, paid_order):
    order = db.session.scalar(db.select(Order).filter_by(public_id=paid_order))
    buyer = db.session.scalar(db.select(Buyer).filter_by(email=order.buyer_email))
    request = open_request(order, buyer, "Torn")
    db.session.commit()

    answer = client.post(f"/api/v1/orders/{paid_order}/refunds", json={"amount": 450},
                         headers={"Authorization": "Bearer sk_test_northwind"})
    assert answer.status_code == 201, answer.json
    db.session.expire_all()
    assert request.status == "refunded" and request.refund.public_id == answer.json["id"]
    assert refusal_to_ask(order) is None  # partly refunded: the buyer may ask for the rest
