"""Gunicorn settings for trainingmgr: ``gunicorn`` (run in this folder) reads this file.

Every setting can be changed with an environment variable (see docs/production.md):

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``; or ``HOST`` and ``PORT``): where to listen.
  Keep it on 127.0.0.1 behind a reverse proxy on the same machine.
- ``WEB_CONCURRENCY``: worker processes (default 2 x CPUs + 1, at most 8).
- ``GUNICORN_THREADS``: threads per worker (default 1; more uses the gthread worker).
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (default 60: certificate
  PDFs and spreadsheet imports take a few seconds, never a minute).
- ``GUNICORN_MAX_REQUESTS``: requests before a worker is replaced (default 50,000).
- ``GUNICORN_PRELOAD``: build the app once in the master before forking (default yes).
- ``FORWARDED_ALLOW_IPS``: proxies whose X-Forwarded-Proto gunicorn trusts (default
  127.0.0.1). The app itself trusts X-Forwarded-* only with ``TRUSTED_PROXY_COUNT``.
- ``GUNICORN_ACCESS_LOG`` (default ``-``: standard output; empty: none), ``GUNICORN_LOG_LEVEL``.
"""

from __future__ import annotations

import multiprocessing
import os

MAX_DEFAULT_WORKERS = 8


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name} must be 1 or more, not {value}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def default_workers() -> int:
    """2 x CPUs + 1 (gunicorn's advice), at most ``MAX_DEFAULT_WORKERS``."""
    return min(2 * multiprocessing.cpu_count() + 1, MAX_DEFAULT_WORKERS)


wsgi_app = "app:app"
proc_name = "trainingmgr"

bind = [
    os.environ.get("GUNICORN_BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
]
workers = _int("WEB_CONCURRENCY", default_workers())
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Restart a worker after this many requests, so a slow leak can never grow for long. 2,000
# recycled each worker every few seconds under load (a new worker imports the app and
# compiles its templates again: p99 of /healthz 1.8 s); 50,000 is hours at a real load.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50_000)
max_requests_jitter = max_requests // 10
# The app is built once in the master and the workers are forked from it: they start at
# once, share its memory pages, and the objects built at start-up are frozen out of the
# garbage collector's passes (app.py). Nothing that must not be shared crosses the fork:
# post_fork gives each worker its own database connections.
preload_app = _bool("GUNICORN_PRELOAD", True)

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The path without the query string (which may carry one-time tokens), the client address
# as the proxy saw it, the status, the size and the time taken in milliseconds.
access_log_format = (
    '%({x-forwarded-for}i)s %(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
)

# Refuse absurd request lines and headers early.
limit_request_line = 8190
limit_request_fields = 100


def refuse_per_process_rate_limits(env: dict[str, str], worker_count: int) -> None:
    """In production, rate limits counted by each worker apart do not hold: with 5 workers a
    limit of 5 sign-in links an hour lets about 25 through. Refuse to start then."""
    production = env.get("TRAININGMGR_ENV") == "production"
    storage = env.get("RATELIMIT_STORAGE_URI") or "memory://"
    if production and worker_count > 1 and storage.startswith("memory://"):
        raise SystemExit(
            f"Refusing to start {worker_count} workers with rate limits counted per process "
            "(RATELIMIT_STORAGE_URI is memory://): each worker would count apart and the "
            "documented limits would not hold. Set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 "
            "(see docs/production.md), or WEB_CONCURRENCY=1."
        )


refuse_per_process_rate_limits(dict(os.environ), workers)


def post_fork(server: object, worker: object) -> None:
    """In each new worker: forget the database connections inherited from the master (a
    connection used by two processes at once corrupts both), without closing the master's."""
    app = getattr(getattr(server, "app", None), "callable", None)
    if app is None:  # not preloaded: the worker builds its own app and pool
        return
    from trainingmgr.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
