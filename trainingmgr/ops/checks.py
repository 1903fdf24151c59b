"""``flask --app app check-production``: what an operator must still set before going live."""

from __future__ import annotations

import os
from dataclasses import dataclass

from flask import current_app


@dataclass(frozen=True)
class Finding:
    setting: str
    problem: str  # what is wrong, and what to set


def production_findings(env: dict[str, str] | None = None) -> list[Finding]:
    """Every setting that is missing or unsafe for production (empty: ready)."""
    env = dict(os.environ) if env is None else env
    config = current_app.config
    found: list[Finding] = []

    def need(ok: bool, setting: str, problem: str) -> None:
        if not ok:
            found.append(Finding(setting, problem))

    need(
        config.get("TRAININGMGR_ENV") == "production",
        "TRAININGMGR_ENV",
        "set it to production (secure cookies, SMTP mail, HSTS)",
    )
    need(
        bool(env.get("SECRET_KEY")),
        "SECRET_KEY",
        "set a long random value, the same on every server",
    )
    need(
        str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"),
        "DATABASE_URL",
        "use PostgreSQL (postgresql://user:password@host/db); SQLite is for one small office",
    )
    need(
        str(config.get("BASE_URL", "")).startswith("https://"),
        "BASE_URL",
        "the public https:// address: it is printed in e-mails and in certificates' QR codes",
    )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    need(
        not storage.startswith("memory://"),
        "RATELIMIT_STORAGE_URI",
        "redis://127.0.0.1:6379: rate limits counted per process do not hold with several "
        "workers (gunicorn refuses to start them)",
    )
    need(
        config.get("MAIL_BACKEND") == "smtp" and bool(config.get("MAIL_SERVER")),
        "MAIL_BACKEND, MAIL_SERVER",
        "an SMTP server, or no e-mail (sign-in links, enrolments, certificates) leaves",
    )
    need(
        "localhost" not in str(config.get("MAIL_DEFAULT_SENDER", "")),
        "MAIL_DEFAULT_SENDER",
        "a real From: address of your organisation",
    )
    from trainingmgr.organisation.services import two_factor_policy

    admins, _coordinators = two_factor_policy()
    need(
        admins,
        "two-factor sign-in",
        "required for administrators: turn it back on in the organisation settings",
    )
    return found
