"""The audit trail's summaries in the reader's language.

The application writes its summaries in English; those recognised here (``SUMMARIES``) are
written again through the catalogue. Summaries that are data (a name, an e-mail, a serial)
are shown as they are; so is any summary not recognised here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainingmgr.core import timefmt
from trainingmgr.core.labels import label_for

# The summaries the application writes in English, recognised and written again in the
# reader's language: for actions starting with the prefix, the first pattern that matches
# gives the message of the catalogue, formatted with the pattern's named groups, or a
# function of the match that writes it. Summaries that are data (a name, an e-mail, a
# serial) are shown as they are; so is any summary not recognised here.
Rewrite = Callable[[re.Match[str]], str] | LazyString


def _status(value: str) -> str:
    return str(label_for(value.strip()))


def _statuses(match: re.Match[str]) -> dict[str, Any]:
    """The named groups of a change of status, its ``old`` and ``new`` as their labels."""
    groups: dict[str, Any] = match.groupdict()
    groups["old"], groups["new"] = _status(groups["old"]), _status(groups["new"])
    return groups


def _counted(match: re.Match[str]) -> dict[str, Any]:
    """The named groups of a counted summary, its count ``n`` as ``num`` (``ngettext``)."""
    groups: dict[str, Any] = match.groupdict()
    groups["num"] = int(groups.pop("n"))
    return groups


_SUMMARIES: list[tuple[str, str, Rewrite]] = [
    (
        "cohort.create",
        r"^Created cohort (?P<name>.+) of (?P<code>\S+)$",
        _l("Created cohort %(name)s of %(code)s"),
    ),
    (
        "cohort.update",
        r"^Edited cohort (?P<name>.+)$",
        _l("Edited cohort %(name)s"),
    ),
    (
        "session.update",
        r"^Kept at the same local time in (?P<zone>\S+)$",
        _l("Kept at the same local time in %(zone)s"),
    ),
    (
        "cohort.",
        r"^Cohort (?P<name>.+): (?P<old>[a-z_]+) -> (?P<new>[a-z_]+)$",
        lambda m: _("Cohort %(name)s: %(old)s → %(new)s", **_statuses(m)),
    ),
    (
        "cohort.delete",
        r"^Deleted cohort (?P<name>.+) and its (?P<n>\d+) sessions$",
        lambda m: ngettext(
            "Deleted cohort %(name)s and its %(num)d session",
            "Deleted cohort %(name)s and its %(num)d sessions",
            **_counted(m),
        ),
    ),
    (
        "session.create",
        r"^Added a session to (?P<name>.+)$",
        _l("Added a session to %(name)s"),
    ),
    (
        "session.series",
        r"^Added a series of (?P<n>\d+) sessions to (?P<name>.+)$",
        lambda m: ngettext(
            "Added a series of %(num)d session to %(name)s",
            "Added a series of %(num)d sessions to %(name)s",
            **_counted(m),
        ),
    ),
    (
        "session.update",
        r"^Edited a session of (?P<name>.+)$",
        _l("Edited a session of %(name)s"),
    ),
    (
        "session.",
        r"^Cancelled a session of (?P<name>.+)$",
        _l("Cancelled a session of %(name)s"),
    ),
    (
        "session.",
        r"^Restored a session of (?P<name>.+)$",
        _l("Reinstated a session of %(name)s"),
    ),
    (
        "session.delete",
        r"^Deleted a session of (?P<name>.+)$",
        _l("Deleted a session of %(name)s"),
    ),
    (
        "audit.export",
        r"^CSV export of the audit trail$",
        _l("CSV export of the audit trail"),
    ),
    (
        "mail.retry",
        r"^Retry of the (?P<kind>\S+) e-mail to (?P<to>.+)$",
        _l("E-mail sent again to %(to)s"),
    ),
    (
        "enrolment.status",
        r"^(?P<name>.+): (?P<old>[a-z_]+) -> (?P<new>[a-z_]+)$",
        lambda m: _("%(name)s: %(old)s → %(new)s", **_statuses(m)),
    ),
    (
        "enrolment.",
        r"^(?P<name>.+): (?P<new>applied|enrolled|waitlisted|withdrawn|completed)$",
        lambda m: _("%(name)s: %(status)s", name=m["name"], status=_status(m["new"])),
    ),
    (
        "enrolment.waitlist",
        r"^(?P<name>.+): waitlist (?P<old>\d+) -> (?P<new>\d+)$",
        _l("%(name)s: place %(old)s → %(new)s on the waiting list"),
    ),
    (
        "people.import",
        (
            r"^(?P<file>.+): (?P<created>\d+) created, (?P<updated>\d+) updated, "
            r"(?P<enrolled>\d+) enrolled, (?P<waitlisted>\d+) waitlisted$"
        ),
        _l(
            "%(file)s: %(created)s created, %(updated)s updated, %(enrolled)s enrolled, "
            "%(waitlisted)s waitlisted"
        ),
    ),
    (
        "people.export",
        r"^(?P<what>.+): (?P<n>\d+) rows$",
        lambda m: ngettext("%(what)s: %(num)d row", "%(what)s: %(num)d rows", **_counted(m)),
    ),
    (
        "attendance.correct",
        r"^self check-in: (?P<old>[a-z_]+) -> (?P<new>[a-z_]+)$",
        lambda m: _("Self check-in: %(old)s → %(new)s", **_statuses(m)),
    ),
    (
        "attendance.correct",
        r"^(?P<title>.*) (?P<day>\d{4}-\d{2}-\d{2}), (?P<n>\d+) corrected: .*$",
        lambda m: ngettext(
            "%(session)s, %(day)s: %(num)d record corrected",
            "%(session)s, %(day)s: %(num)d records corrected",
            int(m["n"]),
            session=m["title"],
            day=timefmt.fmt_date(date.fromisoformat(m["day"])),
        ),
    ),
    ("auth.sign_in", r"^password reset link$", _l("password reset link")),
    ("auth.sign_in", r"^invitation$", _l("invitation")),
    ("auth.two_factor", r"^recovery code$", _l("recovery code")),
    (
        "evaluation.",
        r"^(?P<cohort>.*): (?P<kind>survey|test)$",
        lambda m: f"{m['cohort']}: {label_for(m['kind'])}" if m["cohort"] else _status(m["kind"]),
    ),
]
SUMMARIES: list[tuple[str, re.Pattern[str], Rewrite]] = [
    (prefix, re.compile(pattern), rewrite) for prefix, pattern, rewrite in _SUMMARIES
]


def summary_text(action: str, summary: str | None) -> str:
    """The event's summary in the reader's language (as stored when not recognised)."""
    if not summary:
        return ""
    for prefix, pattern, rewrite in SUMMARIES:
        if action.startswith(prefix):
            match = pattern.match(summary)
            if match:
                if isinstance(rewrite, LazyString):
                    groups = match.groupdict()
                    return str(rewrite) % groups if groups else str(rewrite)
                return rewrite(match)
    return summary
