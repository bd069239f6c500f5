"""Settings, all from environment variables.

DATABASE_URL           default: SQLite file in the data folder (the embedded demo).
EPIDISPATCH_DATA_DIR   default: $XDG_DATA_HOME/epidispatch or ~/.local/share/epidispatch;
                       holds the SQLite file, generated keys and uploads.
EPIDISPATCH_DEBUG      "1" for development error pages.
EPIDISPATCH_HTTPS      "1" behind a TLS-terminating proxy: secure cookies, HSTS.
EPIDISPATCH_ALLOWED_HOSTS  comma-separated host names.
DJANGO_SECRET_KEY      session signing key; generated into the data folder when unset.
EPIDISPATCH_CUTOFF     the daily cutoff (日调度) as HH:MM, default 16:00.
EPIDISPATCH_DATA_KEY   key that encrypts ID numbers and phones at rest; generated into the
                       data folder when unset. Losing it makes stored personal data unreadable.
EPIDISPATCH_DEMO       "1" for the demo (make demo): the demo password is accepted, load_demo runs.
                       Unset, it is on for the embedded SQLite database (the demo's) and off
                       for PostgreSQL (production); "0" turns it off everywhere.
EPIDISPATCH_LOG_LEVEL  default INFO; logs go to stderr and to logs/epidispatch.log in the data dir.
EPIDISPATCH_SESSION_MINUTES  a login ends after this long (default 480), or when the browser closes.
EPIDISPATCH_DB_PREPARE "0" turns off PostgreSQL's prepared statements (on by default): behind a
                       pooler in transaction mode (PgBouncer before 1.21) they break.
"""

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir() -> Path:
    configured = os.environ.get("EPIDISPATCH_DATA_DIR")
    if configured:
        path = Path(configured)
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        path = Path(xdg) / "epidispatch"
    # `make test` runs pytest in parallel workers (pytest-xdist), each with a test database
    # of its own: each also gets a data folder of its own (task queue, uploads, logs, keys).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        path = path / worker
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _generated_secret(name: str) -> str:
    """Read a secret kept in the data folder, creating it once (race-safe) when missing."""
    path = DATA_DIR / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


