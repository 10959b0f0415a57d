"""Default configuration. Every key can be overridden from the environment with the
prefix ``BUYFLOW_`` (for example ``BUYFLOW_STRIPE_API_BASE``), values parsed as JSON where
they look like JSON (Flask's ``from_prefixed_env``)."""


class DefaultConfig:
    # Secrets: set from the environment or ``instance/config.py``; never committed.
    SECRET_KEY = None

    # None means "SQLite file in the instance folder" (resolved in create_app).
    # BUYFLOW_DATABASE_URL, when set, wins.
    DATABASE_URL = None
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # The buy flow lives in a cross-site iframe: its state travels in a signed token,
    # never in cookies. Cookies other pages set are partitioned so they work in iframes.
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True

    # Payment provider (Stripe). API_BASE points at localstripe in development and tests.
    STRIPE_SECRET_KEY = None
    STRIPE_PUBLISHABLE_KEY = None
    STRIPE_API_BASE = None
    STRIPE_JS_URL = "https://js.stripe.com/v3/"
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_MAX_NETWORK_RETRIES = 2

    # How long a buy-flow page stays usable, and how long a signed result is accepted.
    FLOW_TOKEN_MAX_AGE = 60 * 60
    RESULT_TOKEN_MAX_AGE = 60 * 60

    # Locales the product ships complete. The first is the fallback.
    LANGUAGES = ["en", "fr"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_TRANSLATION_DIRECTORIES = "../translations"

    # Where the built embed library (buyflow.min.js) lives; default embed-js/dist in the
    # project. Its version comes from the package.json beside that folder, unless
    # EMBED_JS_VERSION is set.
    EMBED_JS_DIR = None
    EMBED_JS_VERSION = None
