"""PeerHub settings: one module, read from the environment.

Embedded default (no variables set): DEBUG on, SQLite file under var/, Celery tasks run eagerly,
local-memory cache, e-mail printed to the console. Setting DATABASE_URL and REDIS_URL switches to
PostgreSQL, a Redis cache and a Redis Celery broker. README.md lists every variable.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PEERHUB_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-peerhub-development-only-never-use-this-key-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "peerhub",
    "challenges",
    "reputation",
    "marketplace",
]

MIDDLEWARE = [
    # First: everything after it sees the client's address and scheme, not the proxy's.
    "peerhub.proxies.TrustedProxyMiddleware",
    # A request id for every log line and every task the request queues; request metrics.
    "peerhub.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Input limits and error answers (peerhub/middleware.py, README "Input limits").
    "peerhub.middleware.ApiErrorShapeMiddleware",
    "peerhub.middleware.RequestHygieneMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language (issue 22): language cookie, then Accept-Language; URLs stay as they are.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A member's own language and time zone over the browser's; visitors' zone from a cookie.
    "peerhub.locales.ReaderLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff pages and the admin wait until a staff member has set up two-factor authentication.
    "peerhub.mfa.StaffMfaMiddleware",
    # Unsafe requests per client address (peerhub.throttles), after the member is known.
    "peerhub.throttles.IpWriteLimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "peerhub.middleware.DatabaseOutageMiddleware",
    "peerhub.pagecache.PageCacheMiddleware",  # last: anonymous pages from cache (issue 17)
]

ROOT_URLCONF = "peerhub.urls"
WSGI_APPLICATION = "peerhub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "peerhub.context_processors.site",
                "marketplace.context_processors.payments_notice",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
# Every PostgreSQL connection's settings. No JIT: it pays off for long analytical queries, while
# ours are short or one-off, and compiling cost up to 0.1 s a statement (measured: the rankings'
# measuring query spent 99 of its 136 ms compiling, the rebuild's batches 2.7 s each). A random
# read priced near a sequential one (PostgreSQL's advice for data in memory or on SSD; its
# default of 4 dates from spinning disks): otherwise the planner hashes every solution on the
# platform to check a thousand offers against them, 54 ms instead of 8 at 100,000 members.
POSTGRES_SESSION = (
    f"-c jit=off -c random_page_cost={os.environ.get('DATABASE_RANDOM_PAGE_COST', '1.1')}"
)
if DATABASE_URL:
    # Persistent connections, checked before each request reuses one: after a database restart
    # the stale connection is replaced instead of failing the request.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = POSTGRES_SESSION
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "peerhub.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The largest request body, in bytes: 1 MiB holds the largest text field (a solution's 100,000
# characters, peerhub/limits.py) even percent-encoded. Larger is a 413 (peerhub.middleware), and
# the API's JSON parser reads no more (peerhub.api.parsers).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# A multipart body (files on a solution's form or API) may be larger: up to this many bytes in
# all, each file under its own per-file quota (challenges.files); Django spools files over
# FILE_UPLOAD_MAX_MEMORY_SIZE to temporary files, the text fields keep the cap above.
FILE_UPLOAD_REQUEST_MAX = int(os.environ.get("FILE_UPLOAD_REQUEST_MAX", 60 * 1024 * 1024))
AUTH_USER_MODEL = "peerhub.User"

# --- Cache and Celery -----------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
# An unreachable Redis is a miss, never a 500 (peerhub.redis_cache): no call waits longer than
# these for it, and after a failure Redis is not asked again for PEERHUB_CACHE_RETRY_SECONDS.
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": float(os.environ.get("REDIS_CONNECT_TIMEOUT", "0.5")),
    "socket_timeout": float(os.environ.get("REDIS_SOCKET_TIMEOUT", "1")),
}
PEERHUB_CACHE_RETRY_SECONDS = float(os.environ.get("CACHE_RETRY_SECONDS", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "peerhub.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "peerhub",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # allauth's rate limits need a cache that really stores: local memory does, per process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took and never acknowledged (the worker was killed) is delivered again
# after this long: just over the longest a task may run. The outbox's sweep (peerhub.outbox)
# also publishes again any promised task not done within its lease, whatever the broker does.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "600"))
}
# Writes per member and window (peerhub.throttles): "new" is trust levels 0-1, "established"
# level 2 and up; staff are not limited. WRITE_LIMITS_ENABLED=0 turns them off (load tests).
PEERHUB_WRITE_LIMITS_ENABLED = env_bool("WRITE_LIMITS_ENABLED", True)
PEERHUB_WRITE_LIMITS = {
    "solution": {"window": 3600, "new": 5, "established": 30, "label": "new solutions"},
    "revision": {"window": 3600, "new": 20, "established": 120, "label": "revisions"},
    "fork": {"window": 3600, "new": 10, "established": 60, "label": "forks"},
    "comment": {"window": 600, "new": 10, "established": 60, "label": "comments"},
    "order_message": {"window": 600, "new": 20, "established": 60, "label": "messages"},
    "proposal": {"window": 86400, "new": 3, "established": 20, "label": "challenge proposals"},
    "order": {"window": 3600, "new": 5, "established": 30, "label": "orders"},
    "offer": {"window": 86400, "new": 3, "established": 20, "label": "new offers"},
    "review": {"window": 3600, "new": 10, "established": 60, "label": "reviews"},
    "token": {"window": 3600, "new": 5, "established": 20, "label": "new API tokens"},
    "upload": {"window": 3600, "new": 30, "established": 200, "label": "file uploads"},
    # The editor's Preview tab renders on the server: cheap, but not free.
    "preview": {"window": 600, "new": 60, "established": 300, "label": "previews"},
}
# Unsafe requests (POST, PUT, PATCH, DELETE) per client address, whoever is signed in.
PEERHUB_IP_WRITE_LIMIT = {
    "window": 600,
    "writes": int(os.environ.get("IP_WRITE_LIMIT_PER_10_MINUTES", "300")),
}
PEERHUB_OUTBOX = {"max_attempts": int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10"))}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Promised work the broker lost, a killed worker stranded, or that waits for a retry.
    "peerhub-outbox-sweep": {"task": "peerhub.tasks.outbox_sweep", "schedule": 60.0},
    "challenges-past-deadline-to-selecting": {
        "task": "challenges.tasks.close_challenges_past_deadline",
        "schedule": crontab(minute="*/5"),
    },
    # The long jobs are promised through the outbox (peerhub.tasks.promise): one killed
    # mid-run is run again by the sweep once its lease is over, without a person.
    "reputation-nightly-rebuild": {
        "task": "peerhub.tasks.promise",
        "args": ["reputation.tasks.recompute_reputation"],
        "schedule": crontab(minute=30, hour=3),
    },
    # Of what changed since the last run (reputation.touches); everything, Sundays an hour later.
    "reputation-weekly-rebuild": {
        "task": "peerhub.tasks.promise",
        "args": ["reputation.tasks.recompute_reputation_whole"],
        "schedule": crontab(minute=30, hour=4, day_of_week=0),
    },
    "reputation-board-window": {"task": "reputation.tasks.roll_board_window", "schedule": 300.0},
    "reputation-serial-voting": {
        "task": "reputation.tasks.reverse_serial_votes",
        "schedule": crontab(minute=45),
    },
    # Blobs no revision holds any more (challenges.files), after their grace period.
    "challenges-sweep-unreferenced-blobs": {
        "task": "challenges.tasks.sweep_unreferenced_blobs",
        "schedule": crontab(minute=40),
    },
    # Large revisions' zips built by a task (challenges.archives), past their time.
    "challenges-sweep-revision-archives": {
        "task": "challenges.tasks.sweep_revision_archives",
        "schedule": crontab(minute=50),
    },
    # Members' data archives past their link's expiry, and exports stuck unbuilt (issue 21).
    "peerhub-sweep-data-exports": {
        "task": "peerhub.tasks.sweep_data_exports",
        "schedule": crontab(minute=25),
    },
    "purge-stale-unverified-accounts": {
        "task": "peerhub.tasks.purge_stale_unverified_accounts",
        "schedule": crontab(minute=17, hour="*/6"),
    },
    # Accounts whose deletion grace period ran out are anonymised (peerhub.deletion).
    "anonymise-due-accounts": {
        "task": "peerhub.tasks.anonymise_due_accounts",
        "schedule": crontab(minute=25),
    },
}

# --- Accounts (django-allauth) --------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # Privileges (vote down, review, organise, …) from reputation trust levels. First, so that
    # the privileges members exercise all the time are answered without the two permission
    # queries of the model backends (which still answer staff's model permissions). It never
    # authenticates anyone.
    "reputation.backends.TrustLevelBackend",
    "peerhub.auth_backends.ModelBackend",
    "peerhub.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# Confirming the address signs the member in and takes them home. allauth does so for the browser
# that signed up (or tried to log in) within ACCOUNT_LOGIN_TIMEOUT; a link opened in another
# browser confirms the address and asks to log in there, so a leaked link never logs anyone in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_TIMEOUT = 60 * 60  # an hour to find the e-mail, not allauth's 15 minutes
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[PeerHub] "
ACCOUNT_FORMS = {"login": "peerhub.forms.LoginForm"}
# The adapter gives allauth's rate limits the client address (peerhub.proxies.client_ip) and
# routes password logins through the failed-login limits (peerhub.login_limits).
ACCOUNT_ADAPTER = "peerhub.adapters.AccountAdapter"
ACCOUNT_RATE_LIMITS_ENABLED = env_bool("ACCOUNT_RATE_LIMITS_ENABLED", True)
# "Send me a sign-in code": the way in that no one can take from a member by failing their
# password on purpose (peerhub.login_limits never delays it).
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Two-factor authentication (allauth.mfa): an authenticator app (TOTP), security keys and
# passkeys (WebAuthn), and recovery codes. WebAuthn needs HTTPS, except on the development
# server's http://localhost (DEBUG).
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "PeerHub"
# Staff pages and the admin, and sellers' payouts, need two-factor authentication
# (peerhub.mfa). `staff_paths`: regular expressions matched at the start of the path, the staff
# pages and the staff-only actions inside members' pages and the API.
PEERHUB_MFA = {
    "staff": env_bool("MFA_REQUIRED_FOR_STAFF", True),
    "payouts": env_bool("MFA_REQUIRED_FOR_PAYOUTS", True),
    "staff_paths": [
        r"/admin/",
        r"/staff/",
        r"/moderation/",
        r"/marketplace/staff/",
        r"/marketplace/orders/\d+/resolve/",
        r"/api/payments/events/",
        r"/api/staff/",
        r"/api/orders/\d+/resolve/",
        r"/api/(refunds|payouts)/\d+/retry/",
    ],
}
# Personal access tokens (peerhub.tokens): the expiry offered by default, how many live tokens
# a member may hold, and the API paths that need the "marketplace" scope.
PEERHUB_TOKENS = {
    "default_days": int(os.environ.get("TOKEN_DEFAULT_DAYS", "90")),
    "max_per_member": 50,
    "marketplace_paths": [
        "/api/orders/",
        "/api/payouts/",
        "/api/subscriptions/",
        "/api/balance/",
        "/api/refunds/",
        "/api/payments/",
    ],
}
# Failed sign-ins, per account, per client address and per (account, address), on every way in
# (peerhub.login_limits): `free` attempts, then one attempt per `delay` seconds, doubling up
# to `max_delay`; counts are forgotten `window` seconds after the first attempt.
PEERHUB_LOGIN_LIMITS = {
    "pair": {"free": 5, "delay": 30, "max_delay": 900, "window": 3600},
    "ip": {"free": 20, "delay": 60, "max_delay": 900, "window": 3600},
    "account": {"free": 10, "delay": 30, "max_delay": 900, "window": 3600},
}
# Accounts that never verified their address are removed after this long.
PEERHUB_UNVERIFIED_ACCOUNT_TTL = timedelta(days=int(os.environ.get("UNVERIFIED_TTL_DAYS", "7")))
# A member's data export (issue 21, peerhub.exports): the e-mailed link works this many days,
# and a member may ask for one export per `every_hours`.
PEERHUB_EXPORTS = {
    "link_days": int(os.environ.get("EXPORT_LINK_DAYS", "7")),
    "every_hours": int(os.environ.get("EXPORT_EVERY_HOURS", "24")),
}

# Leaving (issue 21, peerhub.deletion): how long a member may change their mind by signing in
# again before their account is anonymised.
PEERHUB_ACCOUNT_DELETION_GRACE = timedelta(
    days=int(os.environ.get("ACCOUNT_DELETION_GRACE_DAYS", "14"))
)

# --- E-mail ---------------------------------------------------------------------------------

# MAILER: "console" (the default with DEBUG: e-mails are printed by runserver), "file" (written
# under var/mail) or "smtp" (the default without DEBUG; EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
MAILER = os.environ.get("MAILER", "console" if DEBUG else "smtp")
_MAILERS = {
    # Printed readable: the text body as written, links on one line (peerhub.mail).
    "console": {"BACKEND": "peerhub.mail.ConsoleEmailBackend"},
    "file": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
    },
    "smtp": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "timeout": 10,
        },
    },
}
if MAILER not in _MAILERS:
    raise ImproperlyConfigured(f"MAILER must be one of {', '.join(_MAILERS)}, not {MAILER!r}.")
MAILERS = {"default": _MAILERS[MAILER]}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "PeerHub <hello@peerhub.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation and static files --------------------------------------------------

LANGUAGE_CODE = "en"
# The languages PeerHub's pages are written in (issue 22); each has its catalogue in locale/.
# Visitors get their Accept-Language (or the language cookie); members their chosen language.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates as each language writes them: templates name a format ("SHORT_DATE_FORMAT"), and
# peerhub/formats/<lang>/formats.py words it where PeerHub differs from Django's.
FORMAT_MODULE_PATH = ["peerhub.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"


def files_storage(url: str) -> dict:
    """The `files` storage (challenges.files: content-addressed blobs). Without STORAGE_URL
    the filesystem under var/files; with `s3://KEY:SECRET@BUCKET?endpoint_url=…&region_name=…`
    an S3-compatible object store (AWS S3, MinIO, R2, …) through django-storages."""
    if not url:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": os.environ.get("FILES_ROOT", str(VAR_DIR / "files")),
                "allow_overwrite": True,
            },
        }
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.hostname:
        raise ImproperlyConfigured("STORAGE_URL must look like s3://KEY:SECRET@BUCKET?…")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parts.hostname,
            "access_key": unquote(parts.username or ""),
            "secret_key": unquote(parts.password or ""),
            "endpoint_url": options.get("endpoint_url"),
            "region_name": options.get("region_name"),
            "default_acl": None,
            # Content-addressed: a name always holds the same bytes, so writing it again is
            # harmless, and the name must stay exactly what it is.
            "file_overwrite": True,
            "querystring_auth": True,
        },
    }


def exports_storage(url: str) -> dict:
    """The `exports` storage: members' data archives (peerhub.exports). The filesystem under
    var/exports, or the same S3-compatible store as the files under the `exports/` prefix.
    Never served publicly: the owner downloads through a view that checks who asks."""
    if not url:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": os.environ.get("EXPORTS_ROOT", str(VAR_DIR / "exports")),
                "allow_overwrite": True,
            },
        }
    storage = files_storage(url)
    # One name per export: a task run twice writes the same archive over itself.
    storage["OPTIONS"] |= {"location": "exports"}
    return storage


STORAGE_URL = os.environ.get("STORAGE_URL", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "files": files_storage(STORAGE_URL),
    "exports": exports_storage(STORAGE_URL),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security -------------------------------------------------------------------------------

# No inline script, no eval, nothing from another host: scripts carry the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto count (IPs or CIDR networks,
# comma-separated; none by default): peerhub.proxies. SECURE_PROXY_SSL_HEADER stays unset on
# purpose, since Django would believe that header from any client.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an IP or CIDR.") from None

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The container's own health check asks over plain HTTP from inside (peerhub.healthcheck).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Tokens first: an anonymous request then gets 401 with `WWW-Authenticate: Token`, not 403.
    # Personal access tokens (peerhub.tokens) carry scopes that this class enforces.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "peerhub.api.authentication.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "peerhub.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_PARSER_CLASSES": [
        "peerhub.api.parsers.JSONParser",
        "peerhub.api.parsers.FormParser",
        "peerhub.api.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "peerhub.api.filters.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "peerhub.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "peerhub.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth-token": "10/min"},
    # Throttles key on peerhub.proxies.client_ip (peerhub.api.throttling); any DRF throttle that
    # does not falls back to REMOTE_ADDR, never to a client-supplied X-Forwarded-For.
    "NUM_PROXIES": 0,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PeerHub API",
    "DESCRIPTION": (
        "Challenges, solutions, forks, reputation and the marketplace of PeerHub. "
        "Authenticate with a session or with a personal access token, "
        "`Authorization: Token <token>`: create one on the account's API tokens page or with "
        "`POST /api/auth/tokens/` (signed in), or exchange a password for one with "
        "`POST /api/auth/token/`. Tokens carry scopes (`read`, `write`, `marketplace`) and "
        "expire (90 days unless chosen otherwise)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    # The interactive docs load Swagger UI from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a `status`: each choice set gets its own, stable schema name.
    "ENUM_NAME_OVERRIDES": {
        "ChallengeStatusEnum": "challenges.models.Challenge.Status",
        "ChallengeProposalStatusEnum": "challenges.models.ChallengeProposal.Status",
        "SolutionStatusEnum": "challenges.models.Solution.Status",
        "UpstreamProposalStatusEnum": "challenges.models.UpstreamProposal.Status",
    },
}

# --- Logging --------------------------------------------------------------------------------

# LOG_FORMAT: "json" (the default with DEBUG off: one object per line, with the request id) or
# "plain". Every record carries the id of the request (or the task it queued) that made it.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "peerhub.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "peerhub.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Eager tasks would log every success inline with the web server's output.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}

# /metrics (peerhub.observability): staff, these networks, or `Authorization: Bearer <token>`.
PEERHUB_METRICS = {
    "networks": [
        ipaddress.ip_network(entry.strip())
        for entry in os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128").split(",")
        if entry.strip()
    ],
    "token": os.environ.get("METRICS_TOKEN", ""),
}

# Errors go to Sentry when SENTRY_DSN is set (with the request id as a tag).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        send_default_pii=False,
    )

# --- Challenges -----------------------------------------------------------------------------

# How long an author may still edit a comment after posting it.
PEERHUB_COMMENT_EDIT_WINDOW = timedelta(minutes=int(os.environ.get("COMMENT_EDIT_MINUTES", "60")))
# Files on revisions (challenges.files.DEFAULTS holds every key): quotas per trust tier, the
# member tier for everyone verified, "more" for challenges.more_file_space (reputation grants it
# by trust level) and staff.
PEERHUB_FILES = {
    "quotas": {
        "member": {
            "per_file": int(os.environ.get("FILES_PER_FILE_MB", "5")) * 1024 * 1024,
            "per_member": int(os.environ.get("FILES_PER_MEMBER_MB", "50")) * 1024 * 1024,
        },
        "more": {
            "per_file": int(os.environ.get("FILES_MORE_PER_FILE_MB", "25")) * 1024 * 1024,
            "per_member": int(os.environ.get("FILES_MORE_PER_MEMBER_MB", "500")) * 1024 * 1024,
        },
    },
    # A revision whose files add up to more is zipped by a task, with its progress shown
    # (challenges.archives); the zip is kept this many hours.
    "zip_task_bytes": int(os.environ.get("FILES_ZIP_TASK_MB", "20")) * 1024 * 1024,
    "archive_hours": int(os.environ.get("FILES_ARCHIVE_HOURS", "24")),
}
PEERHUB_CHALLENGES = {
    # Open challenges one organiser may run at once: "free" for everyone, "premium" for members
    # holding challenges.more_open_challenges (the Premium plan grants it). Staff have no limit.
    "open_challenges": {
        "free": int(os.environ.get("OPEN_CHALLENGES_FREE", "2")),
        "premium": int(os.environ.get("OPEN_CHALLENGES_PREMIUM", "20")),
    },
    # Where the challenge form points members who lack a Premium feature.
    "premium_url": "/premium/",
}

# --- Marketplace ----------------------------------------------------------------------------

# Payments go through one provider: "sandbox" (the default: a checkout page on PeerHub itself)
# or "stripe" (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET). Prices are integer minor units.
#
# The sandbox moves no money. With DEBUG on it is the default; in production (DEBUG off) it runs
# only when named on purpose for a demo: PAYMENT_PROVIDER=sandbox (for payouts
# MARKETPLACE_PAYOUT_PROVIDER=sandbox) together with PAYMENT_SANDBOX_IN_PRODUCTION=1, and every
# page then says so. marketplace/checks.py refuses any other production setup, and gunicorn and
# Celery run those checks before starting. It is decided here, from the environment, because
# pytest-django turns settings.DEBUG off in every test.
_sandbox_opt_in = not DEBUG and env_bool("PAYMENT_SANDBOX_IN_PRODUCTION", False)
PEERHUB_MARKETPLACE = {
    "currency": os.environ.get("MARKETPLACE_CURRENCY", "EUR"),
    # The platform fee, a share of each order's price, snapshotted on the order.
    "fee_rate": os.environ.get("MARKETPLACE_FEE_RATE", "0.10"),
    "payment_provider": os.environ.get("PAYMENT_PROVIDER") or "sandbox",
    # Sellers' payouts: the sandbox executes them at once (Stripe would need Stripe Connect).
    "payout_provider": os.environ.get("MARKETPLACE_PAYOUT_PROVIDER") or "sandbox",
    # Money is held to production rules: the sandbox only by the opt-in below, Stripe only with
    # both of its secrets.
    "production": not DEBUG,
    # Where the sandbox was chosen for production on purpose (see above).
    "sandbox_in_production": {
        "payments": _sandbox_opt_in and os.environ.get("PAYMENT_PROVIDER") == "sandbox",
        "payouts": _sandbox_opt_in and os.environ.get("MARKETPLACE_PAYOUT_PROVIDER") == "sandbox",
    },
    # A delivered order without a dispute completes by itself after this many days.
    "auto_complete_days": int(os.environ.get("MARKETPLACE_AUTO_COMPLETE_DAYS", "7")),
    # After a failed renewal Premium stays on this long, then lapses.
    "grace_days": int(os.environ.get("MARKETPLACE_GRACE_DAYS", "7")),
    # Placing an order reserves one of the offer's slots this long; paying extends it while the
    # provider's checkout is open (Stripe's sessions last at least 30 minutes).
    "reservation_minutes": int(os.environ.get("MARKETPLACE_RESERVATION_MINUTES", "15")),
    # A seller is reminded this long before a paid order's start deadline (paid + delivery days).
    "start_reminder_hours": int(os.environ.get("MARKETPLACE_START_REMINDER_HOURS", "24")),
    # Provider events, refunds and payouts: attempts before staff are called, and the age at
    # which audit_ledger reports a refund or payout that is still not done.
    "max_attempts": int(os.environ.get("MARKETPLACE_MAX_ATTEMPTS", "8")),
    "overdue_hours": int(os.environ.get("MARKETPLACE_OVERDUE_HOURS", "24")),
    # The largest webhook body accepted: real provider events are a few kB.
    "webhook_max_bytes": int(os.environ.get("MARKETPLACE_WEBHOOK_MAX_BYTES", str(256 * 1024))),
    # Prize purses (issue 20): the platform fee taken from each contribution on its way into a
    # challenge's prize escrow, the smallest contribution, the lineage share of each award when
    # the organiser sets none (organisers may choose 0 to `lineage_share_max`), and the royalty
    # a completed order of an offer based on a solution pays that solution's ancestors' authors,
    # a share of the price taken from the seller's part.
    "purse_fee_rate": os.environ.get("MARKETPLACE_PURSE_FEE_RATE", "0.05"),
    "purse_min_contribution": int(os.environ.get("MARKETPLACE_PURSE_MIN_CONTRIBUTION", "500")),
    "lineage_share_default": os.environ.get("MARKETPLACE_LINEAGE_SHARE", "0.20"),
    "lineage_share_max": "0.50",
    "royalty_rate": os.environ.get("MARKETPLACE_ROYALTY_RATE", "0.05"),
    # Defaults written into the Plan table by the first migration; edit prices in the admin.
    "plans": {
        "free": {"name": "Free", "monthly": 0, "yearly": 0},
        "premium": {"name": "Premium", "monthly": 1500, "yearly": 15000},
    },
    # Open challenges an organiser may run at once, without and with Premium: the challenges
    # app enforces them, so they live in PEERHUB_CHALLENGES (one source of truth).
    "open_challenges": PEERHUB_CHALLENGES["open_challenges"],
}
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Signs the sandbox checkout's notifications to the webhook endpoint, like a provider's secret.
# By default derived from SECRET_KEY (an HMAC with its own salt): whoever is given it to POST
# sandbox events learns nothing of the key that signs sessions and password resets.
SANDBOX_WEBHOOK_SECRET = os.environ.get(
    "SANDBOX_WEBHOOK_SECRET",
    salted_hmac(
        "peerhub.marketplace.sandbox-webhook", "", secret=SECRET_KEY, algorithm="sha256"
    ).hexdigest(),
)
CELERY_BEAT_SCHEDULE |= {
    # Provider events, refunds and payouts whose task was lost (broker down, worker killed)
    # and those due for a retry; sellers reminded of unstarted orders.
    "marketplace-money-sweep": {
        "task": "marketplace.tasks.money_sweep",
        "schedule": 60.0,
    },
    "marketplace-auto-complete-orders": {
        "task": "marketplace.tasks.auto_complete_orders",
        "schedule": crontab(minute=10),
    },
    "marketplace-renew-subscriptions": {
        "task": "marketplace.tasks.renew_subscriptions",
        "schedule": crontab(minute=20),
    },
    # The wash-trading rule's full pass (marketplace.wash; completions keep it current).
    "marketplace-wash-refresh": {
        "task": "marketplace.tasks.refresh_wash_flags",
        "schedule": crontab(minute=40, hour=3),
    },
}
AUTHENTICATION_BACKENDS += ["marketplace.backends.PremiumPlanBackend"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] |= {
    "OrderStateEnum": "marketplace.models.Order.State",
    "PaymentStatusEnum": "marketplace.models.Payment.Status",
    "SubscriptionStatusEnum": "marketplace.models.Subscription.Status",
    "TransferStateEnum": "marketplace.models.Transfer.State",
}

# --- Notifications -----------------------------------------------------------------------------

# Important notifications are e-mailed at once, but a burst of one kind to one member within
# this many seconds becomes one e-mail (the first send waits this long and takes the rest).
# The daily digest goes out at this hour of each member's own time zone (issue 22): the beat
# runs every hour and picks the members whose local hour it is.
PEERHUB_NOTIFICATIONS = {
    "coalesce_seconds": int(os.environ.get("NOTIFICATION_COALESCE_SECONDS", "120")),
    "digest_hour": int(os.environ.get("DIGEST_HOUR", "7")),
}
if not 0 <= PEERHUB_NOTIFICATIONS["digest_hour"] <= 23:
    raise ImproperlyConfigured("DIGEST_HOUR must be an hour of the day, 0 to 23.")
CELERY_BEAT_SCHEDULE["notifications-daily-digest"] = {
    "task": "peerhub.tasks.send_daily_digests",
    "schedule": crontab(minute=0),
}
# Full-text search fields and functions (challenges.search); harmless on SQLite.
INSTALLED_APPS += ["django.contrib.postgres"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["NotificationChannelEnum"] = "peerhub.models.Channel"

# --- Rankings and selection (issue 5) -------------------------------------------------------

# Every challenge's fitness and ranks, in full: equals the debounced incremental recomputes and
# repairs anything they missed (e.g. votes reversed by the serial-voting job).
CELERY_BEAT_SCHEDULE["rankings-full-recompute"] = {
    "task": "peerhub.tasks.promise",
    "args": ["reputation.tasks.recompute_all_rankings"],
    "schedule": crontab(minute=20),
}
# PEERHUB_FITNESS = {"weights": {...}, ...} and PEERHUB_SELECTION_REPUTATION override the
# defaults documented in reputation/rules.py and README.md ("Rankings and selection").
# The queue tasks go to when nothing routes them (tasks queued by tasks included); a deployment,
# or a test's own worker, may set its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE", "celery")

# --- Trust (issue 8) --------------------------------------------------------------------------

# Trust from the endorsement graph (reputation.trust), hourly; PEERHUB_TRUST overrides the
# defaults in reputation/rules.py (low-trust threshold, fitness weight of low-trust votes).
CELERY_BEAT_SCHEDULE["reputation-trust"] = {
    "task": "peerhub.tasks.promise",
    "args": ["reputation.tasks.compute_trust"],
    "schedule": crontab(minute=5),
}

# --- replica (issue 17) ---
# Reads off the primary (peerhub/replica.py, README "Reads off the primary"): with
# DATABASE_REPLICA_URL set, the GET views in peerhub.replica.REPLICA_VIEWS read from a streaming
# replica while it is at most REPLICA_MAX_LAG_SECONDS behind; a member who wrote reads from the
# primary for REPLICA_PIN_SECONDS (keep it above the lag allowed plus the check interval).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
PEERHUB_REPLICA = {
    "pin_seconds": int(os.environ.get("REPLICA_PIN_SECONDS", "15")),
    "max_lag_seconds": float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5")),
    "check_seconds": float(os.environ.get("REPLICA_CHECK_SECONDS", "2")),
}
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=60, conn_health_checks=True
    )
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        # A replica that does not answer costs a request 2 s at most, then the primary serves.
        DATABASES["replica"].setdefault("OPTIONS", {}).update(
            options=POSTGRES_SESSION, connect_timeout=2
        )
    # Tests read the test database through this alias: no second test database is made.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["peerhub.replica.ReplicaRouter"]
    # Last, so that a replica failing under a view is retried on the primary before
    # DatabaseOutageMiddleware answers 503.
    MIDDLEWARE = [*MIDDLEWARE, "peerhub.replica.ReplicaMiddleware"]
# --- signedin (issue 17) ---
# The request's user comes in one query with what every page asks (peerhub.auth_backends, in
# AUTHENTICATION_BACKENDS above). With Redis, sessions are read from the cache and written
# through to the database, so a signed-in page no longer queries django_session.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# --- cache (issue 17) -------------------------------------------------------------------------

# Whole pages for anonymous visitors (peerhub.pagecache): on by default only with Redis, where
# every web process shares the pages and the versions that invalidate them. The TTL is a safety
# net; writes invalidate at once.
CACHES["pages"] = (
    {
        "BACKEND": "peerhub.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "peerhub-pages",
        "OPTIONS": REDIS_CACHE_OPTIONS,
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"}
)
PEERHUB_PAGE_CACHE = env_bool("PAGE_CACHE", bool(REDIS_URL))
PEERHUB_PAGE_CACHE_TTL = int(os.environ.get("PAGE_CACHE_TTL", "300"))
# --- fanout (issue 17) ---
# How many partitions the nightly rebuild and the full rankings split into (reputation.partitions):
# a few per worker, so that a slow partition does not hold the others' workers idle.
PEERHUB_FANOUT_PARTITIONS = int(os.environ.get("FANOUT_PARTITIONS", "8"))
# How many database connections one long job may use side by side (peerhub.cores): the nightly
# rebuild's independent checks and an empty ledger's batches each run on a core of PostgreSQL.
# At most the database server's cores; 1 runs everything on one connection.
PEERHUB_SIDE_BY_SIDE = int(os.environ.get("SIDE_BY_SIDE", "2"))
# The nightly rebuild checks only what changed since its last run (reputation.touches), and
# everything when the last whole check (the weekly beat entry's) is older than this many days
# or the rules changed.
PEERHUB_LEDGER_WHOLE_CHECK_DAYS = float(os.environ.get("LEDGER_WHOLE_CHECK_DAYS", "8"))
