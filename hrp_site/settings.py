"""HRP settings: one module, driven by the environment.

Every variable has an embedded default that runs the platform on a laptop (SQLite, eager Celery,
console e-mail). Production sets the same variables to other values; there is no second module.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

# LightGBM's and XGBoost's OpenMP threads spin while idle; with two cores shared between a web
# process and a worker, spinning threads slow training tenfold. Read when the libraries load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Core
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-local-development-key-do-not-use-in-production",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "accounts",
    "races",
    "predictions",
]

MIDDLEWARE = [
    # Outermost: it times and logs the whole request, health probes included when they fail.
    "hrp_site.logs.RequestLogMiddleware",
    # The security headers go on every response, the health probes' and static files' included,
    # so these run around the probes' short-circuit below.
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "hrp_site.middleware.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that validates the host (CommonMiddleware, CSRF).
    "hrp_site.middleware.HealthCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: it turns a lock-out flagged during the view into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hrp_site.urls"
WSGI_APPLICATION = "hrp_site.wsgi.application"
ASGI_APPLICATION = "hrp_site.asgi.application"

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
            ],
        },
    },
]

# Database
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "hrp_site.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hrp",
            # Bounds what an unreachable or hung Redis costs a request; the API throttles, the
            # only users on the request path, fail open (hrp_site.throttling).
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Auth
AUTH_USER_MODEL = "accounts.User"
# Argon2 hashes new passwords; the others still verify older hashes and upgrade them on log-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Axes first: it refuses a locked-out log-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Log-in lock-out (django-axes)
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("DJANGO_AXES_COOLOFF_MINUTES", default=30))
# The pair, so that a stranger guessing at one account neither locks its owner out everywhere
# nor locks out everyone behind the same address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# The client address as the API throttles count it (REST_FRAMEWORK["NUM_PROXIES"] below), so a
# client cannot dodge the lock-out by writing its own X-Forwarded-For entries.
AXES_CLIENT_IP_CALLABLE = "hrp_site.client_address.client_address"

# REST API
REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies are JSON only, bounded in size and depth (hrp_site/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["hrp_site.parsers.BoundedJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # The browsable API only while developing: in production it is a second way in, with forms.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PAGINATION_CLASS": "hrp_site.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "hrp_site.filters.KnownParametersFilter",
        "django_filters.rest_framework.DjangoFilterBackend",
        "hrp_site.filters.OrderingFilter",
    ],
    # Counted in the default cache (Redis when REDIS_URL is set), so every worker shares them;
    # they let requests through while Redis is down.
    "DEFAULT_THROTTLE_CLASSES": [
        "hrp_site.throttling.AnonRateThrottle",
        "hrp_site.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("DJANGO_API_THROTTLE_ANON", default="60/minute"),
        "user": env("DJANGO_API_THROTTLE_USER", default="600/minute"),
        # Token creations (HTTP Basic log-ins), counted before the password is checked.
        "login_address": env("DJANGO_API_THROTTLE_LOGIN_ADDRESS", default="10/minute"),
        "login_username": env("DJANGO_API_THROTTLE_LOGIN_USERNAME", default="20/hour"),
    },
    # The client address is the X-Forwarded-For entry this many proxies from the right: what the
    # proxy appended, not what a client wrote in. 0 (nothing in front) ignores the header and
    # uses REMOTE_ADDR (hrp_site.client_address).
    "NUM_PROXIES": env.int("DJANGO_API_NUM_PROXIES", default=1),
    "DEFAULT_SCHEMA_CLASS": "hrp_site.schema.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HRP API",
    "DESCRIPTION": "Race cards, runners, form, model versions and their predictions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One tag per resource: the path's first part after the version (races, model-versions, ...).
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "RaceStatusEnum": "races.models.Race.Status",
        "ModelVersionStatusEnum": "predictions.models.ModelVersion.Status",
    },
}
# Knox stores only a SHA-512 digest of each token.
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("DJANGO_API_LOGIN_TTL_HOURS", default=24 * 30)),
    "AUTH_HEADER_PREFIX": "Token",
}

# Internationalisation
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# Static and media files
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Django's request body limits stay at their defaults (2.5 MB): a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 before it is read, and an uploaded file over
# FILE_UPLOAD_MAX_MEMORY_SIZE spools to a temporary file rather than memory. The staff upload of
# an hkracing pair (races.csv ~1 MB, runs.csv ~9 MB) is bounded per file by its form.
HRP_HKRACING_UPLOAD_MAX_MB = env.int("HRP_HKRACING_UPLOAD_MAX_MB", default=32)

# E-mail
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="HRP <noreply@localhost>")
# The site's address for links in e-mails sent outside a request (the horse alerts).
HRP_SITE_URL = env("HRP_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Read by the SMTP backend only (DJANGO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=True)

# Security
# App Platform terminates TLS at its proxy and forwards the original scheme.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# The platform's probes come over plain HTTP (hrp_site.middleware.HEALTH_CHECKS).
SECURE_REDIRECT_EXEMPT = [r"^health/live/$", r"^health/ready/$", r"^healthz/$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True  # takes effect only once HSTS is on
# Preloading is a commitment to HTTPS on every subdomain for months; it is left to the operator.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Scripts, styles and images come from our own static files only: no page has an inline script
# or style, a plug-in or a frame. The API docs add what they need (hrp_site/api_docs.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    }
}
# Browser features no page uses, refused to the pages and anything they embed
# (hrp_site.middleware.PermissionsPolicyMiddleware); a feature maps to the origins allowed it.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
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
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# JSON under /api/, the site's 403 page elsewhere.
CSRF_FAILURE_VIEW = "hrp_site.errors.csrf_failure"

# Celery
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Tasks report through the rows they write (a version's status, the predictions), which pages
# and the API poll; nothing reads task results, and a result store on a Redis that is down
# stalled every enqueue for 19 s.
CELERY_TASK_IGNORE_RESULT = True
# Without a broker the tasks run in-process, so the embedded default needs no worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every time-out derives from the hard limit of the longest task, a training. Redis hands a
# message that was never acknowledged (its worker was killed) to another worker after the
# visibility time-out, so that must outlast any running task, or a training would run twice at
# once; a version still "training" that long after its claim has lost its worker.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - max(CELERY_TASK_TIME_LIMIT // 12, 1)
HRP_STALE_TRAINING = timedelta(
    seconds=CELERY_TASK_TIME_LIMIT + max(CELERY_TASK_TIME_LIMIT // 12, 2)
)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(HRP_STALE_TRAINING.total_seconds()),
    # Look for such messages every few seconds, not every 100 s (kombu's 10 s x 10).
    "unacked_restore_interval": min(10, max(1, CELERY_TASK_TIME_LIMIT // 12)),
    "unacked_restore_throttle": 1,
    # A publish to a Redis that hangs fails within 15 s (3 tries) instead of holding a request;
    # one that refuses connections fails within a second.
    "socket_connect_timeout": 5,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Training gets workers of its own, so a long fit never delays refreshing race cards.
CELERY_TASK_ROUTES = {"predictions.tasks.train_model_task": {"queue": "training"}}
# The worker logs through LOGGING below (JSON lines with request ids), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The worker's liveness endpoint (hrp_site/worker_health.py); 0 serves none.
HRP_WORKER_HEALTH_PORT = env.int("HRP_WORKER_HEALTH_PORT", default=0)
# A broker outage stalls the worker's loop too (it reconnects outside it): five minutes rides out
# a short Redis restart without restarting the worker, and still catches a wedged one.
HRP_WORKER_HEALTH_STALE_SECONDS = env.float("HRP_WORKER_HEALTH_STALE_SECONDS", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "refresh-declared-predictions": {
        "task": "predictions.tasks.refresh_predictions_task",
        "schedule": 5 * 60,
    },
    "requeue-lost-trainings": {
        "task": "predictions.tasks.requeue_lost_trainings_task",
        "schedule": 5 * 60,
    },
    "retrain-models-weekly": {
        "task": "predictions.tasks.retrain_models_task",
        "schedule": crontab(minute=0, hour=4, day_of_week="monday"),
    },
}

# Providers
# Racing data providers to sync, e.g. theracingapi,betfair,hkracing; each needs its settings below.
HRP_PROVIDERS = env.list("HRP_PROVIDERS", default=[])
THERACINGAPI_URL = env("THERACINGAPI_URL", default="https://api.theracingapi.com")
THERACINGAPI_USERNAME = env("THERACINGAPI_USERNAME", default="")
THERACINGAPI_PASSWORD = env("THERACINGAPI_PASSWORD", default="")
BETFAIR_URL = env("BETFAIR_URL", default="")
BETFAIR_APP_KEY = env("BETFAIR_APP_KEY", default="")
BETFAIR_SESSION_TOKEN = env("BETFAIR_SESSION_TOKEN", default="")
HKRACING_DIR = env("HKRACING_DIR", default="")
PROVIDER_HTTP_TIMEOUT = env.float("PROVIDER_HTTP_TIMEOUT", default=10.0)
PROVIDER_HTTP_RETRIES = env.int("PROVIDER_HTTP_RETRIES", default=3)
CELERY_BEAT_SCHEDULE["sync-providers"] = {
    "task": "races.tasks.sync_providers_task",
    "schedule": 30 * 60,
}
# Syncs and imports send the horse alerts as they store; this sweep catches any whose task was
# lost (a broker outage at the time).
CELERY_BEAT_SCHEDULE["send-horse-alerts"] = {
    "task": "accounts.tasks.send_horse_alerts_task",
    "schedule": 30 * 60,
}
CELERY_BEAT_SCHEDULE["delete-expired-api-tokens"] = {
    "task": "accounts.tasks.expired_tokens_delete_task",
    "schedule": crontab(minute=30, hour=3),
}
CELERY_BEAT_SCHEDULE["expire-hkracing-uploads"] = {
    "task": "races.tasks.expire_hkracing_uploads_task",
    "schedule": 30 * 60,
}
CELERY_BEAT_SCHEDULE["expire-operations"] = {
    "task": "races.tasks.expire_operations_task",
    "schedule": 30 * 60,
}

# Logging
# json: one object per line on stdout, for App Platform's log viewer and forwarding; plain: for
# reading in a terminal (`make run` sets DJANGO_DEBUG=true, which makes plain the default).
LOG_FORMAT = env("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "hrp_site.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "hrp_site.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # Axes logs every start and successful log-in at INFO; failures and lock-outs are WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Error reporting
# Sentry, only when a DSN is set; nothing is sent otherwise.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import ignore_logger

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Member names and e-mail addresses stay out of the reports.
        send_default_pii=False,
    )
    # The Celery integration reports a failed task's exception; its log line would repeat it.
    ignore_logger("hrp.task")