DATA_DIR = _data_dir()
DEBUG = os.environ.get("EPIDISPATCH_DEBUG") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _generated_secret("secret.key")
EPIDISPATCH_DATA_KEY = os.environ.get("EPIDISPATCH_DATA_KEY") or _generated_secret("data.key")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("EPIDISPATCH_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("EPIDISPATCH_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "huey.contrib.djhuey",
    "auditlog",
    "axes",
    "csp",
    "epidispatch.orgunits",
    "epidispatch.accounts",
    "epidispatch.imports",
    "epidispatch.registry",
    "epidispatch.vaccination",
    "epidispatch.accountability",
    "epidispatch.fieldwork",
    "epidispatch.certificates",
    "epidispatch.supply",
    "epidispatch.interop",
    "epidispatch.sites",
    "epidispatch.figures",
    "epidispatch.dispatch",
    "epidispatch.screening",
    "epidispatch.control",
    "epidispatch.inspection",
    "epidispatch.meetings",
    "epidispatch.audit",
    "epidispatch.operations",
    "epidispatch.demo",
    "epidispatch.web",
    "epidispatch.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "epidispatch.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "epidispatch.web.middleware.NoStoreMiddleware",
    "epidispatch.web.middleware.RejectNulMiddleware",
    "epidispatch.api.middleware.ApiFrameworkErrorsMiddleware",
    "epidispatch.audit.middleware.ChangeActorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "epidispatch.urls"
WSGI_APPLICATION = "epidispatch.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "epidispatch.web.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'epidispatch.sqlite3'}",
        conn_max_age=int(os.environ.get("EPIDISPATCH_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: WAL lets the demo server read while an import writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif os.environ.get("EPIDISPATCH_DB_PREPARE", "1") == "1":
    # PostgreSQL: parameters bound by the server, so psycopg prepares a statement the
    # fifth time a connection runs it and PostgreSQL stops parsing and planning it again
    # (a visit's ten statements at 200 workers: bench/RESULTS.md, "Visit writes").
    # Added to the URL's own options (?sslmode=require and the like), not instead of them.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "epidispatch.accounts.passwords.NotTheDemoPasswordValidator"},
]
# The demo (a public password, synthetic people) belongs on the embedded SQLite database;
# on PostgreSQL it takes EPIDISPATCH_DEMO=1, so `load_demo` cannot seed a county's server.
EPIDISPATCH_DEMO = (
    os.environ.get(
        "EPIDISPATCH_DEMO", "1" if DATABASES["default"]["ENGINE"].endswith("sqlite3") else "0"
    )
    == "1"
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
# Background work (file imports from the web; later the daily cutoff): huey, with its
# queue in an SQLite file in the data folder, or in Redis when EPIDISPATCH_REDIS_URL is set.
# EPIDISPATCH_TASKS_IMMEDIATE=1 runs tasks inside the request instead (tests, debugging).
_REDIS_URL = os.environ.get("EPIDISPATCH_REDIS_URL")
HUEY = {
    "huey_class": "huey.RedisHuey" if _REDIS_URL else "huey.SqliteHuey",
    "name": "epidispatch",
    "immediate": os.environ.get("EPIDISPATCH_TASKS_IMMEDIATE") == "1",
    # Periodic tasks (the 16:00 cutoff) run on local time: Django sets TZ to TIME_ZONE.
    "utc": False,
    **({"url": _REDIS_URL} if _REDIS_URL else {"filename": str(DATA_DIR / "tasks.db")}),
    "consumer": {"workers": 2, "worker_type": "thread"},
}


# File imports (epidispatch.imports): what a file may hold before it is refused unread,
# and the memory and time the reading child process gets. A batch with no sign of life
# for EPIDISPATCH_IMPORT_STALE_MINUTES is marked failed.
def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


EPIDISPATCH_IMPORT_MAX_BYTES = _env_int("EPIDISPATCH_IMPORT_MAX_BYTES", 1 << 30)
EPIDISPATCH_IMPORT_MAX_UNZIPPED_BYTES = _env_int("EPIDISPATCH_IMPORT_MAX_UNZIPPED_BYTES", 2 << 30)
EPIDISPATCH_IMPORT_MAX_ROWS = _env_int("EPIDISPATCH_IMPORT_MAX_ROWS", 2_000_000)
EPIDISPATCH_IMPORT_MAX_COLUMNS = _env_int("EPIDISPATCH_IMPORT_MAX_COLUMNS", 200)
EPIDISPATCH_IMPORT_MAX_CELLS = _env_int("EPIDISPATCH_IMPORT_MAX_CELLS", 60_000_000)
EPIDISPATCH_IMPORT_MAX_CELL_CHARS = _env_int("EPIDISPATCH_IMPORT_MAX_CELL_CHARS", 32_767)
EPIDISPATCH_IMPORT_MEMORY_MB = _env_int("EPIDISPATCH_IMPORT_MEMORY_MB", 4096)
EPIDISPATCH_IMPORT_SECONDS = _env_int("EPIDISPATCH_IMPORT_SECONDS", 600)
EPIDISPATCH_IMPORT_STALE_MINUTES = _env_int("EPIDISPATCH_IMPORT_STALE_MINUTES", 60)

# The daily dispatch: the cutoff freezing every unit's figures, the deadline of next-day
# targets (20:00 the day before) and when a unit becomes an accountability candidate
# (in the bottom N of a ranking for K consecutive snapshots).
EPIDISPATCH_CUTOFF = tuple(
    int(part) for part in os.environ.get("EPIDISPATCH_CUTOFF", "16:00").split(":")
)
EPIDISPATCH_TARGET_DEADLINE = (20, 0)
EPIDISPATCH_BOTTOM_N = 3
EPIDISPATCH_BOTTOM_STREAK = 3

TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if os.environ.get("EPIDISPATCH_HTTPS") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365

# Security and operation (issue 18). Production (scripts/serve.sh) sets EPIDISPATCH_HTTPS=1
# unless told otherwise, so `epidispatch check --deploy` is clean there.
# Logins are locked by account, not by address (axes.W006): a county office reaches the
# server from one NAT address, which a lockout by address would shut out whole, and rotating
# addresses, user agents or cookies does not get round a lockout by account.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if os.environ.get("EPIDISPATCH_HTTPS") == "1":
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Entering the browsers' HSTS preload list is the office's decision for its domain.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# A login lasts a working day at most (no write per request to slide it), and ends when the
# browser closes: county office PCs are shared.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("EPIDISPATCH_SESSION_MINUTES", "480"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords in a row for one account are answered; the sixth locks the account
# for 15 minutes (the right password included), answered 429.
AXES_FAILURE_LIMIT = 6
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# The change trail (who, when, before and after) of the records listed here, written by
# django-auditlog for every save and delete through the pages, the API and the admin.
AUDITLOG_LOGENTRY_MODEL = "audit.Change"
# auditlog's migrations would create its own log table, unused once the model is swapped
# (and blocking `flush` with its foreign keys): the trail's table is audit.Change's.
MIGRATION_MODULES = {"auditlog": None}
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {
        "model": "registry.Resident",
        "exclude_fields": [
            "id_number_digest",
            "id_number_encrypted",
            "phone_digest",
            "phone_encrypted",
            "updated_at",
        ],
    },
    "vaccination.Dose",
    {"model": "fieldwork.Visit", "exclude_fields": ["proof"]},
    "fieldwork.FollowUp",
    "fieldwork.AdverseReactionReport",
    {
        "model": "fieldwork.CheckpointRecord",
        "exclude_fields": [
            "id_number_digest",
            "id_number_encrypted",
            "phone_digest",
            "phone_encrypted",
        ],
    },
    "dispatch.DailyTarget",
    "dispatch.Snapshot",
    "accountability.Accountability",
    {"model": "accounts.User", "exclude_fields": ["password", "last_login"]},
    "accounts.RoleAssignment",
    "accounts.ApiToken",
    "supply.StockMove",
    "screening.TestingGroup",
    "screening.GroupMember",
    "registry.Household",
    "registry.HouseholdMember",
    "control.ControlArea",
    "meetings.Meeting",
    "meetings.UnitReport",
    "meetings.ActionItem",
    "meetings.ProgressPost",
    "meetings.LeaderResponsibility",
    "meetings.WorkingGroup",
    "control.ControlCase",
    "supply.AEFIReport",
    "screening.ScreeningRound",
    "control.HealthCheck",
    "control.CaseTest",
    "control.PlanItem",
)

# Content-Security-Policy: scripts, styles and images from this server only (htmx and
# ECharts are vendored under static/); no inline script or style attribute. WebAssembly may
# be compiled ('wasm-unsafe-eval', no eval of scripts): the checkpoint's QR reader is zxing-wasm.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Structured logs: one JSON object a line (with the traceback of an error), to stderr and
# to logs/epidispatch.log in the data folder, rotated at 10 MB.
LOG_DIR = DATA_DIR / "logs"
LOG_DIR.mkdir(exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "epidispatch.core.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json"},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "epidispatch.log"),
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 10,
            "formatter": "json",
            "encoding": "utf-8",
        },
    },
    "root": {
        "handlers": ["stderr", "file"],
        "level": os.environ.get("EPIDISPATCH_LOG_LEVEL", "INFO"),
    },
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
