"""
The shop's settings, read from environment variables (12-factor).

Every variable is listed in the README's configuration table. A ``.env`` file at the project root
(``ENV_FILE``) fills in the variables the environment does not set: ``make run`` writes one from
``.env.example`` on its first run. The embedded defaults serve a
newcomer on a bare machine (SQLite, a cache and a broker on the file system); setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and Redis, as CI, docker-compose and
production do. With ``DEBUG`` off the settings are hardened so that ``check --deploy`` passes.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import schedule
from kombu import Queue

from shop import logs
from shop.settings import BASE_DIR, SettingsError, metrics_directory, read_env_file
from shop.settings.storage import s3_storage

ENV_FILE = read_env_file()
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise SettingsError(
            "SECRET_KEY is required when DEBUG is off: generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))' and set it in the "
            "environment or in .env (or set DEBUG=true to develop; `make run` writes a .env)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_prometheus",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop.kernel",
    "shop.accounts",
    "inventory",
    "catalog",
    "cart",
    "checkout",
    "integrations",
]

MIDDLEWARE = [
    # First: every log record of the request (the other middleware's too) carries its id.
    "shop.kernel.http.middleware.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "shop.kernel.http.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Cached catalog pages and lists for anonymous clients, answered before the session, CSRF,
    # authentication and DRF machinery they do not use (catalog/rest_api/fast_path.py).
    "catalog.rest_api.fast_path.CachedReadsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "shop.urls"
CSRF_FAILURE_VIEW = "shop.kernel.http.problems.csrf_failure_view"
WSGI_APPLICATION = "shop.wsgi.application"
# WSGI applications wrapped around Django's handler by shop/wsgi.py, each given the one inside it:
# the catalog's cached reads, answered before Django's handler and middleware (under gunicorn and
# runserver; the middleware above answers them where no WSGI front runs: the test client, ASGI).
WSGI_FRONTS = ["catalog.rest_api.fast_path.CachedReadsApp"]
ASGI_APPLICATION = "shop.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's templates: the admin's index (linking the operations page) and that page.
        "DIRS": [BASE_DIR / "shop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ by default (WAL and a busy timeout so that the web server and the
# worker can share it); DATABASE_URL=postgres://... for PostgreSQL.
_database_url = env.str("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'shop.sqlite3'}")
_scheme = urlsplit(_database_url).scheme
if _scheme not in ("sqlite", "postgres", "postgresql"):
    # Only the scheme is named: the URL may hold a password.
    raise SettingsError(
        f"DATABASE_URL has {f'the scheme {_scheme!r}' if _scheme else 'no scheme'}; the shop accepts "
        "sqlite:// (sqlite:///path/to/file.sqlite3) and postgres:// (postgres://user:password@host:5432/name)."
    )
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
else:
    # Django's PostgreSQL backend with a health check that polls the idle connection's socket
    # instead of sending SELECT 1 on every request and task (shop/kernel/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "shop.kernel.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles a query whose estimated cost is high, which for the short queries
    # of a shop costs more than it saves: a stock read of 2,000 SKUs with a poor row estimate
    # spent 250 ms compiling and 10 ms running. Off unless POSTGRES_JIT=true.
    if not env.bool("POSTGRES_JIT", default=False):
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    # The hot paths' own statements (shop.kernel.db) are bound on the server and prepared once a
    # connection has run them 5 times: PostgreSQL plans them no more (for the cart's quote,
    # planning took ten times as long as running). Off (POSTGRES_PREPARED_STATEMENTS=false)
    # behind a pooler that does not keep prepared statements per client (PgBouncer in transaction
    # mode before 1.21, or without max_prepared_statements). Django's own statements never are.
    if env.bool("POSTGRES_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}
# django-prometheus's database metrics (statements, errors and their latency per alias and
# vendor: django_db_execute_total, django_db_query_duration_seconds, ...) through its wrapper of
# Django's own backend, when METRICS_DATABASE is on: a counter and a histogram written per
# statement cost about 0.2 ms of an add to the cart (2.5 ms), so it is off unless asked for.
# (On PostgreSQL the shop's backend extends that wrapper then: shop/kernel/postgresql/base.py.)
METRICS_DATABASE = env.bool("METRICS_DATABASE", default=False)
if METRICS_DATABASE:
    DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
        "django.db.backends.", "django_prometheus.db.backends.", 1
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis serves the cache and the Celery broker when configured. The cache fails open: with Redis
# down, reads go to the database (slower, not broken); the sign-in throttle alone fails closed.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis's backend with django-prometheus's counts of gets, hits and misses
            # (django_cache_get_total, ...). The catalog's hot reads come with the throttle's
            # script (shop/kernel/http/throttling.py), not through get, and are not in them.
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop"),
            "TIMEOUT": 300,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    # Embedded defaults: a cache in files under VAR_DIR, which every process of this machine shares
    # (web, workers), so that an entry a worker drops on commit (a price import, a stock change)
    # is gone for the web process too; a local-memory cache would keep each process's copy.
    # The rate throttles count with add + incr, atomic in the local-memory cache but not in files:
    # they count in a local-memory cache of their own ("throttle", shop/kernel/http/throttling.py),
    # per process, which is exact under runserver (one web process) and per gunicorn worker else.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 20000},
        },
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "shop-throttle",
        },
    }

# Sign-in by e-mail address whatever the username (a staff user of `createsuperuser` included).
AUTHENTICATION_BACKENDS = ["shop.accounts.backends.EmailOrUsernameBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Files that cross processes (uploaded imports that a worker reads, exports that a worker writes
# and the web server hands out) go through the default storage, which every web and worker
# process must see: MEDIA_ROOT on one machine or a volume they share (docker-compose mounts one
# there), or an S3-compatible bucket (django-storages) when AWS_STORAGE_BUCKET_NAME is set.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = s3_storage(env)
# An export's download answers with a redirect to a signed URL of the bucket (the bytes do not go
# through the shop) instead of streaming the file; needs AWS_STORAGE_BUCKET_NAME, and an endpoint
# that the clients can reach.
EXPORT_DOWNLOAD_REDIRECT = env.bool("EXPORT_DOWNLOAD_REDIRECT", default=False)
if EXPORT_DOWNLOAD_REDIRECT and not AWS_STORAGE_BUCKET_NAME:
    raise SettingsError("EXPORT_DOWNLOAD_REDIRECT needs object storage: set AWS_STORAGE_BUCKET_NAME.")

# Logs (shop/logs.py; README, "Logs and traces"): JSON lines in production, readable lines under
# DEBUG (LOG_FORMAT says otherwise); each record printed once, by the root's handler, with the
# request id, the order number and (tracing on) the trace id; order tokens and other token
# parameters redacted from every line: runserver's access log (django.server), Django's request
# log, whatever reaches the console (gunicorn's logs: gunicorn.conf.py's logger_class).
LOG_FORMAT = logs.log_format(env.str("LOG_FORMAT", default=""), debug=DEBUG)
LOGGING = logs.config(fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))

# --- The shop -------------------------------------------------------------------------------
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
# The shop's public address, and the product URLs of feeds (exports): ``{base_url}`` (SHOP_BASE_URL
# without a trailing slash), ``{slug}`` and ``{sku}`` filled in per row. The default is
# the product's page in this API, which exists; a fork with a storefront points it there.
SHOP_BASE_URL = env.str("SHOP_BASE_URL", default="http://localhost:8000")
PRODUCT_URL_TEMPLATE = env.str("PRODUCT_URL_TEMPLATE", default="{base_url}/api/v1/catalog/products/{slug}/")
try:
    PRODUCT_URL_TEMPLATE.format(base_url="", slug="", sku="")
except (KeyError, IndexError, ValueError) as exc:
    raise SettingsError(
        f"PRODUCT_URL_TEMPLATE {PRODUCT_URL_TEMPLATE!r} is not a template of {{base_url}}, {{slug}} "
        f"and {{sku}} ({type(exc).__name__}: {exc})."
    ) from None
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=300)
# Cache-Control max-age of catalog responses: how long a browser, CDN or reverse proxy may answer
# for the shop before it revalidates with the ETag (a 304 costs one cache read here).
CATALOG_HTTP_MAX_AGE = env.int("CATALOG_HTTP_MAX_AGE", default=10)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=15.0)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
# Commits ask for one relay task while an earlier ask has not started (shop/kernel/outbox.py,
# ask_relay): the longest a lost relay task can hold back new asks (the sweep relays meanwhile).
OUTBOX_RELAY_COALESCE_SECONDS = env.int("OUTBOX_RELAY_COALESCE_SECONDS", default=10)
# How long that relay task waits before it starts: the events committed meanwhile go with it, in
# one message per subscriber (0: at once; an event then reaches its subscriber a little sooner).
OUTBOX_RELAY_DELAY_SECONDS = env.float("OUTBOX_RELAY_DELAY_SECONDS", default=0.25)
# The relay sends a subscriber's events in messages of up to this many (one task run each, each
# event in its own transaction): fewer messages for the broker and the worker under load, while a
# large backlog still spreads over the worker's processes.
OUTBOX_EVENTS_PER_MESSAGE = env.int("OUTBOX_EVENTS_PER_MESSAGE", default=20)
# How often beat stores the checkout funnel's counters, from which the operations page tells the
# last hour without a Prometheus (shop/kernel/funnel.py).
FUNNEL_SNAPSHOT_SECONDS = env.int("FUNNEL_SNAPSHOT_SECONDS", default=60)
# A sent event whose subscribers have not all handled it this long after is sent to them again
# (its message was lost); the pause doubles with each round, up to the maximum.
OUTBOX_REDELIVER_SECONDS = env.float("OUTBOX_REDELIVER_SECONDS", default=120.0)
OUTBOX_REDELIVER_MAX_SECONDS = env.float("OUTBOX_REDELIVER_MAX_SECONDS", default=3600.0)
# Queue heartbeats (shop.kernel.heartbeats): beat sends one to every queue this often; a queue
# whose newest heartbeat ran longer ago than the maximum age has no worker consuming it
# (/healthz/workers 503, `manage.py queue_health` fails).
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)
WORKER_HEARTBEAT_MAX_AGE_SECONDS = env.float("WORKER_HEARTBEAT_MAX_AGE_SECONDS", default=60.0)
# How often beat sends the tasks of import and export jobs that never reached the broker, or
# whose message the broker lost (integrations.services.dispatch).
JOBS_SWEEP_SECONDS = env.float("JOBS_SWEEP_SECONDS", default=15.0)
# Price imports (integrations): the largest CSV accepted, and the rows applied per transaction.
PRICE_IMPORT_MAX_BYTES = env.int("PRICE_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
PRICE_IMPORT_CHUNK_ROWS = env.int("PRICE_IMPORT_CHUNK_ROWS", default=2000)
STOCK_SYNC_CHUNK_ROWS = env.int("STOCK_SYNC_CHUNK_ROWS", default=1000)
# Product imports (integrations): the largest feed accepted, and the rows upserted per transaction.
PRODUCT_IMPORT_MAX_BYTES = env.int("PRODUCT_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
PRODUCT_IMPORT_CHUNK_ROWS = env.int("PRODUCT_IMPORT_CHUNK_ROWS", default=1000)
CHECKOUT_RESERVATION_TTL = env.int("CHECKOUT_RESERVATION_TTL", default=900)
# The ERP the shop hands orders to; `make run` starts the shipped simulator there.
ERP_URL = env.str("ERP_URL", default="http://127.0.0.1:8099")
# Hand-over to the ERP (integrations/README.md): timeouts of one request, retries with exponential
# backoff and jitter up to a cap (then the dead letter, `failed`), the circuit breaker, the sweep.
ERP_CONNECT_TIMEOUT_SECONDS = env.float("ERP_CONNECT_TIMEOUT_SECONDS", default=3.0)
ERP_READ_TIMEOUT_SECONDS = env.float("ERP_READ_TIMEOUT_SECONDS", default=10.0)
ERP_MAX_ATTEMPTS = env.int("ERP_MAX_ATTEMPTS", default=8)
ERP_BACKOFF_BASE_SECONDS = env.float("ERP_BACKOFF_BASE_SECONDS", default=30.0)
ERP_BACKOFF_MAX_SECONDS = env.float("ERP_BACKOFF_MAX_SECONDS", default=3600.0)  # < the visibility timeout
ERP_BREAKER_THRESHOLD = env.int("ERP_BREAKER_THRESHOLD", default=5)
ERP_BREAKER_COOLDOWN_SECONDS = env.float("ERP_BREAKER_COOLDOWN_SECONDS", default=60.0)
# Longer than an attempt can take (the delivery task's time limit: timeouts + 30 s).
ERP_IN_FLIGHT_TIMEOUT_SECONDS = env.float("ERP_IN_FLIGHT_TIMEOUT_SECONDS", default=120.0)
ERP_REQUEUE_GRACE_SECONDS = env.float("ERP_REQUEUE_GRACE_SECONDS", default=60.0)
ERP_SWEEP_SECONDS = env.float("ERP_SWEEP_SECONDS", default=30.0)
CART_MAX_LINES = env.int("CART_MAX_LINES", default=50)
# Retention: anonymous carts untouched this long, and checkouts that are over (completed,
# abandoned, expired) untouched this long, are deleted by beat (customers' carts are kept).
CART_RETENTION_DAYS = env.int("CART_RETENTION_DAYS", default=30)
CHECKOUT_RETENTION_DAYS = env.int("CHECKOUT_RETENTION_DAYS", default=30)
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="checkout.payments.SandboxGateway")
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=48)
# A completion whose request died mid-way (its process was killed) is taken over after this long.
IDEMPOTENCY_STALE_SECONDS = env.int("IDEMPOTENCY_STALE_SECONDS", default=120)
ACCESS_TOKEN_DAYS = env.int("ACCESS_TOKEN_DAYS", default=30)

# --- HTTP API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials gets 401 with WWW-Authenticate: Bearer.
        "shop.accounts.rest_api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "shop.kernel.http.renderers.ProblemJSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PARSER_CLASSES": ["shop.kernel.http.parsers.BoundedJSONParser"],
    # No `?format=`: content negotiation is by Accept only, so a query parameter the schema does not
    # name cannot turn a request into a 404 (and the schema names no `format` on every operation).
    "URL_FORMAT_OVERRIDE": None,
    "EXCEPTION_HANDLER": "shop.kernel.http.problems.problem_exception_handler",
    # Operations tagged by the context that owns them; no lock on those open to anyone.
    "DEFAULT_SCHEMA_CLASS": "shop.kernel.http.schema.ShopAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's rates, counted atomically in the cache; they fail open (shop/kernel/http/throttling.py).
        "shop.kernel.http.throttling.AnonRateThrottle",
        "shop.kernel.http.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="600/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        # Sign-in and registration, per client address: slows password guessing; fails closed.
        "auth": env.str("THROTTLE_AUTH", default="10/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
API_PAGE_SIZE = 20
API_MAX_PAGE_SIZE = 100
# JSON bodies: refused (400) above this size or nesting depth, before they are decoded.
API_JSON_MAX_BYTES = env.int("API_JSON_MAX_BYTES", default=1024 * 1024)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
# Seconds a 503 answer's Retry-After header asks a client to wait.
RETRY_AFTER_SECONDS = env.int("RETRY_AFTER_SECONDS", default=5)

SPECTACULAR_SETTINGS = {
    "TITLE": "Reference shop API",
    "DESCRIPTION": (
        "The shop's HTTP contract (v1). Errors are RFC 9457 problem details "
        "(application/problem+json) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One tag per context, in the order of a purchase (shop.kernel.http.schema.ShopAutoSchema).
    "TAGS": [
        {"name": "accounts", "description": "Registration, sign-in and sign-out (bearer tokens)."},
        {"name": "catalog", "description": "Categories and products: public, read-only."},
        {"name": "cart", "description": "Carts by token (guests) or of the signed-in customer."},
        {"name": "checkout", "description": "Checkouts, payment and orders."},
        {"name": "inventory", "description": "Stock levels (staff)."},
        {
            "name": "integrations",
            "description": "Price and product imports, exports, ERP hand-overs (staff).",
        },
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies as their serializers declare them: a PATCH of a cart line requires `quantity`;
    # a checkout's PATCH fields are optional because its serializer says so.
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shop.kernel.http.schema.blank_query_parameters_are_absent",
        "shop.kernel.http.schema.text_without_nul",
    ],
    # Choice sets that share a field name (``status``) get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "ErpHandoverStatusEnum": "integrations.models.ErpHandover.Status",
        "JobStatusEnum": "integrations.models.ImportJob.Status",  # ExportJob.Status: the same choices
    },
}

# --- Celery ---------------------------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's file-system transport, a broker that needs no
# server, so that a web process, a worker and beat on one machine can talk without Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task's time limit or countdown, so that an unacknowledged task is not
        # handed to a second worker while the first still runs it.
        "visibility_timeout": 3 * 60 * 60,
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
    }
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers and beat reconnect for as long as the broker is away (celery's default gives up after
# 100 attempts, about 45 minutes at kombu's back-off of 2, 4, ... 30 s, and the worker exits).
# celery is kept below 5.7 (pyproject.toml): 5.7.0 workers exit on a Redis restart.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# The workers and beat log through the settings' LOGGING (JSON or console, the log context), not
# a root handler of Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "erp", "prices", "exports", "housekeeping")]
# The queues of the one-process bulk worker (prices, exports, housekeeping) take the work that may
# run for minutes: imports, the stock sync, exports, and the periodic purges (cart and checkout
# purges delete up to 100,000 rows a run, all firing on the hour), so that the default,erp worker
# stays free for events and ERP hand-overs. Patterns are tried in order: the purges come first.
CELERY_TASK_ROUTES = {
    "*.purge_*": {"queue": "housekeeping"},
    "shop.kernel.snapshot_*": {"queue": "housekeeping"},
    "integrations.erp_*": {"queue": "erp"},
    "integrations.price_*": {"queue": "prices"},
    "integrations.export_*": {"queue": "exports"},
    "integrations.product_*": {"queue": "prices"},
    # Stock feeds run for up to 30 minutes: with the other imports on the bulk worker, never on
    # the queue of the ERP hand-overs.
    "integrations.stock_*": {"queue": "prices"},
    # Every other task (events, the outbox, sweeps) goes to CELERY_TASK_DEFAULT_QUEUE, "default".
}
# Every task is idempotent: it is acknowledged only after it ran, and given back to the queue if
# the worker running it dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On a warm shutdown (SIGTERM, a deploy) running tasks get this long to finish before the worker
# stops them; unacknowledged tasks then go back to the queue (late acknowledgement).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env.float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", default=30.0)
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = True
# Database connections in the workers follow Django's request rule (CONN_MAX_AGE, CONN_HEALTH_CHECKS),
# applied around every task by shop/celery.py; celery's own Django fix-up would otherwise close
# them before and after each task (a new PostgreSQL connection, a backend process forked, for
# every event). It still closes them every CELERY_DB_REUSE_MAX tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "shop.kernel.relay_outbox",
        "schedule": schedule(timedelta(seconds=OUTBOX_SWEEP_SECONDS)),
        "options": {"expires": OUTBOX_SWEEP_SECONDS * 2},
    },
    "outbox-redeliver": {
        "task": "shop.kernel.redeliver_outbox",
        "schedule": schedule(timedelta(seconds=30)),
        "options": {"expires": 60},
    },
    "inventory-release-expired": {
        "task": "inventory.release_expired_reservations",
        "schedule": schedule(timedelta(seconds=60)),
        "options": {"expires": 120},
    },
    "checkout-purge-idempotency-keys": {
        "task": "checkout.purge_idempotency_keys",
        "schedule": schedule(timedelta(hours=1)),
    },
    "cart-purge-stale-carts": {
        "task": "cart.purge_stale_carts",
        "schedule": schedule(timedelta(hours=1)),
    },
    "checkout-purge-checkouts": {
        "task": "checkout.purge_checkouts",
        "schedule": schedule(timedelta(hours=1)),
    },
    "accounts-purge-expired-tokens": {
        "task": "accounts.purge_expired_tokens",
        "schedule": schedule(timedelta(hours=1)),
    },
    "funnel-snapshot": {
        "task": "shop.kernel.snapshot_funnel",
        "schedule": schedule(timedelta(seconds=FUNNEL_SNAPSHOT_SECONDS)),
        "options": {"expires": FUNNEL_SNAPSHOT_SECONDS},
    },
    "outbox-purge": {
        "task": "shop.kernel.purge_outbox",
        "schedule": schedule(timedelta(hours=1)),
    },
    "integrations-send-unsent-jobs": {
        "task": "integrations.jobs_send_unsent",
        "schedule": schedule(timedelta(seconds=JOBS_SWEEP_SECONDS)),
        "options": {"expires": JOBS_SWEEP_SECONDS * 2},
    },
    "erp-requeue-handovers": {
        "task": "integrations.erp_requeue_handovers",
        "schedule": schedule(timedelta(seconds=ERP_SWEEP_SECONDS)),
        "options": {"expires": ERP_SWEEP_SECONDS * 2},
    },
    # A heartbeat to each queue, expiring when it would be stale anyway (its expiry also carries
    # its send time: shop.kernel.tasks.queue_heartbeat).
    **{
        f"worker-heartbeat-{queue.name}": {
            "task": "shop.kernel.queue_heartbeat",
            "schedule": schedule(timedelta(seconds=WORKER_HEARTBEAT_SECONDS)),
            "args": (queue.name, WORKER_HEARTBEAT_MAX_AGE_SECONDS),
            "options": {"queue": queue.name, "expires": WORKER_HEARTBEAT_MAX_AGE_SECONDS},
        }
        for queue in CELERY_TASK_QUEUES
    },
}

# --- Metrics --------------------------------------------------------------------------------
# prometheus-client's multiprocess mode: every process of this machine that shares this folder
# (gunicorn's workers, runserver, Celery's worker processes) writes its samples there and /metrics
# serves their sum (shop/kernel/metrics_files.py says when the folder is cleaned). Set here, before
# any app imports prometheus-client, which reads the variable once; gunicorn.conf.py and
# shop.preflight set it for their processes the same way.
PROMETHEUS_MULTIPROC_DIR = str(metrics_directory())
# Campaigns counted by name (utm_campaign or X-Campaign); any other value counts as "other", so the
# number of series stays bounded whatever clients send.
METRICS_CAMPAIGNS = [
    name.strip().lower() for name in env.list("METRICS_CAMPAIGNS", default=[]) if name.strip()
]
# A Celery worker serves its own processes' metrics on this port (0: not at all), for deployments
# where web and the worker do not share a machine and so a folder (docker-compose).
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", default=0)
WORKER_METRICS_ADDRESS = env.str("WORKER_METRICS_ADDRESS", default="127.0.0.1")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_prometheus.middleware.PrometheusBeforeMiddleware") + 1,
    "shop.kernel.metrics.CampaignMiddleware",
)

# --- Production hardening (check --deploy passes with DEBUG off) ----------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/workers$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", default=False) else None
    )
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    X_FRAME_OPTIONS = "DENY"
