"""Absolute links for e-mails, calendar feeds, QR codes and certificates: ``BASE_URL`` + path.

They work outside requests too (the CLI, the worker), so they never depend on the request's
host: the public address is the configured one.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """``BASE_URL`` + the path of ``endpoint`` with ``values``."""
    return base_url() + current_app.url_map.bind("localhost").build(endpoint, values)


def verification_url(code: str) -> str:
    """The address printed (and QR-encoded) on a certificate: ``BASE_URL/verify/<code>``."""
    return f"{base_url()}/verify/{code}"
