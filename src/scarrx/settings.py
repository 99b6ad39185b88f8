"""The one settings module, configured from the environment.

Every variable is read by a small typed reader that refuses a bad value loudly, naming
the variable, so a misconfigured server fails at start rather than at 3 a.m.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def database_from_url(url: str, data_dir: Path) -> dict:
    """DATABASE_URL → Django DATABASES entry. sqlite:///path or postgres://user:pw@host:port/db."""
    if not url:
        return sqlite_database(data_dir / "scarrx.sqlite3")
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if not path or path == "/":
            raise ImproperlyConfigured("DATABASE_URL sqlite:/// needs a file path")
        # sqlite:///relative/path or sqlite:////absolute/path, as dj-database-url reads them.
        return sqlite_database(Path(path[1:]))
    if parts.scheme in {"postgres", "postgresql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                "DATABASE_URL must name the database, e.g. postgres://host/scarrx"
            )
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # scarrx's queries are short index walks (a recall's genealogy among them),
            # whose cost the planner can overestimate; JIT compiling would then take
            # longer than the query itself.
            "OPTIONS": {"options": "-c jit=off"},
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported: use sqlite:/// or postgres://"
    )


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        # WAL lets the pages read while a write is in progress; the busy timeout waits
        # for a lock instead of failing at once with "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # Tests on a file, not in memory: threads (concurrent retries) then wait for the
        # write lock as the server's would, instead of failing at once on a shared cache.
        "TEST": {"NAME": str(path.with_name(f"test-{path.stem}.sqlite3"))},
    }


DEBUG = envbool("SCARRX_DEBUG", True)
DATA_DIR = Path(env("SCARRX_DATA_DIR", "var")).resolve()

SECRET_KEY = env("SCARRX_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SCARRX_SECRET_KEY must be set when SCARRX_DEBUG is off")
    SECRET_KEY = "scarrx-development-only-key-never-use-in-production"  # noqa: S105

TIME_ZONE = env("SCARRX_TIME_ZONE", "America/New_York")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"SCARRX_TIME_ZONE {TIME_ZONE!r} is not a known time zone") from None

ALLOWED_HOSTS = [h.strip() for h in env("SCARRX_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
ALLOWED_HOSTS = [h for h in ALLOWED_HOSTS if h]
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = [o for o in env("SCARRX_CSRF_TRUSTED_ORIGINS").split(",") if o]

# Uploads: Django keeps files up to this size in memory, larger ones on disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Patients younger than this need a guardian recorded at intake.
MINIMUM_AGE_WITHOUT_GUARDIAN = envint("SCARRX_MINIMUM_AGE_WITHOUT_GUARDIAN", 18)


def envchart(name: str, default: str) -> dict:
    """The colour chart the pharmacy photographs with: a preset name (classic, mini, nano,
    passport) or its geometry in millimetres as "PITCH,PATCH" (centre-to-centre pitch and
    patch side). Every px/mm is scaled by it, so a wrong one is refused at start."""
    from scarrx.imaging.charts import chart_model
    from scarrx.imaging.errors import ImagingError

    raw = env(name, default).strip()
    spec: object = raw
    if "," in raw:
        pitch, _, patch = raw.partition(",")
        spec = {"name": "custom", "pitch_mm": pitch.strip(), "patch_mm": patch.strip()}
    try:
        return chart_model(spec).as_dict()
    except ImagingError as exc:
        raise ImproperlyConfigured(f"{name}: {str(exc).removeprefix('chart: ')}") from None


PHOTO_CHART = envchart("SCARRX_CHART", "mini")
IMAGING_CONCURRENCY = envint("SCARRX_IMAGING_CONCURRENCY", 2, minimum=1)
LOGIN_ATTEMPTS_PER_15_MINUTES = envint("SCARRX_LOGIN_ATTEMPTS", 5, minimum=1)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs page from its own static files, not a CDN
    "scarrx.accounts",
    "scarrx.audit",
    "scarrx.patients",
    "scarrx.assessments",
    "scarrx.photos",
    "scarrx.pharmacy",
    "scarrx.treatment",
    "scarrx.portal",
    "django_tasks",
    "django_tasks_db",
    "scarrx.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # scarrx.middleware: responses private unless a view says otherwise; API errors in
    # the one JSON shape; bodies parsed and limited before any view (or CSRF) reads them.
    "scarrx.middleware.PrivateByDefault",
    "scarrx.middleware.ApiErrorShape",
    "scarrx.middleware.RequestLimits",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# A covering index (INCLUDE) speeds a recall on PostgreSQL; SQLite keeps the plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "accounts.User"
# Permissions come from the role table in code (scarrx.accounts.roles), not per user.
AUTHENTICATION_BACKENDS = ["scarrx.accounts.backends.RoleBackend"]
ROOT_URLCONF = "scarrx.urls"
WSGI_APPLICATION = "scarrx.wsgi.application"

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
                "scarrx.accounts.context.console",
            ],
        },
    }
]

