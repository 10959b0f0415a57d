"""Browser tests: the service on 127.0.0.1 and the demo shop on localhost, so the iframe
is truly cross-site (with third-party cookies unavailable to it), driven in Debian's
Chromium through Playwright. Tests that make screenshots for people to look at put them
in the gallery (``gallery_dir``); its index page is written when the session ends."""

from __future__ import annotations

import html
import re
import threading
from collections import defaultdict
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from werkzeug.serving import make_server

from buyflow import PROJECT_ROOT
from buyflow.cli import seed_demo_data
from buyflow.extensions import db
from examples.demo_shop.app import create_app as create_demo_shop
from tests.conftest import STRIPE_WEBHOOK_SECRET

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--headless", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
DEMO_API_KEY = "sk_test_demo_shop"
DEMO_SIGNING_SECRET = "sign-demo-shop"
DEMO_WEBHOOK_SECRET = "whsec_ZGVtby1zaG9wLXdlYmhvb2stc2VjcmV0LTMyYnl0ZXM="


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


class LiveServer:
    def __init__(self, wsgi_app, host: str = "127.0.0.1"):
        self.server = make_server(host, 0, wsgi_app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def service_url(app):
    server = LiveServer(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(autouse=True)
def provider_webhooks(service_url, localstripe_url):
    """localstripe delivers Stripe-signed webhooks to the live service during each browser
    test, as Stripe would; only then: other tests decide when a provider's answer arrives."""
    register = f"{localstripe_url}/_config/webhooks/buyflow"
    hook = {"url": f"{service_url}/webhooks/stripe", "secret": STRIPE_WEBHOOK_SECRET}
    requests.post(register, json=hook, timeout=10).raise_for_status()
    yield
    # Registrations cannot be deleted: leave this one listening to nothing.
    requests.post(register, json={**hook, "events": ["buyflow.none"]},
                  timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def shop_server(service_url):
    shop = create_demo_shop({
        "BUYFLOW_URL": service_url,
        "DEMO_SELLER_ID": "sel_demo",
        "DEMO_PRODUCT_ID": "prod_demo_coffee",
        "DEMO_API_KEY": DEMO_API_KEY,
        "DEMO_SIGNING_SECRET": DEMO_SIGNING_SECRET,
        "DEMO_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET,
    })
    server = LiveServer(shop)
    yield server
    server.stop()


def seed_demo_seller(app, server: LiveServer, **extra) -> str:
    """Seed the demo seller and product for a selling site served by ``server`` on
    localhost (another site than the service); returns the site's URL."""
    url = f"http://localhost:{server.port}"
    with app.app_context():
        seed_demo_data(origin=url, api_key=DEMO_API_KEY, signing_secret=DEMO_SIGNING_SECRET,
                       **extra)
        db.session.remove()
    return url


@pytest.fixture
def shop_url(app, shop_server):
    """The demo shop's URL, its seller, product and webhook endpoint seeded for this test."""
    url = seed_demo_seller(app, shop_server, webhook_secret=DEMO_WEBHOOK_SECRET)
    return url


# The flow's frame, whatever language its title is in (the flow localizes it on load).
FLOW_FRAME = 'iframe[allow="payment"]'

# The provider's card field's inputs, by name (localstripe's, named by buyflow/dev's shim).
CARD_FIELDS = ("number", "exp_month", "exp_year", "cvc", "postal_code")


def open_flow(page, shop_url: str, **options):
    """Open the demo shop and its buy flow with Buyflow.open(options) (the demo product
    unless told); return the flow's Frame once its form is shown."""
    page.goto(shop_url)
    page.wait_for_function("() => window.Buyflow")
    page.evaluate("""options => { Buyflow.open(Object.assign(
        { seller: 'sel_demo', product: 'prod_demo_coffee' }, options)).catch(() => {}); }""",
                  options)
    frame = page.locator(FLOW_FRAME).element_handle().content_frame()
    expect(frame.locator("#pay")).to_be_enabled()  # flow.js has wired it
    return frame


@pytest.fixture
def checkout(page):
    """The buy flow inside the overlay's iframe, with helpers to fill it."""

    class Checkout:
        frame = page.frame_locator(FLOW_FRAME)

        def fill(self, number: str, email: str = "ann@example.com"):
            self.frame.locator("#email").fill(email)
            fill_card(self.frame, number)

        def authenticate(self, times: int = 1):
            for _ in range(times):
                self.frame.get_by_role("button", name="Complete authentication").click()

    return Checkout()


@pytest.fixture
def browser_sign_in(page, service_url, mailbox):
    """Sign ``email`` in on the account pages with the code read from the test SMTP
    server, as a buyer does."""
    from tests.management.conftest import code_in

    def sign_in(email: str = "ann@example.com"):
        page.goto(f"{service_url}/account/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_role("button", name="Send me a code").click()
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        page.get_by_label("Code").fill(code_in(mailbox.last_to(email)))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Purchases")).to_be_visible()

    return sign_in


def fill_card(target, number: str) -> None:
    """Fill the provider's card element (localstripe's stand-in for Stripe's) in a page
    or frame."""
    for field, value in zip(CARD_FIELDS, (number, "12", "34", "123", "75001")):
        target.locator(f'input[name="{field}"]').fill(value)


# --- Accessibility and localization checks (axe-core from npm, screenshots) -------------

AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENSHOTS = PROJECT_ROOT / "screenshots"


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail("axe-core is missing: npm ci --no-audit --no-fund --prefix tests/e2e "
                    "(scripts/test.sh runs it)")
    return AXE_JS.read_text()


@pytest.fixture
def axe(axe_source):
    """``axe(target, exclude=())``: the WCAG 2.2 A/AA violations axe-core finds in a Page
    or Frame (as short dicts; [] when there are none). axe is injected through the
    DevTools protocol, which the pages' CSP does not block."""

    def run(target, exclude=()):
        if not target.evaluate("() => typeof window.axe === 'object'"):
            target.evaluate(axe_source)
        return target.evaluate(
            """async ([tags, exclude]) => {
                const context = { exclude: exclude.map(selector => [selector]) };
                const result = await axe.run(context, { runOnly: { type: 'tag', values: tags } });
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')) }));
            }""", [AXE_TAGS, list(exclude)])

    return run


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """The folder the README names for the screenshots tests make (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


GALLERY = SCREENSHOTS / "gallery"
# flow-<step>-<locale>-<width>-<scheme>.png (account-... alike): grouped by what precedes
# the locale; other names by their stem.
VARIANT = re.compile(r"(?P<group>.+?)-(?P<variant>[a-z]{2,3}(?:_[A-Z]{2})?-\d+-(?:light|dark))")


@pytest.fixture(scope="session")
def gallery_dir() -> Path:
    """The screenshot gallery's folder (screenshots/gallery/), which tests of any part
    write PNGs into; its index.html lists them all when the session ends."""
    GALLERY.mkdir(parents=True, exist_ok=True)
    return GALLERY


def gallery_groups(folder: Path) -> dict[str, list[str]]:
    """The PNG file names in ``folder``, grouped by name (see VARIANT), sorted."""
    groups = defaultdict(list)
    for png in sorted(folder.glob("*.png")):
        match = VARIANT.fullmatch(png.stem)
        groups[match["group"] if match else png.stem].append(png.name)
    return dict(sorted(groups.items()))


def write_gallery_index(folder: Path) -> Path:
    """Write ``folder``/index.html: every PNG there, one section per group."""
    sections = []
    for group, names in gallery_groups(folder).items():
        figures = "".join(
            f'<figure><a href="{html.escape(name)}"><img src="{html.escape(name)}" '
            f'loading="lazy" alt=""></a><figcaption>{html.escape(name)}</figcaption></figure>'
            for name in names)
        sections.append(f'<section id="{html.escape(group)}"><h2>{html.escape(group)} '
                        f"({len(names)})</h2><div class=\"grid\">{figures}</div></section>")
    toc = "".join(f'<li><a href="#{html.escape(g)}">{html.escape(g)}</a></li>'
                  for g in gallery_groups(folder))
    index = folder / "index.html"
    index.write_text(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Buyflow screenshots</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1a1b1f}"
        ".grid{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}"
        "figure{margin:0;max-inline-size:20rem}img{max-inline-size:100%;border:1px solid #ccc}"
        "figcaption{font-size:12px;color:#555;word-break:break-all}"
        "</style></head><body><h1>Buyflow screenshots</h1>"
        f"<ul>{toc}</ul>{''.join(sections)}</body></html>\n")
    return index


def pytest_sessionfinish(session):
    """The gallery's index, from whatever PNGs the session (or an earlier one) left."""
    if GALLERY.is_dir() and any(GALLERY.glob("*.png")):
        write_gallery_index(GALLERY)


@pytest.fixture(scope="session")
def seller_pages_server(app, service_url):
    """The embed tests' own selling site (tests/e2e/seller_pages.py) on localhost; its
    forging frame is served by the same app on 127.0.0.1, another origin."""
    from buyflow.embed import integrity, library_path, library_version
    from tests.e2e.seller_pages import create_app as create_seller_pages

    holder = {}

    def wsgi(environ, start_response):
        return holder["app"](environ, start_response)

    server = LiveServer(wsgi)
    holder["app"] = create_seller_pages(
        service_url, integrity(library_path(app)), library_version(app),
        forger_url=f"http://127.0.0.1:{server.port}")
    yield server
    server.stop()


@pytest.fixture
def seller_pages_url(app, seller_pages_server):
    """The embed tests' selling site on localhost, registered for the demo seller."""
    url = seed_demo_seller(app, seller_pages_server)
    return url
