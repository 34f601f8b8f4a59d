"""Settings for Space Between: one module, configured only through environment variables.

Safe by default: DEBUG is off unless asked for, and production mode (SPACEBETWEEN_PRODUCTION=1)
refuses to start with a missing, short or default secret key, or with DEBUG on.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import lazy

from spacebetween import localkeys

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


PRODUCTION = env_bool("SPACEBETWEEN_PRODUCTION", False)
DEBUG = env_bool("DEBUG", False)
DATA_DIR = Path(env_str("SPACEBETWEEN_DATA_DIR", str(BASE_DIR.parent / "var"))).resolve()

# Refused in production: anything Django itself would call insecure, or shorter than 50 characters.
_INSECURE_PREFIX = "django-insecure"


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if PRODUCTION:
        if not key or len(key) < 50 or key.startswith(_INSECURE_PREFIX) or len(set(key)) < 5:
            raise ImproperlyConfigured(
                "SECRET_KEY must be set to a random value of at least 50 characters in production "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
            )
        return key
    if key:
        return key
    # Development and demo: a random key generated once per installation, never a shared default.
    # Read, and written the first time, when something is first signed: importing writes nothing.
    return cast(str, lazy(_installation_secret_key, str)())


@functools.cache
def _installation_secret_key() -> str:
    return localkeys.read_or_create(DATA_DIR / "secret_key", localkeys.new_secret_key)


SECRET_KEY = _secret_key()

if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set it to false).")


def _field_encryption_keys() -> Sequence[str]:
    """Keys for spacebetween.crypto (Fernet), newest first; kept apart from SECRET_KEY and the database.

    FIELD_ENCRYPTION_KEY may list several comma-separated keys so that old ones still decrypt during
    rotation. Required in production; elsewhere generated once per installation like the secret key.
    """
    keys = env_list("FIELD_ENCRYPTION_KEY", [])
    if not keys and PRODUCTION:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be set in production "
            "(e.g. python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')."
        )
    if not keys:
        # Read, and written the first time, when a field is first encrypted or decrypted.
        return localkeys.FileKeys(DATA_DIR / "field_key")
    for key in keys:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except ValueError:
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be 32 random bytes in URL-safe base64 (44 characters)."
            )
    return keys


FIELD_ENCRYPTION_KEYS = _field_encryption_keys()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the host names this practice is served on.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Demo accounts may skip MFA, and only outside production.
ALLOW_DEMO_ACCOUNTS = not PRODUCTION and env_bool("SPACEBETWEEN_ALLOW_DEMO_ACCOUNTS", True)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "spacebetween.ui",
    "spacebetween.accounts",
    "spacebetween.practice",
    "spacebetween.audit",
    "spacebetween.clients",
    "spacebetween.measures",
    "spacebetween.plans",
    "spacebetween.delivery",
    "spacebetween.relationship",
    "spacebetween.exercises",
    "spacebetween.notes",
    "spacebetween.transcripts",
    "spacebetween.insights",
    "spacebetween.safety",
    "spacebetween.api",
    "spacebetween.web",
    "spacebetween.demo",
    "spacebetween.notifications",
    "spacebetween.backup",
    "spacebetween.jobs",
    "spacebetween.consent",
    "spacebetween.rights",
    "spacebetween.formulation",
    "spacebetween.progress",
    "spacebetween.search",
    "spacebetween.owner",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "spacebetween.ui.staticfiles.WhiteNoiseMiddleware",  # WhiteNoise; makes STATIC_ROOT outside production
    "spacebetween.ui.middleware.security_headers",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "spacebetween.accounts.middleware.session_limits",
    "spacebetween.accounts.middleware.require_mfa",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "spacebetween.urls"
WSGI_APPLICATION = "spacebetween.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            # Dates on pages: `when` and `time_of`, without {% load %} in every template.
            "builtins": ["spacebetween.ui.templatetags.when"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "spacebetween.web.context.site",
            ],
        },
    }
]


def _databases() -> dict[str, Any]:
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
        if config["ENGINE"].endswith("sqlite3"):
            config["ENGINE"] = SQLITE_ENGINE
            config["OPTIONS"] = _SQLITE_OPTIONS
        elif config["ENGINE"].endswith("postgresql"):
            config.setdefault("OPTIONS", {}).update(_postgres_options())
        return {"default": config}
    # The folder is made on the first connection (spacebetween/backends/sqlite3/base.py).
    return {
        "default": {
            "ENGINE": SQLITE_ENGINE,
            "NAME": str(DATA_DIR / "spacebetween.sqlite3"),
            "OPTIONS": _SQLITE_OPTIONS,
        }
    }


def _postgres_options() -> dict[str, object]:
    """Server-side binding with prepared statements: once a statement has run `DB_PREPARE_THRESHOLD`
    times on a connection (psycopg's default, 5), psycopg prepares it there, so the server no longer
    parses and plans the answer path's dozen statements on every submission; measured, that halves
    the server's CPU per submission (docs/performance.md). Django leaves both off for the sake of
    transaction-mode connection poolers: set DB_PREPARE_THRESHOLD=0 behind PgBouncer older than 1.21."""
    threshold = env_int("DB_PREPARE_THRESHOLD", 5)
    if threshold < 0:
        raise ImproperlyConfigured(f"DB_PREPARE_THRESHOLD must be 0 (off) or more, not {threshold}")
    if threshold == 0:
        return {}
    return {"server_side_binding": True, "prepare_threshold": threshold}


# Django's SQLite backend, with writers taking turns on a lock file (spacebetween/backends/sqlite3/base.py).
SQLITE_ENGINE = "spacebetween.backends.sqlite3"
# SQLite: write-ahead log for concurrent readers, synchronous=FULL so an acknowledged commit survives
# power loss, IMMEDIATE transactions so writers queue on the lock instead of failing on upgrade.
_SQLITE_OPTIONS: dict[str, object] = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Argon2id first (OWASP Password Storage Cheat Sheet; docs/security.md).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Sessions live in the database so that logout and password change can end them server-side.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
# Staff: 15 minutes idle, 12 hours absolute (HIPAA 164.312(a)(2)(iii) automatic logoff; ASVS 7.3).
STAFF_IDLE_TIMEOUT_SECONDS = env_int("STAFF_IDLE_TIMEOUT_SECONDS", 15 * 60)
STAFF_ABSOLUTE_TIMEOUT_SECONDS = env_int("STAFF_ABSOLUTE_TIMEOUT_SECONDS", 12 * 60 * 60)
CLIENT_IDLE_TIMEOUT_SECONDS = env_int("CLIENT_IDLE_TIMEOUT_SECONDS", 30 * 60)
# Client portal: 2 hours absolute (docs/security.md, Sessions).
CLIENT_ABSOLUTE_TIMEOUT_SECONDS = env_int("CLIENT_ABSOLUTE_TIMEOUT_SECONDS", 2 * 60 * 60)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")  # the practice's address, for links in emails

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
    # Joining the HSTS preload list is hard to undo, so it stays the operator's explicit choice.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
# Outside production WhiteNoise serves from finders but warns when its root is missing; the folder is
# made when the web server starts (spacebetween/ui/staticfiles.py), not here.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before an SMTP connect or reply is given up; keep well under the worker's lease (300 s).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Space Between <no-reply@localhost>")

# Logs carry no health data: only request metadata, never bodies or query strings with content.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
