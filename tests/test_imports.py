"""What a web worker loads: the receipts' PDF, image and text-shaping libraries only
where a receipt PDF is made or a logo is checked, the migrations' Alembic only when
migrations run, the command line's modules only when a command runs, SQLAlchemy's
PostgreSQL dialect only on PostgreSQL, the Stripe SDK's typed objects never,
cryptography's OpenSSL build only to read a secret written before migration 0018,
Babel's CLDR data only for pages that write more than prices and dates
(compact_locales.py); never to serve the flow, checkouts and the API (they would cost
every worker their memory)."""

import json
import os
import subprocess
import sys
import textwrap

from buyflow import PROJECT_ROOT

# Receipts (PDF, fonts, logos), then migrations (Flask-Migrate, Alembic, its templates).
HEAVY = ("fpdf", "uharfbuzz", "PIL", "fontTools", "flask_migrate", "alembic", "mako",
         "pygments")
# Modules of ours and of libraries, with their submodules: the command line's (commands.py
# names them), then the PostgreSQL dialect (2.4 MiB with its drivers' modules), which
# the test's SQLite database never needs (models/_base.py partial_index), then
# cryptography's primitives (7 MiB; its top package alone is imported by redis), then
# the Stripe SDK's typed objects of what a checkout calls (payments/stripe.py reads the
# answers as JSON objects; their classes are 1.5 MiB).
NOT_SERVING = ("buyflow.cli", "buyflow.serve", "sqlalchemy.dialects.postgresql",
               "cryptography.hazmat", "stripe._payment_intent", "stripe._payment_method",
               "stripe._charge", "stripe._customer")

_SETTINGS = textwrap.dedent("""
    import sys
    folder, stripe_url = sys.argv[1], sys.argv[2]
    settings = {
        "TESTING": True, "SECRET_KEY": "imports",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/imports.sqlite",
        "STRIPE_SECRET_KEY": "sk_test_imports", "STRIPE_PUBLISHABLE_KEY": "pk_test_imports",
        "STRIPE_API_BASE": stripe_url, "MAIL_BACKEND": "locmem"}
""")

# The schema and a shop, in a process of their own (migrations import Alembic).
_SEED = _SETTINGS + textwrap.dedent("""
    import json
    from flask_migrate import upgrade
    from buyflow import create_app
    from buyflow.extensions import db
    from buyflow.models import Product, Seller, SellerApiKey
    from buyflow.models.sellers import hash_api_key

    app = create_app(instance_path=folder, test_config=settings)
    with app.app_context():
        upgrade()
        seller = Seller(name="Shop", origins=["https://shop.example"], signing_secrets=["s"])
        seller.api_keys.append(SellerApiKey(key_hash=hash_api_key("sk_test_i"), hint="st_i"))
        product = Product(seller=seller, name="Beans", description="Beans.", amount=1450,
                          currency="EUR")
        db.session.add_all([seller, product])
        db.session.commit()
        print(json.dumps({"seller": seller.public_id, "product": product.public_id,
                          "origin": "https://shop.example"}))
""")

# Runs in a fresh interpreter, so sys.modules holds only what serving imported.
_SERVE = _SETTINGS + textwrap.dedent("""
    import json
    import babel.localedata
    import requests
    from buyflow import create_app

    where = json.loads(sys.argv[3])
    # Which locales' CLDR data is loaded (Babel loads each through this function).
    cldr_loaded, cldr_load = set(), babel.localedata.load
    def recording_load(name, merge_inherited=True):
        cldr_loaded.add(name)
        return cldr_load(name, merge_inherited)
    babel.localedata.load = recording_load

    app = create_app(instance_path=folder, test_config=settings)
    client = app.test_client()
    statuses = {}
    page = client.get("/flow/", query_string=where)
    statuses["page"] = page.status_code
    statuses["menu"] = "Deutsch" in page.text and "日本語" in page.text
    marker = '<script type="application/json" id="flow-data">'
    data = json.loads(page.text.split(marker)[1].split("</script>")[0])
    opened = client.post("/flow/api/checkout", json={"flow": data["flow"],
                                                     "email": "ann@example.com"})
    secret = opened.json["client_secret"]
    intent = secret.split("_secret_")[0]
    requests.post(f"{stripe_url}/v1/payment_intents/{intent}/confirm", timeout=10, json={
        "key": "pk_test_imports", "client_secret": secret,
        "payment_method_data": {"type": "card", "card": {
            "number": "4242424242424242", "exp_month": "12", "exp_year": "2034",
            "cvc": "123"}}})
    paid = client.post("/flow/api/refresh", json={"flow": data["flow"],
                                                  "payment": opened.json["payment"]})
    statuses["checkout"] = paid.json["status"]
    api = {"Authorization": "Bearer sk_test_i"}
    statuses["api"] = client.get("/api/v1/orders", headers=api).status_code
    flow_cldr = sorted(cldr_loaded)
    statuses["account"] = client.get("/account/sign-in").status_code
    print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules),
                      "flow_cldr": flow_cldr, "cldr": sorted(cldr_loaded)}))
""")


def _run(script: str, *args: str) -> str:
    answer = subprocess.run([sys.executable, "-c", script, *args], cwd=PROJECT_ROOT,
                            check=True, capture_output=True, text=True)
    return answer.stdout.splitlines()[-1]


def test_serving_pages_checkouts_and_the_api_loads_no_pdf_image_or_migration_library(
        tmp_path, localstripe_url):
    shop = _run(_SEED, str(tmp_path), localstripe_url)
    served = json.loads(_run(_SERVE, str(tmp_path), localstripe_url, shop))
    assert served["statuses"] == {"page": 200, "menu": True, "checkout": "paid", "api": 200,
                                  "account": 200}
    loaded = {name.split(".")[0] for name in served["modules"]}
    assert "stripe" in loaded  # what the worker did use is seen
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    needless = [name for name in served["modules"]
                if any(name == module or name.startswith(module + ".") for module in NOT_SERVING)]
    assert not needless, needless
    # The flow (a menu naming every language, prices, the paid date) and the API: no
    # CLDR data at all; an English account page: English's only.
    assert served["flow_cldr"] == []
    assert {name.split("_")[0] for name in served["cldr"]} <= {"en", "root"}


def test_migrations_run_from_the_command_line(tmp_path):
    # Flask-Migrate is imported only when a `flask db` command runs (extensions.py).
    env = {**os.environ, "BUYFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite",
           "BUYFLOW_TASKS_SQLITE_PATH": str(tmp_path / "huey.sqlite"),
           "BUYFLOW_SECRET_KEY": "imports", "BUYFLOW_SECRETS_KEYS_FILE": str(tmp_path / "keys")}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    for command in (["upgrade"], ["current"]):
        answer = subprocess.run(flask + command, cwd=PROJECT_ROOT, env=env, check=True,
                                capture_output=True, text=True)
    assert answer.stdout.strip().endswith("(head)"), answer.stdout + answer.stderr
