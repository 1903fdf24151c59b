"""Jinja filters and globals: labels, local times, navigation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from trainingmgr.core import timefmt
from trainingmgr.core.labels import country_label, label_for
from trainingmgr.core.permissions import allowed
from trainingmgr.core.plurals import js_plural
from trainingmgr.core.roles import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    roles: frozenset[Role]


# The main navigation, in order, by the role it shows to. An item shows only to users whose
# roles allow its view and only once the view exists (later features register their endpoints).
_MENUS: tuple[tuple[Role, tuple[tuple[str, Any], ...]], ...] = (
    (
        Role.COORDINATOR,
        (
            ("home.dashboard", _l("Dashboard")),
            ("programmes.index", _l("Programmes")),
            ("cohorts.index", _l("Cohorts")),
            ("people.index", _l("People")),
            ("reports.dashboard", _l("Reports")),
            ("audit.index", _l("Audit trail")),
            ("mail.log", _l("Messages")),
        ),
    ),
    (Role.TRAINER, (("home.trainer", _l("My sessions")),)),
    (Role.PARTICIPANT, (("home.participant", _l("My training")),)),
    (
        Role.ADMIN,
        (
            ("admin.accounts_list", _l("Accounts")),
            ("organisation.settings", _l("Organisation")),
            ("mail.outbox_index", _l("Outbox")),
        ),
    ),
)
NAVIGATION = [
    NavItem(endpoint, label, frozenset({role}))
    for role, items in _MENUS
    for endpoint, label in items
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
    app.jinja_env.globals["country_name"] = country_label  # "AZ": "Azerbaijan", "Азербайджан"
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
