"""kalshiweb settings: one file, read from the environment through typed helpers.

Embedded defaults need no servers: SQLite in WAL mode, an in-memory channel
layer and an in-memory Celery broker, all in one process (``manage.py
runembedded``). Setting DATABASE_URL and REDIS_URL moves the same code onto
PostgreSQL and Redis. Every variable is listed, with its default, in
``.env.example``.
"""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import django_stubs_ext
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from kalshiweb.env import (
    env_bool,
    env_choice,
    env_database,
    env_http_url,
    env_int,
    env_list,
    env_networks,
    env_redis_url,
    env_str,
    env_uuid,
    env_ws_url,
)
from kalshiweb.keyfiles import keep_private, read_or_create_key
from kalshiweb.logconfig import LogFormat, LogLevel, logging_config, register_secret
from kalshiweb.modes import KalshiEnvironment, TradingMode, resolve_kalshi_environment

# Lets model code write QuerySet["Market"] in class bases at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

# Where local state lives: the SQLite database and generated keys.
DATA_DIR = Path(env_str("KALSHIWEB_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)  # keys, the SQLite database and its sessions

# --- Core Django ----------------------------------------------------------------------------

SECRET_KEY = env_str("DJANGO_SECRET_KEY") or read_or_create_key(
    DATA_DIR / "django-secret-key", lambda: secrets.token_urlsafe(50)
)
DEBUG = env_bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Served over TLS in production (deploy/production.env lists the settings): cookies only over TLS,
# plain http redirected, HSTS, and the proxy's header trusted to say the request came over TLS.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=False)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=False)
# The header a TLS-terminating proxy sets to "https" (e.g. X-Forwarded-Proto); trust it only behind one
# that always sets or strips it, or any client could claim TLS.
_proxy_ssl_header = env_str("DJANGO_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# /metrics: with a token, scrapers must send it (Authorization: Bearer ...); without one, only these
# networks may scrape (behind a proxy, REMOTE_ADDR is the proxy's: prefer the token there).
METRICS_TOKEN = env_str("METRICS_TOKEN") or ""
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", ["127.0.0.1/32", "::1/128"])
# Sent on every response; {nonce} is each response's own (templates: <script nonce="{{ csp_nonce }}">).
# Inline styles stay allowed: the pages' own <style> blocks and what htmx and Chart.js set on elements.
CONTENT_SECURITY_POLICY = env_str(
    "DJANGO_CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, served from our static files (works offline)
    "django_celery_beat",
    "django_prometheus",
    "kalshiweb",
    "dashboard",
    "weather",
    "markets",
    "prediction",
    "trading",
    "backtesting",
    "localexchange",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "kalshiweb.middleware.RequestsInProgressMiddleware",
    "kalshiweb.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "kalshiweb.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kalshiweb.middleware.PrivateCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "kalshiweb.urls"
ASGI_APPLICATION = "kalshiweb.asgi.application"
WSGI_APPLICATION = "kalshiweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kalshiweb.context.trading_mode",  # every page, the admin's too, says the mode
                "kalshiweb.context.csp_nonce",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"  # stored and computed in UTC; a city's climate day is derived in weather.climate
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing
# `manage.py setup` (make run, the release step) collects the files under content-hashed names, which
# WhiteNoise serves compressed and cacheable for a year: a changed file gets a new name. Pages then need
# collectstatic's manifest; with DEBUG on Django links the plain names, and the tests (conftest.py) use
# the plain storage, so neither needs collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve the plain names straight from the apps too: what the tests and DEBUG pages link.
WHITENOISE_USE_FINDERS = True
# WhiteNoise hands Django a synchronous file iterator; under ASGI Django streams it from a
# thread and warns once per file. Harmless for the admin's few small assets.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

# --- Database -------------------------------------------------------------------------------

_database = env_database("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'kalshiweb.sqlite3'}")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    keep_private(Path(str(_database["NAME"])))
    # WAL lets the web server read while the worker writes. IMMEDIATE takes the write
    # lock when a transaction starts, so two writers queue on busy_timeout instead of
    # one failing with "database is locked" when it tries to upgrade a read lock.
    _database["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    _database["CONN_HEALTH_CHECKS"] = True
    if env_bool("DATABASE_POOL", default=False):
        # Set by kalshiweb.asgi for the web's processes, which serve their requests one at a time from one
        # thread. Without it each request opened a new PostgreSQL session (the URL's CONN_MAX_AGE is 0), a
        # few milliseconds each: 9 of 32 benchmark targets met the 50 ms goal on PostgreSQL, 27 with the
        # pool. The pool keeps a connection open between requests and replaces one that broke. Django refuses
        # it beside CONN_MAX_AGE. Celery and management commands connect as before, and a refused connection
        # fails at once with PostgreSQL's own message rather than after the pool's retries.
        _database["CONN_MAX_AGE"] = 0
        options = _database.get("OPTIONS")
        pool = {"min_size": 1, "max_size": 4}
        _database["OPTIONS"] = {**(options if isinstance(options, dict) else {}), "pool": pool}
    # Elsewhere the URL's CONN_MAX_AGE stands, and dj-database-url always makes it 0 (a default of 60 set here
    # never took): a Celery task opens its own session, which Celery closes after it, a few milliseconds against
    # tasks minutes apart.
DATABASES = {"default": _database}

# --- Redis: cache, channel layer, Celery broker ---------------------------------------------

REDIS_URL = env_redis_url("REDIS_URL")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "kalshiweb"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 5 * 60
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Trading and Kalshi ---------------------------------------------------------------------

TRADING_MODE = env_choice("TRADING_MODE", TradingMode, TradingMode.DRY)
_requested_env = env_choice("KALSHI_ENV", KalshiEnvironment, KalshiEnvironment.PROD) if env_str("KALSHI_ENV") else None
try:
    KALSHI_ENV = resolve_kalshi_environment(TRADING_MODE, _requested_env)
except ValueError as exc:
    raise ImproperlyConfigured(f"Inconsistent trading settings: {exc}.") from None

KALSHI_API_BASE = env_http_url("KALSHI_API_BASE", "https://external-api.kalshi.com/trade-api/v2", tls_off_loopback=True)
KALSHI_DEMO_BASE = env_http_url(
    "KALSHI_DEMO_BASE", "https://external-api.demo.kalshi.co/trade-api/v2", tls_off_loopback=True
)
KALSHI_BASE_URL = KALSHI_DEMO_BASE if KALSHI_ENV is KalshiEnvironment.DEMO else KALSHI_API_BASE
KALSHI_WS_BASE = env_ws_url("KALSHI_WS_BASE", "wss://external-api-ws.kalshi.com/trade-api/ws/v2", tls_off_loopback=True)
KALSHI_DEMO_WS_BASE = env_ws_url(
    "KALSHI_DEMO_WS_BASE", "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2", tls_off_loopback=True
)
KALSHI_WS_URL = KALSHI_DEMO_WS_BASE if KALSHI_ENV is KalshiEnvironment.DEMO else KALSHI_WS_BASE
# How often the market feed stores what it heard (trades, changed order books) and reports its state.
FEED_RECORD_SECONDS = env_int("FEED_RECORD_SECONDS", 10, minimum=1)
# How often the feed checks its in-sequence books against fresh snapshots (a lost delta leaves no gap).
FEED_VERIFY_SECONDS = env_int("FEED_VERIFY_SECONDS", 300, minimum=10)
# What stores the account's fills and order updates the feed hears (markets code does not import trading).
FEED_ACCOUNT_RECORDER = "trading.feed.AccountRecorder"

# LIVE trades real money: it needs this setting *and* an operator's confirmation in the admin, and it
# starts halted. Without both, the LIVE broker refuses every order and /health/ says why.
LIVE_TRADING_ARMED = env_bool("LIVE_TRADING_ARMED", False)
# The paper (DRY) account's starting cash, in whole dollars.
PAPER_BANKROLL = env_int("PAPER_BANKROLL", 1000, minimum=1)
# The strategy the trading cycle runs (see trading.strategies), and how often it runs.
TRADING_STRATEGY = env_str("TRADING_STRATEGY", "model-taker") or "model-taker"
TRADING_CYCLE_SECONDS = env_int("TRADING_CYCLE_SECONDS", 5 * 60, minimum=10)
# LIVE orders go in an exchange-side order group: when this many contracts match within 15 s, Kalshi
# cancels the group's orders itself, a backstop for our own limits.
ORDER_GROUP_CONTRACTS_LIMIT = env_int("ORDER_GROUP_CONTRACTS_LIMIT", 100, minimum=1)

# Credentials: from the environment (key id + path to the PEM file), or stored
# encrypted in the admin (markets.ApiCredential). The environment wins when set.
KALSHI_API_KEY_ID = env_uuid("KALSHI_API_KEY_ID")
KALSHI_PRIVATE_KEY_PATH = env_str("KALSHI_PRIVATE_KEY_PATH")
if bool(KALSHI_API_KEY_ID) != bool(KALSHI_PRIVATE_KEY_PATH):
    raise ImproperlyConfigured(
        "Set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH together, or neither "
        "(and store the key in the admin instead)."
    )

REST_PAGE_SIZE = env_int("REST_PAGE_SIZE", 500, minimum=1, maximum=1000)
ENABLE_MICRO_FEATS = env_bool("ENABLE_MICRO_FEATS", default=False)

# Fernet key(s) for django-encrypted-model-fields; comma-separated for rotation (newest first).
_field_keys = env_list("FIELD_ENCRYPTION_KEY", []) or [
    read_or_create_key(DATA_DIR / "field-encryption-key", lambda: Fernet.generate_key().decode("ascii"))
]
for _key in _field_keys:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY is invalid: each key must be 32 url-safe base64-encoded bytes "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None
FIELD_ENCRYPTION_KEY = _field_keys

for _secret in (SECRET_KEY, *FIELD_ENCRYPTION_KEY, METRICS_TOKEN):
    register_secret(_secret)

# --- Weather sources ------------------------------------------------------------------------

# api.weather.gov asks every client to identify itself with a way to reach its operator.
WEATHER_CONTACT = env_str("WEATHER_CONTACT", "https://github.com/kalshiweb/kalshiweb") or ""
WEATHER_SOURCES = env_list("WEATHER_SOURCES", ["nws", "open-meteo", "open-meteo-ensemble", "visual-crossing"])
# Empty: each adapter's own defaults (weather/sources/open_meteo.py).
OPEN_METEO_MODELS = env_list("OPEN_METEO_MODELS", [])
OPEN_METEO_ENSEMBLE_MODELS = env_list("OPEN_METEO_ENSEMBLE_MODELS", [])
FORECAST_DAYS_AHEAD = env_int("FORECAST_DAYS_AHEAD", 2, minimum=0, maximum=14)
WEATHER_FETCH_CONCURRENCY = env_int("WEATHER_FETCH_CONCURRENCY", 8, minimum=1, maximum=64)

# --- Health and freshness -------------------------------------------------------------------

HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 15, minimum=1)
HEALTH_FORECAST_STALE_MINUTES = env_int("HEALTH_FORECAST_STALE_MINUTES", 6 * 60, minimum=1)
HEALTH_MARKET_STALE_MINUTES = env_int("HEALTH_MARKET_STALE_MINUTES", 60, minimum=1)
MODEL_MAX_AGE_DAYS = env_int("MODEL_MAX_AGE_DAYS", 14, minimum=1)

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # A trading system: everything is for staff unless a view says otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["kalshiweb.rest.IsStaff"],
    # Token first: its "Token" challenge makes an unauthenticated request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PAGINATION_CLASS": "kalshiweb.rest.Pagination",
    "DEFAULT_PARSER_CLASSES": [  # DRF's three, with JSON that cannot crash on deep nesting
        "kalshiweb.rest.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "VIEW_NAME_FUNCTION": "kalshiweb.rest.view_name",
    "EXCEPTION_HANDLER": "kalshiweb.rest.exception_handler",  # {"error": {code, message, fields?}}
    "DEFAULT_THROTTLE_RATES": {"auth": "10/minute"},  # the token endpoint: slows password guessing
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "kalshiweb API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "Read the weather, markets, predictions and the trading ledger; switch trading and edit risk limits. "
        "Authenticate with a session or `Authorization: Token <key>` (POST /api/auth/token/). "
        "Staff may read; changing anything needs the 'Can change trading state' permission. "
        'Every error is {"error": {"code", "message", "fields"?}}.'
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # no CDN: the UI works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The one error shape, and the 400/401/403/404/429 each operation can answer (kalshiweb.rest).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "kalshiweb.rest.document_errors"],
    # Several models have a "status"; each choice set gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {"BacktestRunStatusEnum": "backtesting.models.BacktestRun.Status"},
}

# --- Logging --------------------------------------------------------------------------------

LOG_LEVEL = env_choice("LOG_LEVEL", LogLevel, LogLevel.INFO)
LOG_FORMAT = env_choice("LOG_FORMAT", LogFormat, LogFormat.CONSOLE)
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
