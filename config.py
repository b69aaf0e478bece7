"""Configuration classes; the environment is read only here, and only when an app is created."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

BASE_DIR = Path(__file__).resolve().parent
INSECURE_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = INSECURE_SECRET_KEY
    RUNGS_DATA_DIR = str(BASE_DIR / "instance")
    SQLALCHEMY_DATABASE_URI: str | None = None  # derived from RUNGS_DATA_DIR unless DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # A profile name from argon2.profiles; RFC 9106's low-memory one is the library default.
    ARGON2_PROFILE = "RFC_9106_LOW_MEMORY"
    PASSWORD_MIN_LENGTH = 12
    # A password link made by the head of product (copied by hand, or emailed as an invitation).
    PASSWORD_RESET_TTL = timedelta(hours=72)
    # A link someone asked for with "Forgot your password?": emailed, single use, this long.
    PASSWORD_RESET_REQUEST_TTL = timedelta(hours=1)
    # Requests for such an email within the window: per email address typed (from anywhere:
    # one inbox is not flooded) and per client (any addresses: one client does not flood many).
    PASSWORD_RESET_REQUESTS_PER_ADDRESS = 3
    PASSWORD_RESET_REQUESTS_PER_CLIENT = 10
    PASSWORD_RESET_REQUEST_WINDOW = timedelta(hours=1)
    # The answer to such a request is sent no sooner than this (seconds) after it arrived, so
    # that an address with an account (a link and a message written, a send job submitted) is
    # not told apart by time from one without (measured here: about 25 ms against 12 ms).
    PASSWORD_RESET_ANSWER_SECONDS = 0.25

    # Failed sign-ins within the window. One client on one email address, and one client on any
    # email address, are refused once over their limit until failures leave the window. One email
    # address from every client together is only slowed past its ceiling, to one password check
    # per interval: a stranger can slow anyone's sign-in down but cannot lock anyone out.
    LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT = 5
    LOGIN_MAX_FAILURES_PER_CLIENT = 30
    LOGIN_ACCOUNT_SLOW_AFTER = 20
    LOGIN_ACCOUNT_SLOW_INTERVAL = timedelta(seconds=30)
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    # A browser that signed in keeps a device cookie this long; with it, its own failures count
    # on that email address, not the address it shares or the strangers' (OWASP device cookies).
    LOGIN_DEVICE_TTL = timedelta(days=90)
    # Two-factor sign-in (app/services/people/two_factor.py). The name authenticator apps show
    # beside the account; how long the second step waits after a right password; wrong codes
    # within LOGIN_FAILURE_WINDOW per person (from anywhere) and per client (any person).
    TWO_FACTOR_ISSUER = "Rungs"
    TWO_FACTOR_PENDING_TTL = timedelta(minutes=5)
    TWO_FACTOR_MAX_FAILURES = 5
    TWO_FACTOR_MAX_FAILURES_PER_CLIENT = 20
    # Earlier secret keys, still accepted while a new SECRET_KEY is rolled out (Flask signs
    # sessions with it; two-factor secrets sealed under them stay readable).
    SECRET_KEY_FALLBACKS: ClassVar[list[str]] = []
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (RUNGS_TRUSTED_PROXIES).
    # 0 trusts no such header: the client is the address that connected.
    TRUSTED_PROXIES = 0

    PEOPLE_PER_PAGE = 25

    # Requests one API token may make per minute (RUNGS_API_RATE_LIMIT), counted in the
    # database so the limit holds across workers; past it the API answers 429.
    API_RATE_LIMIT = 120
    # Days a record of one API request (api_token_uses) is kept (RUNGS_API_USE_RETENTION_DAYS);
    # older ones are purged in small batches as tokens are used, and by `flask api purge-uses`.
    API_USE_RETENTION_DAYS = 90

    # Where files are kept (app/services/storage.py): "local", under RUNGS_DATA_DIR, or
    # "database", in the database itself, so that several machines that share the database
    # share the files (RUNGS_FILE_STORAGE).
    FILE_STORAGE = "local"

    # Evidence attachments: the largest file and how many files one item may carry.
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENTS_PER_EVIDENCE = 10
    # Any request body; derived as ATTACHMENT_MAX_BYTES plus room for the form around the file,
    # so that a larger upload is answered with a 413 page before it is read.
    MAX_CONTENT_LENGTH: int | None = None
    # Importing one's own data export (a ZIP with attachments) may send more.
    PERSONAL_DATA_IMPORT_MAX_BYTES = 200 * 1024 * 1024
    # What one import may store: attachment files, and their bytes once unpacked, every copy
    # counted (a ZIP entry unpacks to about 1,000 times its size). Files people attach are mostly
    # compressed already, so 1 GB leaves an honest 200 MB export room to grow by unpacking.
    PERSONAL_DATA_IMPORT_MAX_FILES = 2_000
    PERSONAL_DATA_IMPORT_MAX_STORED_BYTES = 1024 * 1024 * 1024

    # The career frameworks that ship with Rungs (`flask demo load` imports them).
    SHIPPED_FRAMEWORKS_DIR = str(BASE_DIR / "frameworks")
    # The file-format documents the import page links to (served as plain text).
    FORMAT_DOCS_DIR = str(BASE_DIR / "docs")

    # The fairness view hides any figure that aggregates fewer people than this.
    FAIRNESS_MIN_GROUP = 3

    # Background jobs (packet renders, exports), each in its own process: how many run at once,
    # the wall-clock seconds and the address space (MB) one may use before it is stopped.
    # With REDIS_URL set, jobs go through RQ (queue JOB_QUEUE) to `rq worker` processes instead.
    JOB_CONCURRENCY = 1
    JOB_TIME_LIMIT = 120
    JOB_MEMORY_LIMIT_MB = 1024
    JOB_QUEUE = "rungs"
    REDIS_URL: str | None = None
    # RQ only: a running job's work horse renews a heartbeat this often (seconds); after three
    # missed, the job's worker is taken for dead and the job failed. A queued job Redis lost
    # (restarted empty) is enqueued again if it was created within JOB_REQUEUE_MAX_AGE seconds.
    JOB_HEARTBEAT_SECONDS = 5
    JOB_REQUEUE_MAX_AGE = 3600
    # Without Redis, the web process starts a job dispatcher thread on the first job; tests turn
    # it off and run queued jobs explicitly (app.services.jobs.run_pending).
    JOB_LOCAL_DISPATCH = True

    # Email, through SMTP (Flask-Mail's settings). Without MAIL_SERVER, no email is sent: the
    # in-app notifications and the to-do list work as before, and the admin page says so.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Rungs <rungs@localhost>"
    MAIL_TIMEOUT_SECONDS = 30
    # A message that fails is tried again after 1, 2, 4 … minutes; after this many attempts it
    # is given up and shown to the head of product.
    MAIL_MAX_ATTEMPTS = 6
    MAIL_RETRY_BASE_SECONDS = 60
    # Where people reach Rungs: the links in emails and Slack messages start with it (they are
    # written by jobs and the command line, outside any request).
    RUNGS_BASE_URL = "http://127.0.0.1:5000"
    # The hour of the recipient's own morning at which their daily digest goes out.
    DIGEST_HOUR = 8
    # Slack's Web API; tests point it at a local server that answers as Slack does.
    SLACK_API_URL = "https://slack.com/api/"


class DevelopmentConfig(Config):
    """The embedded default that `make run` serves: SQLite under RUNGS_DATA_DIR."""


class TestingConfig(Config):
    TESTING = True
    ARGON2_PROFILE = "CHEAPEST"  # hashing cost is not what the tests measure
    SECRET_KEY = "testing-secret-key-that-is-long-enough"  # noqa: S105
    JOB_LOCAL_DISPATCH = False
    PASSWORD_RESET_ANSWER_SECONDS = 0.0  # tests that look at it set it


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Environment variables that override a setting of the same name.
ENV_OVERRIDES = (
    "SECRET_KEY",
    "RUNGS_DATA_DIR",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "RUNGS_BASE_URL",
)
# Settings that are on or off: "1", "true", "yes", "on" (any case) or "0", "false", "no", "off".
ENV_BOOL_OVERRIDES = ("MAIL_USE_TLS", "MAIL_USE_SSL")
# The same, for settings that are whole numbers.
ENV_INT_OVERRIDES = (
    "ATTACHMENT_MAX_BYTES",
    "PERSONAL_DATA_IMPORT_MAX_BYTES",
    "PERSONAL_DATA_IMPORT_MAX_STORED_BYTES",
)
# Settings that are counts (whole numbers ≥ 1), by environment variable: variable → setting.
ENV_COUNT_OVERRIDES = {
    "RUNGS_FAIRNESS_MIN_GROUP": "FAIRNESS_MIN_GROUP",
    "RUNGS_JOB_CONCURRENCY": "JOB_CONCURRENCY",
    "RUNGS_JOB_TIME_LIMIT": "JOB_TIME_LIMIT",
    "RUNGS_JOB_MEMORY_LIMIT_MB": "JOB_MEMORY_LIMIT_MB",
    "PERSONAL_DATA_IMPORT_MAX_FILES": "PERSONAL_DATA_IMPORT_MAX_FILES",
    "RUNGS_JOB_HEARTBEAT_SECONDS": "JOB_HEARTBEAT_SECONDS",
    "RUNGS_JOB_REQUEUE_MAX_AGE": "JOB_REQUEUE_MAX_AGE",
    "RUNGS_API_RATE_LIMIT": "API_RATE_LIMIT",
    "RUNGS_API_USE_RETENTION_DAYS": "API_USE_RETENTION_DAYS",
}
# The same, for whole numbers that may be 0.
ENV_NUMBER_OVERRIDES = {"RUNGS_TRUSTED_PROXIES": "TRUSTED_PROXIES", "MAIL_PORT": "MAIL_PORT"}
# Settings that are names, by environment variable: variable → setting. A job's own process
# submits jobs too (a cycle export's packets): a worker must know the queue it serves.
ENV_NAME_OVERRIDES = {"RUNGS_JOB_QUEUE": "JOB_QUEUE"}
MULTIPART_ALLOWANCE = 1024 * 1024
FILE_STORAGES = ("local", "database")  # app.services.storage.BACKENDS


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def load(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None):
    """Build the settings for one app from RUNGS_ENV, the environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    name = overrides.pop("ENV", None) or environ.get("RUNGS_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"RUNGS_ENV={name!r} is not one of {', '.join(CONFIGS)}")
    cls = CONFIGS[name]
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    settings["ENV_NAME"] = name
    settings.update({key: environ[key] for key in ENV_OVERRIDES if environ.get(key)})
    settings.update(
        {key: _bytes(key, environ[key]) for key in ENV_INT_OVERRIDES if environ.get(key)}
    )
    settings.update(
        {
            setting: _count(variable, environ[variable])
            for variable, setting in ENV_COUNT_OVERRIDES.items()
            if environ.get(variable)
        }
    )
    settings.update(
        {
            setting: _count(variable, environ[variable], minimum=0)
            for variable, setting in ENV_NUMBER_OVERRIDES.items()
            if environ.get(variable)
        }
    )
    settings.update(
        {key: _flag(key, environ[key]) for key in ENV_BOOL_OVERRIDES if environ.get(key)}
    )
    settings.update(
        {
            setting: environ[variable].strip()
            for variable, setting in ENV_NAME_OVERRIDES.items()
            if environ.get(variable, "").strip()
        }
    )
    if environ.get("SECRET_KEY_FALLBACKS"):
        keys = environ["SECRET_KEY_FALLBACKS"].split(",")
        settings["SECRET_KEY_FALLBACKS"] = [key.strip() for key in keys if key.strip()]
    if environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(environ["DATABASE_URL"])
    if environ.get("RUNGS_FILE_STORAGE"):
        settings["FILE_STORAGE"] = environ["RUNGS_FILE_STORAGE"].strip().lower()
    settings.update(overrides)
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        data_dir = Path(settings["RUNGS_DATA_DIR"])
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{data_dir / 'rungs.db'}"
    if settings["FILE_STORAGE"] not in FILE_STORAGES:
        raise ConfigError(
            f"RUNGS_FILE_STORAGE must be one of {', '.join(FILE_STORAGES)}, "
            f"not {settings['FILE_STORAGE']!r}"
        )
    if not settings.get("MAX_CONTENT_LENGTH"):
        settings["MAX_CONTENT_LENGTH"] = settings["ATTACHMENT_MAX_BYTES"] + MULTIPART_ALLOWANCE
    if name == "production":
        _check_secret_key(settings["SECRET_KEY"])
    return settings


def _sqlalchemy_url(url: str) -> str:
    """Send postgres URLs through psycopg 3, whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _bytes(key: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{key} must be a number of bytes (a whole number), not {value!r}")
    return int(value)


def _count(variable: str, value: str, *, minimum: int = 1) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(f"{variable} must be a whole number of at least {minimum}, not {value!r}")
    return number


def _flag(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, not {value!r}")


def _check_secret_key(key: str | None) -> None:
    if not key or key == INSECURE_SECRET_KEY or len(key) < 32:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 32 characters in production "
            '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
        )
