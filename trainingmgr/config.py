"""Settings from environment variables, with safe defaults.

Every setting is documented in README.md ("Configuration").
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# Data files shipped with the package: the default survey, the demo's definitions.
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """Raised when the configuration cannot be used (for example no SECRET_KEY in production)."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def normalise_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _secret_key(env: str, instance: Path) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError(
            "SECRET_KEY is not set. In production trainingmgr refuses to start without one: "
            'generate one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )
    # Development: generate once and keep it in instance/ so sessions survive restarts.
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask configuration from the environment, then apply ``overrides``."""
    overrides = dict(overrides or {})
    env = overrides.get("TRAININGMGR_ENV") or os.environ.get("TRAININGMGR_ENV", "development")
    instance = Path(
        overrides.get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or DEFAULT_INSTANCE
    )
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or os.environ.get(
        "DATABASE_URL", f"sqlite:///{instance / 'trainingmgr.sqlite3'}"
    )
    secret = overrides.get("SECRET_KEY") or _secret_key(env, instance)
    production = env == "production"
    config: dict[str, Any] = {
        "TRAININGMGR_ENV": env,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # Database trouble (docs/production.md): seconds to wait for a new connection, and
        # PostgreSQL's limit on one statement; then pages answer 503 with Retry-After.
        "DATABASE_CONNECT_TIMEOUT": _int("DATABASE_CONNECT_TIMEOUT", 5),
        "DATABASE_STATEMENT_TIMEOUT": _int("DATABASE_STATEMENT_TIMEOUT", 30),
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Encrypts the stored signing keys (docs/certificates.md); empty: SECRET_KEY.
        "SIGNING_KEY_SECRET": os.environ.get("SIGNING_KEY_SECRET", ""),
        "ORGANISATION_NAME": os.environ.get("ORGANISATION_NAME", "Training Centre"),
        # Production: reverse proxies whose X-Forwarded-* headers are trusted (0: none),
        # HTTPS, and how long browsers remember to use HTTPS only (HSTS; 0: not sent).
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        "PREFERRED_URL_SCHEME": os.environ.get(
            "PREFERRED_URL_SCHEME", "https" if production else "http"
        ),
        "HSTS_MAX_AGE": _int("HSTS_MAX_AGE", 31536000),
        **_session_settings(production),
        **_language_settings(),
        **_mail_settings(production),
        **_limit_settings(),
    }
    config["MAX_CONTENT_LENGTH"] = None  # uploads are size-checked by the import service
    config.update(overrides)
    config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        engine_options(
            config["SQLALCHEMY_DATABASE_URI"],
            connect_timeout=config["DATABASE_CONNECT_TIMEOUT"],
            statement_timeout=config["DATABASE_STATEMENT_TIMEOUT"],
        ),
    )
    return config


def _session_settings(production: bool) -> dict[str, Any]:
    """Sign-ins: form tokens, server-side sign-ins and their cookies."""
    return {
        # A form's security token lasts a working day (a roster left open all morning), and
        # is replaced at every sign-in (accounts.sessions).
        "WTF_CSRF_TIME_LIMIT": _int("CSRF_HOURS", 12) * 3600,
        # Server-side sign-ins (accounts.sessions): "keep me signed in" lasts REMEMBER_DAYS,
        # other sign-ins SESSION_HOURS.
        "REMEMBER_DAYS": _int("REMEMBER_DAYS", 30),
        "SESSION_HOURS": _int("SESSION_HOURS", 12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_SECURE": _bool(os.environ.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_DURATION": timedelta(days=_int("REMEMBER_DAYS", 30)),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


def _language_settings() -> dict[str, Any]:
    """Languages and time zones."""
    return {
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "en"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ["en", "ru", "az"],
        # Compiled catalogues (.mo) inside the package, so an installed copy finds them too.
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "Europe/Amsterdam"),
    }


def _mail_settings(production: bool) -> dict[str, Any]:
    """E-mail: the SMTP server and the delivery worker."""
    return {
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp" if production else "console"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(os.environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(os.environ.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "trainingmgr <no-reply@localhost>"
        ),
        # E-mail delivery (trainingmgr.mail.delivery): SMTP timeout in seconds, attempts
        # before a message is marked failed, the worker's pause between looks at the outbox,
        # and whether the web process delivers in a thread itself (``make run`` sets it).
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 30),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 8),
        "WORKER_POLL_SECONDS": _int("WORKER_POLL_SECONDS", 2),
        "MAIL_DELIVERY_IN_PROCESS": _bool(os.environ.get("MAIL_DELIVERY_IN_PROCESS")),
    }


def _limit_settings() -> dict[str, Any]:
    """Rate limits, link lifetimes and the largest uploads."""
    return {
        "MAX_UPLOAD_MB": _int("MAX_UPLOAD_MB", 10),
        # Rate limits (Flask-Limiter): memory:// for one process, redis://host:6379 for several.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(os.environ.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # One-time sign-in links (e-mailed) stay valid this many minutes.
        "SIGN_IN_LINK_MINUTES": _int("SIGN_IN_LINK_MINUTES", 30),
        # Spreadsheets larger than this are read by the worker, the page showing its progress.
        "IMPORT_WORKER_THRESHOLD_KB": _int("IMPORT_WORKER_THRESHOLD_KB", 512),
        # "Issue to all eligible" for more people than this is done by the worker, in batches
        # of CERTIFICATES_BATCH, the page showing how many are done (rendering and signing a
        # certificate takes 5 to 40 ms: a cohort of 1,800 would outlast the request timeout).
        "CERTIFICATES_INLINE_MAX": _int("CERTIFICATES_INLINE_MAX", 20),
        "CERTIFICATES_BATCH": _int("CERTIFICATES_BATCH", 50),
        # Logos and signatures (PNG or JPEG): largest file and largest side in pixels.
        "MAX_IMAGE_KB": _int("MAX_IMAGE_KB", 2048),
        "MAX_FONT_MB": _int("MAX_FONT_MB", 30),
        "MAX_IMAGE_SIDE": _int("MAX_IMAGE_SIDE", 5000),
    }


def _url_options(url: str) -> str:
    """The ``options`` query argument of a database URL ("" when it has none)."""
    value = make_url(url).query.get("options") or ""
    return " ".join(value) if isinstance(value, tuple) else value


def engine_options(url: str, *, connect_timeout: int, statement_timeout: int) -> dict[str, Any]:
    """Connection settings that keep a half-open network or a hung database from blocking
    every worker: bounded waits for a connection, a TCP timeout on unanswered packets, and a
    statement timeout (PostgreSQL). SQLite needs none of them."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["pool_timeout"] = max(connect_timeout, 1) * 2  # waiting for a pooled one
        options["connect_args"] = {
            "connect_timeout": max(connect_timeout, 2),  # libpq's smallest useful value
            # A connection whose packets go unanswered (half-open network) fails after this.
            "tcp_user_timeout": max(connect_timeout, 2) * 2000,
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            # JIT compilation costs more than it saves on this application's queries (2.8 s of
            # a 3.7 s directory page on 100,000 people, docs/performance.md).
            # Added to the URL's own ``options`` (a search_path, say), which connect_args
            # would otherwise replace.
            "options": " ".join(
                filter(
                    None,
                    (
                        _url_options(url),
                        f"-c statement_timeout={statement_timeout * 1000} -c jit=off",
                    ),
                )
            ),
        }
    return options
