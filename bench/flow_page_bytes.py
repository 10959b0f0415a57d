"""The flow page's own bytes over the wire, as a browser fetches them.

    .venv/bin/python bench/flow_page_bytes.py [--locale LOCALE]

Opens the demo seller's flow page (its accent and logo set, as `flask demo seed` makes
it) through the app, with the headers a browser sends (``Accept-Encoding: gzip, deflate,
br, zstd``), then every asset of ours the page references (stylesheets and scripts; not
the card provider's script, which is not ours; the seller's logo, served from our origin,
is counted apart): the bytes of each body as sent (compressed when the answer is) and of
its headers. Then a repeat visit, as a
browser holding the first visit's answers does it: an asset still fresh in its cache
(``max-age``) is not asked for; one it must revalidate is asked with ``If-None-Match`` /
``If-Modified-Since`` (its 304 then costs headers only); the page itself is ``no-store``
and comes again. Prints each answer; the page's own body against the target (issue 14:
"the flow page's own bytes over the wire ≤ 6 kB compressed", its assets under hashed
names cached a year); and the totals of both visits with the assets, against the same
bound (a first visit's assets are not the page's own bytes, but a buyer's first open
downloads them).
"""

from __future__ import annotations

import argparse
import gzip
import logging
import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import brotli  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from buyflow import create_app  # noqa: E402
from buyflow.cli import DEMO_PRODUCT_ID, DEMO_SELLER_ID, seed_demo_data  # noqa: E402

TARGET = 6_000
ORIGIN = "https://shop.example"
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36",
}
# What the page makes the browser fetch: stylesheets, preloads, scripts, images.
REFERENCES = re.compile(
    r'<link[^>]+href="(?P<href>[^"]+)"|<script[^>]+src="(?P<src>[^"]+)"'
    r'|<img[^>]+src="(?P<img>[^"]+)"')


def header_bytes(response) -> int:
    """The status line and headers as HTTP/1.1 sends them."""
    lines = [f"HTTP/1.1 {response.status}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    return len("\r\n".join(lines).encode()) + 4


def own_assets(html: str) -> list[str]:
    """The paths of the assets on our origin the page references, in page order."""
    paths = []
    for match in REFERENCES.finditer(html):
        url = urlsplit(next(v for v in match.groupdict().values() if v))
        if not url.netloc and url.path not in paths:  # ours: relative to our origin
            paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


def decoded(response) -> str:
    """The body as the browser reads it, decompressed."""
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        body = brotli.decompress(body)
    elif encoding == "gzip":
        body = gzip.decompress(body)
    return body.decode("utf-8")


def fresh(response) -> bool:
    """Whether a browser may use its cached copy of ``response`` without asking."""
    cache = response.cache_control
    return (not cache.no_cache and not cache.no_store
            and (cache.max_age or 0) > 0)


def fetch(client, path: str, headers: dict) -> tuple[object, int, int]:
    response = client.get(path, headers=headers)
    body = len(response.get_data())
    return response, body, header_bytes(response)


def visit(client, page: str, cached: dict | None, locale: str) -> tuple[dict, int, int]:
    """One visit of the page and its assets; ``cached`` maps paths to the answers a
    previous visit left in the browser's cache (None: the cache is empty). Prints a line
    per answer; returns the answers, the bodies' and headers' totals (the seller's logo
    left out), and the logo's body."""
    headers = {**BROWSER, "Accept-Language": locale}
    response, body, head = fetch(client, page, headers)
    assert response.status_code == 200, response.status_code
    answers, total_body, total_head, logo = {page: response}, body, head, 0
    print(f"  {'page':<48} {response.headers.get('Content-Encoding', 'identity'):>8} "
          f"{body:>7,} B body {head:>6,} B headers  {response.headers.get('Cache-Control')}")
    for path in own_assets(decoded(response)):
        before = (cached or {}).get(path)
        if before is not None and fresh(before):
            print(f"  {path:<48} {'cache':>8} {0:>7,} B body {0:>6,} B headers")
            answers[path] = before
            continue
        asked = {"Accept": "*/*", **{k: v for k, v in headers.items() if k != "Accept"}}
        if before is not None:
            if before.headers.get("ETag"):
                asked["If-None-Match"] = before.headers["ETag"]
            if before.headers.get("Last-Modified"):
                asked["If-Modified-Since"] = before.headers["Last-Modified"]
        answer, body, head = fetch(client, path, asked)
        assert answer.status_code in (200, 304), (path, answer.status_code)
        answers[path] = before if answer.status_code == 304 else answer
        if "/brand/" in path:  # the seller's logo: the seller's bytes, not the page's
            logo += body
        else:
            total_body, total_head = total_body + body, total_head + head
        print(f"  {path:<48} {answer.headers.get('Content-Encoding', 'identity'):>8} "
              f"{body:>7,} B body {head:>6,} B headers  {answer.status_code} "
              f"{answer.headers.get('Cache-Control')}")
    return answers, total_body, total_head, logo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locale", default="en", help="the browser's language (en)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the migrations' lines
    folder = tempfile.mkdtemp(prefix="buyflow-bench-")
    app = create_app(instance_path=folder, test_config={
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
        "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "MAIL_BACKEND": "locmem"})
    with app.app_context():
        upgrade()
        seed_demo_data(origin=ORIGIN, api_key="sk_test_bench_shop", signing_secret="bench")
    client = app.test_client()
    page = f"/flow/?seller={DEMO_SELLER_ID}&product={DEMO_PRODUCT_ID}&origin={ORIGIN}"

    print(f"first visit (empty cache), locale {args.locale}:")
    answers, first_body, first_head, first_logo = visit(client, page, None, args.locale)
    print(f"repeat visit (the first visit's answers cached), locale {args.locale}:")
    _, repeat_body, repeat_head, repeat_logo = visit(client, page, answers, args.locale)
    page_body = len(answers[page].get_data())
    print()
    print(f"the page's own bytes (issue 14's figure: its body as sent, headers apart): "
          f"{page_body:,} B   target <= {TARGET:,} B: "
          f"{'met' if page_body <= TARGET else 'NOT met'} ({page_body / TARGET:.2f}x)")
    print("the page with our assets (bodies as sent; headers apart; the seller's logo apart),"
          " against the same bound:")
    for name, body, head, logo in (("first visit", first_body, first_head, first_logo),
                                   ("repeat visit", repeat_body, repeat_head, repeat_logo)):
        within = "within" if body <= TARGET else "over"
        print(f"  {name + ':':<14} {body:>7,} B   (+ {head:,} B of headers, + {logo:,} B "
              f"of logo)   {within} {TARGET:,} B ({body / TARGET:.2f}x)")

if __name__ == "__main__":
    main()
