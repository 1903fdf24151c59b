"""Absolute links for e-mails, calendar feeds, QR codes and certificates: ``BASE_URL`` + path.

They work outside requests too (the CLI, the worker), so they never depend on the request's
host: the public address is the configured one.

``DatabaseId``: the ``int`` of every route, at most the largest id a table holds;
``database_id`` reads one from a query argument or a form value the same way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import IntegerConverter

# The largest id an integer column holds on PostgreSQL (SQLite's limit, 2**63 - 1, is higher).
LARGEST_ID = 2**31 - 1


def database_id(value: Any) -> int | None:
    """``value`` (a query argument, a form value) as an id a table can hold: a whole number
    from 1 to ``LARGEST_ID``; None for anything else ("", "abc", "-3", "99999999999")."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= LARGEST_ID else None


class DatabaseId(IntegerConverter):
    """``<int:...>`` that matches no number above ``LARGEST_ID``: such an id names nothing,
    so the URL is "not found" (the database refuses the number: "integer out of range" on
    PostgreSQL, an OverflowError on SQLite above 2**63 - 1, which answered with a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """``BASE_URL`` + the path of ``endpoint`` with ``values``."""
    return base_url() + current_app.url_map.bind("localhost").build(endpoint, values)


def verification_url(code: str) -> str:
    """The address printed (and QR-encoded) on a certificate: ``BASE_URL/verify/<code>``."""
    return f"{base_url()}/verify/{code}"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/me``, ``/certificates/3.pdf``), else None:
    where to go after signing in, never another site (no open redirects)."""
    if not target or len(target) > 2000 or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(c) < 32 for c in target):
        return None
    return target
