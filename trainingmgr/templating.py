"""Jinja filters and globals: labels, local times, navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from trainingmgr.core import timefmt
from trainingmgr.core.labels import label_for
from trainingmgr.core.permissions import allowed
from trainingmgr.core.plurals import js_plural
from trainingmgr.core.roles import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    roles: frozenset[Role]


# The main navigation, in order. An item shows only to users whose roles allow its view
# and only once the view exists (later features register their endpoints).
NAVIGATION = [
    NavItem("home.dashboard", _l("Dashboard"), frozenset({Role.COORDINATOR})),
    NavItem("programmes.index", _l("Programmes"), frozenset({Role.COORDINATOR})),
    NavItem("cohorts.index", _l("Cohorts"), frozenset({Role.COORDINATOR})),
    NavItem("people.index", _l("People"), frozenset({Role.COORDINATOR})),
    NavItem("reports.dashboard", _l("Reports"), frozenset({Role.COORDINATOR})),
    NavItem("audit.index", _l("Audit trail"), frozenset({Role.COORDINATOR})),
    NavItem("mail.log", _l("Messages"), frozenset({Role.COORDINATOR})),
    NavItem("home.trainer", _l("My sessions"), frozenset({Role.TRAINER})),
    NavItem("home.participant", _l("My training"), frozenset({Role.PARTICIPANT})),
    NavItem("admin.accounts_list", _l("Accounts"), frozenset({Role.ADMIN})),
    NavItem("organisation.settings", _l("Organisation"), frozenset({Role.ADMIN})),
    NavItem("mail.outbox_index", _l("Outbox"), frozenset({Role.ADMIN})),
]


def register(app: Flask) -> None:
    app.jinja_env.filters["label"] = label_for
    app.jinja_env.filters["local_datetime"] = timefmt.fmt_datetime
    app.jinja_env.filters["local_time"] = timefmt.fmt_time
    app.jinja_env.filters["local_date"] = timefmt.fmt_date
    app.jinja_env.filters["local_day"] = timefmt.fmt_day
    app.jinja_env.filters["local_short_day"] = timefmt.fmt_short_day
    app.jinja_env.filters["zone_name"] = timefmt.fmt_zone
    app.jinja_env.filters["zone_note"] = timefmt.zone_note
    app.jinja_env.globals["date_range"] = timefmt.fmt_date_range
    app.jinja_env.globals["js_plural"] = js_plural
    app.jinja_env.globals["viewer_timezone"] = timefmt.viewer_timezone

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_login import current_user

        def can(*roles: str) -> bool:
            return allowed(current_user, frozenset(Role(r) for r in roles))

        def nav_items() -> list[NavItem]:
            return [item for item in NAVIGATION if allowed(current_user, item.roles)]

        return {
            "can": can,
            "nav_items": nav_items,
            "Role": Role,
            "current_locale": str(get_locale() or "en"),
            "organisation_name": _OrganisationName(),
        }


class _OrganisationName:
    """The organisation's name from its settings, read only if a template prints it (the
    footer does; the settings row is usually already in the session's identity map)."""

    def __str__(self) -> str:
        from trainingmgr.organisation.services import organisation_name

        return organisation_name()

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))
