"""OpinionOps settings.

Everything that differs between machines comes from the environment (see docs/configuration.md).
`OPINION_OPS_ENV=production` turns on the strict checks: a real SECRET_KEY, DEBUG off, hosts set.
Without it the embedded default runs: SQLite and a filesystem broker under ./var, for `make run`
and tests only.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from opinion_ops.env import env_bool, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPINION_OPS_VAR_DIR", str(BASE_DIR / "var")))
# matplotlib (charts in monitoring reports) keeps its font cache here, not in a home that may be read-only.
os.environ.setdefault("MPLCONFIGDIR", str(VAR_DIR / "matplotlib"))

ENVIRONMENT = env_str("OPINION_OPS_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("OPINION_OPS_ENV must be 'development' or 'production'")
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters in production")
    DEBUG = env_bool("DEBUG", False)
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS is required in production")
else:
    SECRET_KEY = env_str("SECRET_KEY", "django-insecure-development-only-key-never-used-in-production")
    DEBUG = env_bool("DEBUG", True)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


INSTALLED_APPS = [
    "opinion_ops.admin_site.OperatorsAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_fsm",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "opinion_ops.api",
    "organizations",
    "accounts",
    "incidents",
    "plan_import",
    "reports",
    "monitoring",
    "analysis",
    "drills",
    "evidence",
    "notifications",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "opinion_ops.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "opinion_ops.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "opinion_ops.middleware.BusyMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opinion_ops.urls"

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
                "django.template.context_processors.i18n",
                "incidents.context_processors.current_unit",
            ],
            # {% url %} with the paths of links to records built from their routes (opinion_ops.routes).
            "builtins": ["opinion_ops.routes"],
        },
    },
]

WSGI_APPLICATION = "opinion_ops.wsgi.application"

# --- Database: DATABASE_URL, or SQLite under ./var for the embedded default.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    # PostgreSQL connections come from a pool per process (psycopg_pool): the Celery workers close
    # their connection after every task, which without a pool meant a new server process per task.
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", 10)
    if DB_POOL_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # (the pool keeps them; Django must not)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_SIZE,
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
            "max_idle": 300,
        }
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required in production")
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "opinion_ops.sqlite3"),
            # The worker and beat write while the web server reads: wait for the lock, don't fail.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    }
TEST_DATABASE_NAME = env_str("TEST_DATABASE_NAME", "")
if TEST_DATABASE_NAME:
    DATABASES["default"]["TEST"] = {"NAME": TEST_DATABASE_NAME}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in (accounts app, docs/security.md): django-axes counts failures per account and per
# address and locks out for a cool-off; django-otp gives TOTP devices and single-use recovery codes.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# An account locks after LOGIN_FAILURE_LIMIT failed sign-ins, a client address after
# LOGIN_ADDRESS_FAILURE_LIMIT across accounts (higher: an office signs in from one NAT address);
# both for LOGIN_COOLOFF_MINUTES, and an attempt while locked starts the wait again.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_ADDRESS_FAILURE_LIMIT < LOGIN_FAILURE_LIMIT:
    raise ImproperlyConfigured("LOGIN_ADDRESS_FAILURE_LIMIT must be at least LOGIN_FAILURE_LIMIT (at least 1)")
AXES_FAILURE_LIMIT = "accounts.lockout.login_failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success forgets the account's failures only (accounts.signals), never the address's.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# Behind reverse proxies (nginx, a load balancer) set TRUSTED_PROXY_COUNT to how many there are: the
# client address is then read from X-Forwarded-For, counting that many entries from the right.
# Left at 0 (direct connections), X-Forwarded-For is ignored: a client could write anything there.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip_address"
# Two-factor sign-in is required for leaders, unit administrators and superusers (optional for
# others); sensitive actions ask for a fresh second factor when the last one is older than this.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", True)
STEP_UP_WINDOW_SECONDS = env_int("STEP_UP_WINDOW_SECONDS", 900)
OTP_TOTP_ISSUER = "OpinionOps"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Language and time: Chinese first, times stored in UTC and shown in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
# Evidence (存证, the evidence app): files attached to incidents, reports and posts. Each file at most
# EVIDENCE_MAX_BYTES (the reverse proxy's body limit must allow a little more, e.g. nginx
# client_max_body_size 25m), of the kinds listed, judged by content: pdf, docx, xlsx, png, jpeg, gif,
# webp, text. Images above EVIDENCE_MAX_IMAGE_PIXELS are refused (decompression bombs).
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
EVIDENCE_ALLOWED_TYPES = env_list(
    "EVIDENCE_ALLOWED_TYPES", ["pdf", "docx", "xlsx", "png", "jpeg", "gif", "webp", "text"]
)
EVIDENCE_MAX_IMAGE_PIXELS = env_int("EVIDENCE_MAX_IMAGE_PIXELS", 50_000_000)

# --- Security headers; the production ones are switched on with OPINION_OPS_ENV=production.
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis) and kept in the database too: a page does not query
# the session table, and a cache that is down or emptied loses no one's sign-in.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every response (django-csp): every asset is vendored, so nothing but
# this site's own files runs, and no inline script or style is needed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "worker-src": ["'self'"],
    }
}
# Permissions-Policy on every response (opinion_ops.middleware): no page uses these browser features,
# so none may be used, by this site or anything it might embed. Only features browsers know are listed
# (an unknown name makes the browser log an error on every page).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # W021 asks for HSTS preload: a browser-wide commitment for every subdomain that takes months to
    # undo, so only the operator who owns the domain opts in (SECURE_HSTS_PRELOAD=true, docs/security.md).
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Celery: Redis when REDIS_URL is set, otherwise a filesystem broker that needs no server.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
elif PRODUCTION:
    raise ImproperlyConfigured("REDIS_URL is required in production")
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The one fixed schedule of periodic work; each entry ticks a sweeper that reads due rows.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Deadlines: a 1 s tick keeps reminders within seconds of their planned time (docs/deadlines.md).
DEADLINE_SWEEP_SECONDS = float(env_str("DEADLINE_SWEEP_SECONDS", "1"))
CELERY_BEAT_SCHEDULE["sweep-deadlines"] = {
    "task": "incidents.tasks.sweep_deadlines_task",
    "schedule": DEADLINE_SWEEP_SECONDS,
    "options": {"expires": 30},
}
CELERY_BEAT_SCHEDULE["sweep-deliveries"] = {
    "task": "notifications.tasks.sweep_deliveries_task",
    "schedule": float(env_str("DELIVERY_SWEEP_SECONDS", "5")),
    "options": {"expires": 30},
}
# A delivery whose queued task has not claimed it after this long is queued again; a send still
# unfinished after NOTIFICATION_SEND_LEASE_SECONDS is presumed lost with its worker and retried.
NOTIFICATION_DISPATCH_LEASE_SECONDS = env_int("NOTIFICATION_DISPATCH_LEASE_SECONDS", 15)
NOTIFICATION_SEND_LEASE_SECONDS = env_int("NOTIFICATION_SEND_LEASE_SECONDS", 60)
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)
# The health page calls the clock sweeper behind when a clock waits longer than this.
CLOCK_LAG_ALERT_SECONDS = env_int("CLOCK_LAG_ALERT_SECONDS", 60)
# Dashboard statistics: counted by the worker after a change (within a tick) and at least every
# STATISTICS_MAX_AGE_SECONDS (incidents.services.statistics).
STATISTICS_MAX_AGE_SECONDS = env_int("STATISTICS_MAX_AGE_SECONDS", 600)
CELERY_BEAT_SCHEDULE["sweep-statistics"] = {
    "task": "incidents.tasks.sweep_statistics_task",
    "schedule": float(env_str("STATISTICS_SWEEP_SECONDS", "5")),
    "options": {"expires": 30},
}
# Monitoring runs on queues of its own, served by workers of their own (Procfile: monitor), so a
# flood of posts never delays a clock or a notification on the default queue.
CELERY_TASK_ROUTES = {
    "monitoring.tasks.poll_feed_task": {"queue": "feeds"},
    "monitoring.tasks.sweep_feeds_task": {"queue": "feeds"},
    "monitoring.tasks.*": {"queue": "matching"},
    "analysis.tasks.*": {"queue": "matching"},
    "incidents.tasks.sweep_statistics_task": {"queue": "matching"},
}
CELERY_BEAT_SCHEDULE["sweep-feeds"] = {
    "task": "monitoring.tasks.sweep_feeds_task",
    "schedule": float(env_str("FEED_SWEEP_SECONDS", "10")),
    "options": {"expires": 30},
}
CELERY_BEAT_SCHEDULE["sweep-matching"] = {
    "task": "monitoring.tasks.sweep_matching_task",
    "schedule": 30.0,
    "options": {"expires": 60},
}
# Monitoring reports (舆情日报/周报/月报): a schedule due within the minute is issued at its tick.
CELERY_BEAT_SCHEDULE["sweep-report-schedules"] = {
    "task": "reports.tasks.sweep_report_schedules_task",
    "schedule": float(env_str("REPORT_SWEEP_SECONDS", "30")),
    "options": {"expires": 60},
}
# 研判支持: posts attached to incidents by hand are clustered and scored within a minute.
CELERY_BEAT_SCHEDULE["sweep-analysis"] = {
    "task": "analysis.tasks.sweep_analysis_task",
    "schedule": 60.0,
    "options": {"expires": 120},
}
# Drills (应急演练): a scheduled drill is started, and its posts released, within a tick of their time.
CELERY_BEAT_SCHEDULE["sweep-drills"] = {
    "task": "drills.tasks.sweep_drills_task",
    "schedule": float(env_str("DRILL_SWEEP_SECONDS", "10")),
    "options": {"expires": 30},
}
CELERY_BEAT_SCHEDULE["purge-posts"] = {
    "task": "monitoring.tasks.purge_posts_task",
    "schedule": 3600.0,
}
CELERY_BEAT_SCHEDULE["forget-idempotency-records"] = {
    "task": "opinion_ops.api.tasks.forget_idempotency_records_task",
    "schedule": 3600.0,
}
# A broker that is down must not hold up a request that queues work: the row is in the database and
# a sweeper sends it when the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 1.0, "socket_timeout": 5.0})

# Where people reach this installation; links in notifications (chat groups, e-mail) are absolute.
SITE_URL = env_str("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL (https://…) is required in production: notifications link to it")

# --- Cache: Redis when REDIS_URL is set (shared by all web processes: rate limits), else in-process.
# Redis being down degrades the cache (misses, writes dropped, one log line), never a page or the API.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "opinion_ops.cache.FailOpenRedisCache",
            "LOCATION": env_str("CACHE_URL", REDIS_URL),
            "KEY_PREFIX": "opinion_ops",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Django REST framework and the OpenAPI schema (docs/api.md).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opinion_ops.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "opinion_ops.api.permissions.TokenScope",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "opinion_ops.api.parsers.ApiFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "opinion_ops.api.parsers.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["opinion_ops.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "opinion_ops.api.throttles.ApiTokenRateThrottle",
        "opinion_ops.api.throttles.SessionUserRateThrottle",
        "opinion_ops.api.throttles.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env_str("API_TOKEN_RATE", "600/min"),
        "user": env_str("API_USER_RATE", "1200/min"),
        "anon": env_str("API_ANON_RATE", "60/min"),
    },
    # The anonymous limit counts per client address, read as sign-in lockouts read it: X-Forwarded-For
    # only as far as the trusted reverse proxies go, else a client could name any address it likes.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "opinion_ops.api.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Where API tokens are looked up (a hook: the platform does not know the integrations app).
API_TOKEN_AUTHENTICATOR = "integrations.tokens.api_token_authenticate"  # noqa: S105 — a dotted path
# The schema and docs pages need a signed-in user or a token in production, unless the operator
# opens them (API_DOCS_PUBLIC=true); in development they are open.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", not PRODUCTION)
SPECTACULAR_SETTINGS = {
    "TITLE": "OpinionOps API",
    "DESCRIPTION": "舆情应急处置平台 REST API — authentication, errors, webhooks: see docs/api.md",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The served views (opinion_ops.api.schema) open the docs by API_DOCS_PUBLIC; these are the
    # fallback for any other: the API's own authentication, signed-in only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": None,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IncidentStateEnum": "incidents.states.State",
        "PlatformEnum": "incidents.models.incident.Platform",
        "TimelineKindEnum": "incidents.models.incident.TimelineEntry.Kind",
        "ResponseGroupKindEnum": "organizations.models.ResponseGroup.Kind",
        "DeadlineKindEnum": "incidents.models.plan.DeadlineRule.Kind",
        "EscalationRungEnum": "incidents.models.plan.EscalationRung",
        "DeadlineStatusEnum": "incidents.models.records.Deadline.Status",
        "ReportKindEnum": "incidents.models.records.Report.Kind",
        "MeasureKindEnum": "incidents.models.records.Measure.Kind",
        "StatementKindEnum": "incidents.models.records.Statement.Kind",
        "StatementDecisionEnum": "incidents.models.records.StatementVersion.Decision",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "opinion_ops.api.schema.add_error_responses",
    ],
}

# --- Outbound addresses (opinion_ops.links_policy): channel and webhook targets must resolve to
# public addresses; an intranet deployment lists the private networks it sends to (CIDR, comma-separated).
OUTBOUND_ALLOWED_NETWORKS = env_networks("OUTBOUND_ALLOWED_NETWORKS")

# --- Time bounds: an incident found more than this long ago is refused (a typo, or history that
# belongs in the description); its clocks would be meaningless.
INCIDENT_DISCOVERED_MAX_AGE_DAYS = env_int("INCIDENT_DISCOVERED_MAX_AGE_DAYS", 365)

# --- Mail (notifications use it when configured).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "opinion-ops@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
