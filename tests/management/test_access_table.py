"""Every console and admin route, as every kind of person: signed out, a member of
another seller, each role at the seller the route names, an operator and a buyer who is
nothing else. A route no module of ``tests/management/access`` lists fails here."""

from __future__ import annotations

import pytest

from buyflow.people.roles import ROLE_PERMISSIONS, Permission
from buyflow.models.people import SellerRole
from tests.management.access import all_routes
from tests.management.access.world import build_world
from tests.management.conftest import form_post

ROUTES = all_routes()
PEOPLE = ["signed_out", "buyer", "other_seller_owner", "operator",
          *[role.value for role in SellerRole]]


def expected(route, person: str) -> str:
    """``sign_in`` (a redirect to it), ``403``, ``404`` or ``allowed``."""
    if person == "signed_out":
        return "sign_in"
    if route.permission == "person":
        return "allowed"
    if route.permission == "operator":
        return "allowed" if person == "operator" else "403"
    if person in ("buyer", "other_seller_owner", "operator"):
        return "404"  # not a member of the seller the URL names: nothing revealed
    return "allowed" if Permission(route.permission) in ROLE_PERMISSIONS[SellerRole(person)] \
        else "403"


def test_every_console_and_admin_route_is_in_the_table(app):
    listed = {route.endpoint for route in ROUTES}
    served = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in ("console", "admin")}
    assert served - listed == set(), "routes without an access rule"
    assert listed - served == set(), "rules for routes that do not exist"


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_access(route, person, app, client, team, as_person, in_app):
    world = in_app(lambda: build_world(team))
    emails = {"buyer": team.buyer, "other_seller_owner": team.other_owner,
              "operator": team.operator, **team.emails}
    as_person(emails.get(person))
    url = route.path.format(**world)
    if route.method == "GET":
        response = client.get(url)
    else:
        response = form_post(client, url, dict(route.data))
    want = expected(route, person)
    if want == "sign_in":
        assert response.status_code == 302
        assert response.location.startswith("/account/sign-in")
    elif want == "allowed":
        assert response.status_code not in (403, 404, 500), response.text[:500]
        assert not (response.status_code == 302
                    and response.location.startswith("/account/sign-in"))
        if route.method == "GET":
            assert response.status_code == 200
    else:
        assert response.status_code == int(want), response.text[:300]