DATABASES = {"default": database_from_url(env("DATABASE_URL"), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "scarrx.photos.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "private"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Photos and PDFs on S3-compatible storage when a bucket is named. Objects are private
# and scarrx never hands out their URLs: files are streamed through permission-checked views.
S3_BUCKET = env("SCARRX_S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env("SCARRX_S3_ENDPOINT_URL") or None,
            "region_name": env("SCARRX_S3_REGION") or None,
            "access_key": env("SCARRX_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("SCARRX_S3_SECRET_ACCESS_KEY") or None,
            "location": env("SCARRX_S3_PREFIX", "private"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# Private files are never served by URL: MEDIA_URL deliberately points nowhere public.
MEDIA_ROOT = DATA_DIR / "private"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SCARRX_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = envint("SCARRX_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The address of a reverse proxy in front of `scarrx serve`. Only its X-Forwarded-For and
# X-Forwarded-Proto are believed (waitress rewrites the client address and scheme), so
# audit rows and the sign-in throttle see the real client, and nobody else can spoof them.
TRUSTED_PROXY = env("SCARRX_TRUSTED_PROXY")
MAX_REQUEST_BYTES = 50 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("SCARRX_LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every label it draws at INFO; only its warnings matter.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}

# The treatment course (issue 10). Refills are due this many days before the supply runs
# out; an application may be logged up to LOG_WINDOW_DAYS after it was applied, and counts
# for a slot within ADHERENCE_WINDOW_HOURS either side of its scheduled time.
REFILL_LEAD_DAYS = envint("SCARRX_REFILL_LEAD_DAYS", 5)
LOG_WINDOW_DAYS = envint("SCARRX_LOG_WINDOW_DAYS", 3, minimum=1)
ADHERENCE_WINDOW_HOURS = envint("SCARRX_ADHERENCE_WINDOW_HOURS", 4, minimum=1)
if ADHERENCE_WINDOW_HOURS > 12:
    raise ImproperlyConfigured("SCARRX_ADHERENCE_WINDOW_HOURS must be at most 12")

# Background work (reminders, the daily adherence standings): django-tasks with its
# database backend; `scarrx worker` runs it. SCARRX_TASKS=immediate runs each task at once
# in the caller instead (the tests, a one-process demo).
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if env("SCARRX_TASKS") == "immediate"
        else "django_tasks_db.DatabaseBackend"
    }
}
# E-mail reminders: printed to the console unless an SMTP host is set.
EMAIL_HOST = env("SCARRX_EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = envint("SCARRX_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env("SCARRX_EMAIL_USER")
EMAIL_HOST_PASSWORD = env("SCARRX_EMAIL_PASSWORD")
EMAIL_USE_TLS = envbool("SCARRX_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = env("SCARRX_EMAIL_FROM", "reminders@scarrx.invalid")
# Links in e-mails and the calendar feed: where patients reach the portal.
SITE_URL = env("SCARRX_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
NINJA_PAGINATION_CLASS = "scarrx.pagination.Pages"
