"""Default configuration. Every key can be overridden from the environment with the
prefix ``BUYFLOW_`` (for example ``BUYFLOW_STRIPE_API_BASE``), values parsed as JSON where
they look like JSON (Flask's ``from_prefixed_env``)."""


class DefaultConfig:
    # Secrets: set from the environment or ``instance/config.py``; never committed.
    # Without SECRET_KEY, one is made on first start and kept in SECRET_KEY_FILE (None:
    # instance/secret_key).
    SECRET_KEY = None
    SECRET_KEY_FILE = None
    # Sellers' signing secrets and webhook secrets are encrypted in the database under
    # these keys, newest first: the first encrypts, every one decrypts
    # (models/encrypted.py; rotate with `flask --app wsgi secrets rotate`). From the
    # environment: BUYFLOW_SECRETS_KEYS, comma separated. Without them, they are kept in
    # SECRETS_KEYS_FILE (None: instance/secrets_keys; one key a line, newest first), made
    # on first start -- except on https (production), where the service refuses to start
    # unless they are given (or SECRETS_KEYS_FILE names an existing file).
    SECRETS_KEYS = None
    SECRETS_KEYS_FILE = None

    # None means "SQLite file in the instance folder" (resolved in create_app).
    # BUYFLOW_DATABASE_URL, when set, wins.
    DATABASE_URL = None
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite: how long (seconds) a writer waits for another's lock before giving up. The
    # money paths serialise on it (buyflow/locks.py) and hold it only between provider calls.
    SQLITE_BUSY_TIMEOUT = 30

    # The buy flow lives in a cross-site iframe: its state travels in a signed token, and
    # it sets no cookie at all. The only cookie is the management pages' session, never
    # framed, so it needs no Partitioned; it is Secure when HTTPS is on (create_app).
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True

    # The card provider, by name (payments/__init__.py registers the sources).
    CARD_PROVIDER = "stripe"
    # An order never paid in this time expires, releasing what it reserved (credit held
    # for it); longer than a buy-flow page lives, so a buyer still on it is never cut off.
    ORDER_EXPIRY_SECONDS = 2 * 60 * 60

    # Payment provider (Stripe). API_BASE points at localstripe in development and tests.
    STRIPE_SECRET_KEY = None
    STRIPE_PUBLISHABLE_KEY = None
    STRIPE_API_BASE = None
    STRIPE_JS_URL = "https://js.stripe.com/v3/"
    STRIPE_WEBHOOK_SECRET = None
    # Every provider call gives up after these timeouts (seconds) and is retried by the
    # SDK up to STRIPE_MAX_NETWORK_RETRIES times under the same idempotency key. The
    # longest call: 3 x (3 + 10) s plus about 3 s of backoff, some 42 s. The app server's
    # worker timeout must be longer (60 s; see README), and so must the lease below.
    STRIPE_CONNECT_TIMEOUT = 3
    STRIPE_READ_TIMEOUT = 10
    STRIPE_MAX_NETWORK_RETRIES = 2

    # Money paths (payments/charges.py, payments/refunds.py, api/idempotency.py): a
    # provider call that moves money, and a seller's request holding an Idempotency-Key,
    # hold a lease this long; past it, the process that held it is taken to be gone and
    # a retry, or reconciliation, takes over.
    MONEY_CALL_LEASE_SECONDS = 90
    # Longer than a money call's lease, so a key is never taken over while its request's
    # provider call may still run.
    IDEMPOTENCY_LEASE_SECONDS = 120
    # A finished key's answer is replayed this long; after it, the key is forgotten (an
    # hourly purge) and the same key starts a new request, as at Stripe (24 hours there).
    # A key whose work never finished (a crash, a 5xx) is kept: its retry must resume it.
    IDEMPOTENCY_RETENTION_HOURS = 7 * 24
    # Reconciliation with the provider (payments/reconcile.py), every
    # RECONCILE_EVERY_MINUTES by the task worker, or `flask --app wsgi payments reconcile`:
    # rows left untouched this long past their lease are settled, and the provider's
    # charges and refunds of the last RECONCILE_WINDOW_HOURS are compared with ours.
    RECONCILE_GRACE_SECONDS = 120
    RECONCILE_WINDOW_HOURS = 24
    RECONCILE_EVERY_MINUTES = 10

    # The app server, `flask --app wsgi serve` (gunicorn, sync workers; buyflow/serve.py,
    # docs/deployment.md). SERVE_WORKERS None: 2 x CPUs + 1. SERVE_TIMEOUT None: the
    # longest provider call above and half as long again (61 s by default); the server
    # refuses to start unless it is longer than that call and at most
    # MONEY_CALL_LEASE_SECONDS. X-Forwarded-For and -Proto are believed only from the
    # proxies in SERVE_FORWARDED_ALLOW_IPS (addresses or CIDR networks, comma separated).
    # SERVE_ACCESS_LOG: a file, "-" for stdout, "" for none.
    SERVE_BIND = "127.0.0.1:8000"
    SERVE_WORKERS = None
    SERVE_TIMEOUT = None
    SERVE_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"
    SERVE_ACCESS_LOG = "-"

    # How long the buy flow waits for the bank (or the provider) to confirm a payment
    # before telling the buyer and letting them try again (seconds).
    BANK_CONFIRMATION_WAIT_SECONDS = 120

    # How long a buy-flow page stays usable, and how long a signed result is accepted.
    FLOW_TOKEN_MAX_AGE = 60 * 60
    PURCHASE_REQUEST_MAX_AGE = 60 * 60
    RESULT_TOKEN_MAX_AGE = 60 * 60

    # Email: Flask-Mailman. "smtp" in production (MAIL_SERVER, MAIL_PORT, MAIL_USERNAME,
    # MAIL_PASSWORD, MAIL_USE_TLS); by default each mail is written as a file in
    # instance/mail, so development needs no mail server.
    MAIL_BACKEND = "file"
    # The file backend's folder; None: instance/mail.
    MAIL_FILE_PATH = None
    MAIL_DEFAULT_SENDER = "Buyflow <no-reply@buyflow.invalid>"

    # The service's own address, for links in emails the task worker sends (no request
    # there to take it from). Set it in production.
    PUBLIC_URL = "http://127.0.0.1:5000"
    # Served over https: Strict-Transport-Security on every response and a Secure
    # session cookie. None means "PUBLIC_URL starts with https://" (resolved in
    # create_app); behind a TLS-terminating proxy PUBLIC_URL must say https.
    HTTPS = None

    # GET /readyz (buyflow/health.py): each check (database, task queue, card provider)
    # that has not answered within this many seconds has failed.
    READINESS_TIMEOUT = 2

    # GET /metrics (buyflow/metrics.py), Prometheus's text format: answered only with
    # `Authorization: Bearer <METRICS_TOKEN>` or to a client address in
    # METRICS_ALLOWED_NETWORKS (a list of networks, or from the environment a
    # comma-separated string: BUYFLOW_METRICS_ALLOWED_NETWORKS=10.0.0.0/8,127.0.0.1);
    # with neither set, to nobody. METRICS_ENABLED = False removes it and every count.
    # Several workers: PROMETHEUS_MULTIPROC_DIR in the environment (docs/deployment.md).
    METRICS_ENABLED = True
    METRICS_TOKEN = None
    METRICS_ALLOWED_NETWORKS = []

    # Request size (buyflow/web_input.py). The largest body anything here needs is a flow
    # call or the flow's language menu carrying the signed token of a 50-item purchase
    # request, about 33 kB at most; API bodies and management forms are far smaller.
    # Larger bodies are refused with 413 before they are read, so none holds a worker.
    # Multipart text parts are held to the same size, and forms have a few fields only.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    MAX_FORM_PARTS = 50
    # JSON bodies nested deeper than this are refused before parsing (ours nest 2 deep).
    JSON_MAX_DEPTH = 32
    # Blueprints whose request bodies are checked by their views alone: the provider's
    # webhooks are verified by signature and parsed by its library, and a refusal there
    # would only make the provider send the same event again and again. Their events
    # carry whole provider objects, so they may be larger.
    RAW_BODY_BLUEPRINTS = ["provider_webhooks"]
    RAW_BODY_MAX_CONTENT_LENGTH = 1024 * 1024

    # A card a buyer asked to keep, which paid, but the provider did not answer when asked
    # to make it the default: kept by a task, retried KEEP_CARD_RETRIES times
    # KEEP_CARD_RETRY_DELAY seconds apart (buyers/cards.py).
    KEEP_CARD_RETRIES = 8
    KEEP_CARD_RETRY_DELAY = 120

    # Receipts: PDF receipts in Chinese, Japanese and Korean need a CJK font from the
    # system (Debian's fonts-wqy-microhei; scripts/lib/setup.sh installs it); without it
    # they fall back to the bundled DejaVu Sans, with a warning. The email goes once,
    # after the order is paid; a failed send is retried RECEIPT_RETRIES times
    # RECEIPT_RETRY_DELAY seconds apart, and a periodic sweep re-sends those whose task
    # was lost, for orders paid within RECEIPT_SWEEP_DAYS.
    RECEIPT_CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    RECEIPT_RETRIES = 5
    RECEIPT_RETRY_DELAY = 300
    RECEIPT_SWEEP_DAYS = 3
    # A worker's claim on sending a receipt; an older one was lost and is taken over.
    RECEIPT_CLAIM_SECONDS = 600

    # Buyers' sign-in codes: how long they live and how many wrong tries they take.
    SIGN_IN_CODE_MAX_AGE = 10 * 60
    SIGN_IN_CODE_MAX_ATTEMPTS = 5
    SIGN_IN_LIMIT_PER_EMAIL = "5 per 15 minutes"
    SIGN_IN_LIMIT_PER_IP = "30 per hour"
    # Seller sign-up from the console: whether a new seller waits (pending) for an
    # operator's approval before buyers can pay it, and how many sellers one person may
    # sign up (a rate limit).
    SELLER_SIGNUP_NEEDS_APPROVAL = True
    SELLER_SIGNUP_LIMIT_PER_PERSON = "10 per day"
    # How long an invitation to join a seller's team stays valid (seconds; 7 days).
    INVITATION_MAX_AGE_SECONDS = 7 * 24 * 3600
    RATELIMIT_HEADERS_ENABLED = True

    # Saved cards in the buy flow: codes asked per email and per IP (the IP limit also
    # covers confirming them), and how long a confirmed code lets the flow use the cards.
    SAVED_CARDS_LIMIT_PER_EMAIL = "5 per 15 minutes"
    SAVED_CARDS_LIMIT_PER_IP = "30 per hour"
    SAVED_CARDS_TOKEN_MAX_AGE = 15 * 60

    # The task queue (Huey): SQLite storage in TASKS_SQLITE_PATH (None:
    # instance/huey.sqlite) unless REDIS_URL is set. TASKS_IMMEDIATE runs tasks inline,
    # for tests.
    REDIS_URL = None
    TASKS_SQLITE_PATH = None
    TASKS_IMMEDIATE = False

    # Outbound webhooks: seconds between attempts (jittered), then the delivery gives up.
    # About three days in all, as Standard Webhooks senders do.
    WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 72000]
    WEBHOOK_TIMEOUT = 10

    # Logs: "text" (Python's default lines) or "json" (one object a line, with the
    # request id that every answer carries in X-Request-Id and queued tasks inherit).
    LOG_FORMAT = "text"

    # Compression of pages, scripts and stylesheets (Flask-Compress): brotli, else
    # gzip, as the browser accepts. Brotli's level 6 costs about as little time as its
    # default 4 on a page and makes it 7% smaller; digested static files
    # (buyflow/static_assets.py) are compressed once per process and kept. Streamed
    # answers (a static file under its plain name) are sent as they are.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_BR_LEVEL = 6
    # A 64 KiB window (2**16) instead of brotli's 4 MiB: a page is far smaller, so it
    # comes out as small, and past 64 KiB the encoder of this level takes 3 MiB instead
    # of 1 for each page, which the allocator keeps in every worker once it is freed.
    COMPRESS_BR_WINDOW = 16
    COMPRESS_LEVEL = 6
    COMPRESS_STREAMS = False
    # Pages, scripts and stylesheets only: the API's and the flow's JSON answers are small
    # and read by sellers' servers and our own script, which need nothing decoded.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript"]

    # Seller webhooks may target private or loopback addresses only when this is on
    # (development and tests); in production it stays off.
    WEBHOOK_ALLOW_PRIVATE_URLS = False
    # After a webhook endpoint's secret is rotated, the old one signs its deliveries too
    # for this long (both signatures in the header), while the receiver takes the new one.
    WEBHOOK_SECRET_GRACE_HOURS = 24

    # Locales the product ships complete (a catalog each in translations/, English being
    # the source language), in the order the buyer's language menu lists them.
    LANGUAGES = ["en", "fr", "de", "es", "it", "pt_BR", "nl", "pl", "sv", "tr",
                 "ja", "ko", "zh_CN", "ru", "ar", "he"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = "../translations"

    # Where the built embed library (buyflow.min.js) lives; default embed-js/dist in the
    # project. Its version comes from the package.json beside that folder, unless
    # EMBED_JS_VERSION is set.
    EMBED_JS_DIR = None
    EMBED_JS_VERSION = None
