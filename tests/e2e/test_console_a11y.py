"""Every page of the seller console and the operator admin, in Chromium: axe-core finds
no WCAG 2.2 A/AA violation in English, in Arabic (right to left) and in dark mode; no
page is wider than a 390 px phone; every control the keyboard reaches shows its focus,
and Tab reaches each page's main action. Screenshots go to the gallery
(``screenshots/gallery/console-<page>-<locale>-<width>-<scheme>.png``, ``admin-...``).

The pages are those the access table lists (``tests/management/access``: every console
and admin route must be there), each GET route opened with the objects of its world
(``world.py``) as the person it is for: the owner of Northwind, or an operator."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from buyflow.audit import record_action
from buyflow.extensions import db
from buyflow.models import Buyer, Seller, WebhookAttempt, WebhookDelivery
from buyflow.models.audit import Actor
from tests.e2e.test_console import sign_in_as
from tests.management.access import all_routes
from tests.management.access.world import build_world
from tests.management.conftest import in_app, team  # noqa: F401 - fixtures

pytestmark = pytest.mark.e2e

# One route a path: a console or admin page, not a download.
PAGES = list({route.path: route for route in all_routes()
              if route.method == "GET" and not route.path.endswith(".csv")}.values())

# What the issue names, each of which must be among them.
REQUIRED = (
    "console.home", "console.orders", "console.order_detail", "console.refund_requests",
    "console.refund_request_detail", "console.products", "console.product_new",
    "console.product_edit", "console.customers", "console.customer_detail",
    "console.developers", "console.developers_endpoint", "console.developers_delivery",
    "console.settings", "console.members", "console.sign_up", "admin.index",
    "admin.sellers", "admin.seller_detail", "admin.people", "admin.people_detail",
    "admin.bans", "admin.blacklist", "admin.audit_log",
)

# The main pages, photographed at both widths too.
MAIN = {"console.home", "console.orders", "console.order_detail", "console.refund_requests",
        "console.refund_request_detail", "console.products", "console.product_edit",
        "console.customers", "console.customer_detail", "console.developers",
        "console.developers_endpoint", "console.settings", "console.members",
        "console.sign_up", "admin.sellers", "admin.seller_detail", "admin.people",
        "admin.people_detail", "admin.bans", "admin.blacklist", "admin.audit_log"}

# Each page's main action, by role and accessible name: Tab must reach it.
MAIN_ACTIONS = {
    "console.orders": ("button", "Search"),
    "console.order_detail": ("button", "Review the refund"),
    "console.refund_request_detail": ("button", re.compile("^Approve and refund")),
    "console.product_new": ("button", "Add the product"),
    "console.product_edit": ("button", "Save the product"),
    "console.customers": ("button", "Search"),
    "console.customer_detail": ("button", "Continue"),
    "console.developers": ("button", "Create a key"),
    "console.developers_delivery": ("button", "Replay"),
    "console.settings": ("button", "Save language and currencies"),
    "console.members": ("button", "Send the invitation"),
    "console.sign_up": ("button", "Sign up"),
    "admin.sellers": ("button", "Show"),
    "admin.seller_detail": ("button", "Suspend this seller"),
    "admin.people": ("button", "Search"),
    "admin.people_detail": ("button", "Grant the role"),
    "admin.bans": ("button", "Ban"),
    "admin.blacklist": ("button", "Add to the blacklist"),
    "admin.audit_log": ("button", "Show"),
}

VARIANTS = [("en", "light"), ("ar", "light"), ("en", "dark")]
# The pages photographed right to left too.
MIRRORED = {"console.orders", "console.order_detail", "console.developers", "admin.audit_log"}


def test_every_page_is_listed():
    listed = {route.endpoint for route in PAGES}
    assert [name for name in REQUIRED if name not in listed] == []


# The team's owner and operator, under emails one can sign in with (email_validator
# refuses the special-use .test domain the unit tests' team has).
OWNER = "owner@northwind.example"
OPERATOR = "operator@buyflow.example"


@pytest.fixture
def world(app, team, in_app):
    """One of everything at Northwind (the access table's world), as its placeholders."""

    def make():
        places = build_world(team)
        # The failed delivery as a seller finds it: attempts, and the payload it carried.
        delivery = db.session.get(WebhookDelivery, int(places["delivery"]))
        delivery.event.data = {"order": {"id": places["order"], "status": "paid",
                                         "amount": 1450, "currency": "EUR",
                                         "buyer_email": "customer@example.com",
                                         "items": [{"name": "Beans", "quantity": 1,
                                                    "amount": 1450}] * 3}}
        delivery.log.extend([
            WebhookAttempt(status_code=500, duration_ms=42),
            WebhookAttempt(error="ConnectionError: the server closed the connection",
                           duration_ms=10_000)])
        people = {}
        for old, new in ((team.emails["owner"], OWNER), (team.operator, OPERATOR)):
            people[new] = db.session.scalar(db.select(Buyer).filter_by(email=old))
            people[new].email = new
        # A few entries for the audit log and the pages that show them.
        northwind = db.session.scalar(db.select(Seller).filter_by(public_id=team.northwind))
        record_action("seller.suspended", northwind.public_id, seller=northwind,
                      actor=Actor.operator(people[OPERATOR]), before={"status": "active"},
                      after={"status": "suspended"}, reason="Chargebacks to look into")
        record_action("seller.reinstated", northwind.public_id, seller=northwind,
                      actor=Actor.operator(people[OPERATOR]), before={"status": "suspended"},
                      after={"status": "active"})
        record_action("product.updated", places["product"], seller=northwind,
                      actor=Actor.member(people[OWNER]), before={"amount": 1400},
                      after={"amount": 1450})
        db.session.commit()
        return places

    return in_app(make)


@pytest.fixture
def signed_in(app, page, browser, service_url, mailbox, world):
    """The browser storage states of Northwind's owner and of an operator."""
    sign_in_as(page, service_url, mailbox, OWNER, "/console/?all=1")
    owner = page.context.storage_state()
    context = browser.new_context()
    try:
        sign_in_as(context.new_page(), service_url, mailbox, OPERATOR, "/admin/")
        operator = context.storage_state()
    finally:
        context.close()
    return {"owner": owner, "operator": operator}


def url_of(service_url: str, route, world, locale: str) -> str:
    path = route.path.format(**world)
    return f"{service_url}{path}{'&' if '?' in path else '?'}locale={locale}"


def person_for(route) -> str:
    return "operator" if route.permission == "operator" else "owner"


def photo_name(route) -> str:
    return route.endpoint.replace(".", "-").replace("_", "-")


def overflow(page) -> list[str]:
    """What is wider than it may be: the page than its viewport, a box of the page than
    the box that clips or scrolls it."""
    return page.evaluate("""() => {
        const found = [];
        const page = document.documentElement.scrollWidth - window.innerWidth;
        if (page > 0) {
            // The innermost boxes sticking out of the viewport, named.
            const out = [...document.querySelectorAll("body *")].filter(box => {
                const r = box.getBoundingClientRect();
                const out = r.right > window.innerWidth + 1 || r.left < -1;
                if (!(r.width > 0 && out)) return false;
                for (let up = box.parentElement; up; up = up.parentElement)
                    if (getComputedStyle(up).overflowX !== "visible") return false;  // scrolled
                return true;
            });
            const culprits = out.filter(box =>
                !out.some(other => other !== box && box.contains(other)));
            const named = culprits.slice(0, 3).map(box => {
                const classes = [...box.classList].join('.');
                return `${box.tagName.toLowerCase()}${box.id ? '#' + box.id : ''}`
                    + `${classes ? '.' + classes : ''} "${box.textContent.trim().slice(0, 30)}"`;
            });
            found.push(`the page by ${page}px: ${named.join(', ')}`);
        }
        for (const box of document.querySelectorAll("main *")) {
            const wider = box.scrollWidth - box.clientWidth;
            if (wider > 1 && box.clientWidth > 1 && getComputedStyle(box).overflowX !== "visible"
                && !box.closest(".table-wrap, pre"))
                found.push(`${box.tagName.toLowerCase()}.${box.className} by ${wider}px`);
        }
        return found;
    }""")


@contextmanager
def tabs_of(browser, signed_in, **options):
    """A tab for each person (signed in), in browser contexts made with ``options``."""
    contexts = {person: browser.new_context(storage_state=state, **options)
                for person, state in signed_in.items()}
    try:
        yield {person: context.new_page() for person, context in contexts.items()}
    finally:
        for context in contexts.values():
            context.close()


def visit(tabs, route, world, service_url, locale, problems):
    """Open ``route``'s page in the tab of the person it is for; None when it fails."""
    tab = tabs[person_for(route)]
    response = tab.goto(url_of(service_url, route, world, locale))
    if response is None or response.status != 200:
        problems.append(f"{route.endpoint} {route.path}: HTTP "
                        f"{response.status if response else '?'}")
        return None
    return tab


@pytest.mark.parametrize("locale,scheme", VARIANTS, ids=lambda v: v)
def test_every_console_and_admin_page_has_no_axe_violations(
        browser, service_url, world, signed_in, axe, gallery_dir, locale, scheme):
    problems = []
    with tabs_of(browser, signed_in, viewport={"width": 1280, "height": 900},
                 color_scheme=scheme) as tabs:
        for route in PAGES:
            tab = visit(tabs, route, world, service_url, locale, problems)
            if tab is None:
                continue
            direction = tab.locator("html").get_attribute("dir")
            if direction != ("rtl" if locale == "ar" else "ltr"):
                problems.append(f"{route.endpoint} {locale}: dir={direction}")
            if (headings := tab.locator("h1").count()) != 1:
                problems.append(f"{route.endpoint}: {headings} h1 headings")
            if found := axe(tab):
                problems.append(f"{route.endpoint} {locale}-{scheme}: {found}")
            if route.endpoint in (MAIN if locale == "en" else MIRRORED):
                tab.screenshot(full_page=True, path=gallery_dir
                               / f"{photo_name(route)}-{locale}-1280-{scheme}.png")
    assert problems == [], "\n".join(problems)


def test_the_main_pages_fit_a_phone(browser, service_url, world, signed_in, gallery_dir):
    problems = []
    with tabs_of(browser, signed_in, viewport={"width": 390, "height": 844}) as tabs:
        for route in PAGES:
            if route.endpoint not in MAIN:
                continue
            tab = visit(tabs, route, world, service_url, "en", problems)
            if tab is None:
                continue
            if wider := overflow(tab):
                problems.append(f"{route.endpoint} at 390 px: too wide: {wider}")
            tab.screenshot(path=gallery_dir / f"{photo_name(route)}-en-390-light.png",
                           full_page=True)
    assert problems == [], "\n".join(problems)


FOCUS = """() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    // Our outline on the element, or on the box a row's link draws over its row.
    const drawn = [getComputedStyle(e), getComputedStyle(e, '::after')].some(style =>
        style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
        || style.boxShadow !== 'none');
    // A date's fields take the focus inside the input, and Chromium highlights the one
    // focused (the input itself is then not :focus-visible).
    const dateField = ['date', 'time', 'datetime-local', 'month', 'week'].includes(e.type);
    const style = getComputedStyle(e);
    return { tag: e.tagName.toLowerCase(), type: e.type || null,
             text: (e.innerText || e.value || e.name || e.id || '').trim().slice(0, 40),
             inMain: !!e.closest('main'), visible: drawn || dateField,
             focusVisible: e.matches(':focus-visible'), outline: style.outline,
             mainAction: e.dataset.mainAction === 'yes' };
}"""


def test_every_page_works_with_the_keyboard(browser, service_url, world, signed_in):
    """From the top of each page, Tab goes through every control (each showing where
    the focus is) into the page's content, and reaches its main action."""
    problems = []
    with tabs_of(browser, signed_in, viewport={"width": 1280, "height": 900}) as tabs:
        for route in PAGES:
            tab = visit(tabs, route, world, service_url, "en", problems)
            if tab is None:
                continue
            wanted = MAIN_ACTIONS.get(route.endpoint)
            if wanted is not None:
                action = tab.get_by_role("main").get_by_role(wanted[0], name=wanted[1])
                if action.count():
                    action.first.evaluate("e => { e.dataset.mainAction = 'yes'; }")
                else:
                    problems.append(f"{route.endpoint}: no {wanted} on the page")
            tab.locator("body").focus()
            reached_main = reached_action = False
            for _ in range(150):
                tab.keyboard.press("Tab")
                focused = tab.evaluate(FOCUS)
                if focused is None:
                    break  # past the last control
                if not focused["visible"]:
                    problems.append(f"{route.endpoint}: no visible focus on {focused}")
                reached_main |= focused["inMain"]
                reached_action |= focused["mainAction"]
            if not reached_main:
                problems.append(f"{route.endpoint}: Tab never reaches the page's content")
            if wanted is not None and not reached_action:
                problems.append(f"{route.endpoint}: Tab does not reach {wanted}")
    assert problems == [], "\n".join(problems)
