"""A tiny selling site for the embed library's browser tests, apart from the demo shop.

Each page includes the library as a seller would, under a strict Content-Security-Policy
(no inline script or style, no eval): declarative buttons only, the tests drive the rest.
"""

from __future__ import annotations

from flask import Flask, Response, render_template_string

SELLER = "sel_demo"
PRODUCT = "prod_demo_coffee"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ name }}</title>
{% for tag in scripts %}{{ tag|safe }}
{% endfor %}</head>
<body>
  <a href="#top" id="top">A link of the page</a>
  {{ body|safe }}
  <p id="filler">The rest of the shop.</p>
</body></html>"""

BUY = (f'<button id="buy" type="button" data-buyflow-seller="{SELLER}" '
       f'data-buyflow-product="{PRODUCT}">Buy coffee</button>')

# name -> (body, frame-src of the page's CSP)
PAGES = {
    "overlay": (BUY, "service"),
    "inline": (f'<div id="pay"></div><button id="buy" type="button" data-buyflow-seller="{SELLER}" '
               f'data-buyflow-product="{PRODUCT}" data-buyflow-container="#pay">Pay here</button>',
               "service"),
    "window": (f'<button id="buy" type="button" data-buyflow-seller="{SELLER}" '
               f'data-buyflow-product="{PRODUCT}" data-buyflow-mode="window">Buy coffee</button>',
               "service"),
    # The page's own CSP forbids framing the service: the flow must open in a new window.
    "no-frames": (BUY, "'none'"),
    # The library included twice, pinned to its exact version with its integrity hash.
    "twice": (BUY, "service"),
    # Hosts a frame of another origin that posts forged Buyflow messages to this page.
    "spoofed": (BUY + '<iframe id="forger" title="Advert" src="{forger}"></iframe>', "service forger"),
}

FORGER_JS = """
parent.postMessage({ns: 'buyflow', v: 1, type: 'completed', result: 'forged.token',
                    order: 'ord_forged', status: 'paid'}, '*');
parent.postMessage({ns: 'buyflow', v: 1, type: 'close'}, '*');
parent.postMessage({ns: 'buyflow', v: 1, type: 'resize', height: 3}, '*');
document.body.textContent = 'posted';
"""


def create_app(service_url: str, integrity: str, version: str, forger_url: str = "") -> Flask:
    """The test selling site: pages by name under /page/<name>, and a forging frame."""
    app = Flask(__name__)

    @app.get("/page/<name>")
    def page(name: str):
        body, frame_src = PAGES[name]
        scripts = [f'<script src="{service_url}/embed/v1/buyflow.js" defer></script>']
        if name == "twice":
            pinned = (f'<script src="{service_url}/embed/{version}/buyflow.js" '
                      f'integrity="{integrity}" crossorigin="anonymous" defer></script>')
            scripts = [pinned, pinned]
        html = render_template_string(PAGE, name=name, scripts=scripts,
                                      body=body.replace("{forger}", f"{forger_url}/forger"))
        frame_src = frame_src.replace("service", service_url).replace("forger", forger_url)
        response = Response(html)
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {service_url}; frame-src {frame_src}; "
            "style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'"
        )
        return response

    @app.get("/forger")
    def forger():
        return Response('<!doctype html><body><script src="/forger.js"></script></body>')

    @app.get("/forger.js")
    def forger_js():
        return Response(FORGER_JS, mimetype="text/javascript")

    return app
