"""Reading the audit trail: filters, scope, one page of events in words, the CSV export.

- Administrators see every event. A coordinator sees the events of the programmes they
  coordinate (``managed_programme_ids``); events tied to no programme (sign-ins, accounts,
  people) are for administrators only.
- Dates of the filters and times shown are in the reader's time zone: their account's, else
  the organisation's default, else UTC (the page says which).
- A page costs a bounded number of queries whatever the number of events: the count (capped
  at ``COUNT_LIMIT``), the rows (with the actor and the programme joined) and at most one
  query per kind of linked object.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainingmgr.accounts.models import User
from trainingmgr.audit.labels import OBJECT_TYPE_LABELS, object_type_label
from trainingmgr.audit.models import AuditEvent
from trainingmgr.audit.rendering import (
    Change,
    Context,
    changes_text,
    describe_changes,
    load_names,
    object_text,
)
from trainingmgr.audit.summaries import summary_text
from trainingmgr.core.scope import managed_programme_ids
from trainingmgr.core.timefmt import fmt_datetime, locale_name, viewer_timezone
from trainingmgr.core.urls import database_id
from trainingmgr.extensions import db
from trainingmgr.imports.services import neutralise
from trainingmgr.programmes.models import Programme

# What the recorded actions mean, in words. Actions not listed are shown as recorded.
ACTION_LABELS: dict[str, Any] = {
    "auth.sign_in": _l("Signed in"),
    "auth.sign_in_failed": _l("Sign-in failed"),
    "auth.sign_out": _l("Signed out"),
    "auth.sign_out_everywhere": _l("Signed out everywhere"),
    "auth.two_factor_enabled": _l("Two-factor sign-in turned on"),
    "auth.two_factor_disabled": _l("Two-factor sign-in turned off"),
    "auth.two_factor_reset": _l("Second factor reset by an administrator"),
    "auth.two_factor_passed": _l("Second factor given"),
    "auth.two_factor_failed": _l("Wrong second-factor code"),
    "user.create": _l("Account created"),
    "programme.create": _l("Programme created"),
    "programme.update": _l("Programme changed"),
    "programme.archive": _l("Programme archived"),
    "programme.unarchive": _l("Programme brought back from the archive"),
    "programme.delete": _l("Programme deleted"),
    "programme.partner_add": _l("Partner added"),
    "programme.partner_update": _l("Partner changed"),
    "programme.partner_remove": _l("Partner removed"),
    "programme.partner_move": _l("Partners reordered"),
    "module.create": _l("Module added"),
    "module.update": _l("Module changed"),
    "module.move": _l("Modules reordered"),
    "module.retire": _l("Module retired"),
    "module.unretire": _l("Module brought back"),
    "module.delete": _l("Module deleted"),
    "cohort.create": _l("Cohort created"),
    "cohort.update": _l("Cohort changed"),
    "cohort.open": _l("Cohort opened"),
    "cohort.close": _l("Cohort closed"),
    "cohort.archive": _l("Cohort archived"),
    "cohort.unarchive": _l("Cohort brought back from the archive"),
    "cohort.delete": _l("Cohort deleted"),
    "session.create": _l("Session added"),
    "session.series": _l("Series of sessions added"),
    "session.update": _l("Session changed"),
    "session.cancel": _l("Session cancelled"),
    "session.uncancel": _l("Session reinstated"),
    "session.delete": _l("Session deleted"),
    "enrolment.create": _l("Enrolled"),
    "enrolment.status": _l("Enrolment status changed"),
    "enrolment.waitlist": _l("Waiting list reordered"),
    "attendance.correct": _l("Attendance corrected"),
    "person.create": _l("Person added"),
    "person.update": _l("Person changed"),
    "person.merge": _l("Duplicate people merged"),
    "people.import": _l("People imported"),
    "people.export": _l("People exported"),
    "certificate.issue": _l("Certificate issued"),
    "certificate.revoke": _l("Certificate revoked"),
    "certificate.reissue": _l("Certificate reissued"),
    "certificate.supersede": _l("Certificate superseded"),
    "signing_key.create": _l("Signing key set up"),
    "audit.export": _l("Audit trail exported"),
    "auth.sign_in_link": _l("Sign-in link requested"),
    "user.created_by_link": _l("Account created at first sign-in"),
    "cohort.access_links": _l("Access links sent"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_reset_requested": _l("Password reset requested"),
    "auth.password_reset": _l("Password reset"),
    "user.invited": _l("Invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.roles": _l("Roles changed"),
    "user.programme_assigned": _l("Programme assigned"),
    "user.programme_unassigned": _l("Programme unassigned"),
    "user.person": _l("Person record linked"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "user.calendar_link_create": _l("Calendar link created"),
    "user.calendar_link_reset": _l("Calendar link reset"),
    "organisation.update": _l("Organisation settings changed"),
    "organisation.logo": _l("Organisation logo changed"),
    "organisation.font": _l("Certificate font changed"),
    "programme.logo": _l("Programme logo changed"),
    "signatory.create": _l("Signatory added"),
    "signatory.update": _l("Signatory changed"),
    "signatory.delete": _l("Signatory removed"),
    "signatory.move": _l("Signatories reordered"),
    "mail.retry": _l("Message sent again"),
    "evaluation.create": _l("Evaluation added"),
    "evaluation.update": _l("Evaluation settings changed"),
    "evaluation.questions": _l("Evaluation questions changed"),
    "evaluation.delete": _l("Evaluation removed"),
}

SYSTEM = "system"  # typed in the "who" filter: events without an actor


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


# --- Filters --------------------------------------------------------------------------------


@dataclass
class AuditFilter:
    """The filters of the audit page, from its query arguments."""

    actor: str = ""
    object_type: str = ""
    object_id: int | None = None
    action: str = ""
    programme_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> AuditFilter:
        flt = cls(
            actor=str(args.get("actor") or "").strip()[:200],
            object_type=str(args.get("object_type") or "").strip()[:40],
            object_id=database_id(args.get("object_id")),
            action=str(args.get("action") or "").strip()[:60],
            programme_id=database_id(args.get("programme")),
        )
        for name in ("date_from", "date_to"):
            text = str(args.get(name) or "").strip()
            if not text:
                continue
            try:
                setattr(flt, name, date.fromisoformat(text))
            except ValueError:
                flt.errors[name] = _(
                    "“%(text)s” is not a date: use the form 2026-03-31.", text=text
                )
        if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
            flt.errors["date_to"] = _("The end date is before the start date.")
            flt.date_to = None
        return flt

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.as_args())

    def as_args(self) -> dict[str, str]:
        """The query arguments that give these filters (for the export link)."""
        args = {
            "actor": self.actor,
            "object_type": self.object_type,
            "object_id": str(self.object_id or ""),
            "action": self.action,
            "programme": str(self.programme_id or ""),
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in args.items() if v}


def reader_timezone(*, actor: User) -> str:
    """The zone the reader's (``actor``'s) dates are in: their account's, the organisation's,
    or UTC."""
    return viewer_timezone(actor)


# The page counts events up to this many ("more than 1,000"): an exact count of 200,000
# events cost more than the page itself.
COUNT_LIMIT = 1000


def _start_of(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def events_query(flt: AuditFilter, tz: str, *, actor: User) -> sa.Select[Any]:
    """The events ``actor`` may see matching ``flt``, newest first.

    Rows are (AuditEvent, actor's display name, actor's e-mail, programme code).
    """
    query = (
        sa.select(AuditEvent, User.display_name, User.email, Programme.code)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Programme, Programme.id == AuditEvent.programme_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    scope = managed_programme_ids(actor)
    if scope is not None:
        query = query.where(AuditEvent.programme_id.in_(scope) if scope else sa.false())
    if flt.actor:
        query = query.where(_actor_condition(flt.actor))
    if flt.object_type:
        query = query.where(AuditEvent.object_type == flt.object_type)
    if flt.object_id:
        query = query.where(AuditEvent.object_id == flt.object_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.programme_id:
        query = query.where(AuditEvent.programme_id == flt.programme_id)
    if flt.date_from:
        query = query.where(AuditEvent.at >= _start_of(flt.date_from, tz))
    if flt.date_to:
        query = query.where(AuditEvent.at < _start_of(flt.date_to + timedelta(days=1), tz))
    return query


def _actor_condition(text: str) -> sa.ColumnElement[bool]:
    """ "system", an account id, or words all found in the actor's name or e-mail."""
    if text.casefold() == SYSTEM:
        return AuditEvent.actor_id.is_(None)
    number = text.lstrip("#")
    if number.isdigit():  # an account id (one no table can hold matches nothing)
        actor_id = database_id(number)
        return AuditEvent.actor_id == actor_id if actor_id is not None else sa.false()
    words = [w.casefold() for w in text.split()]
    return sa.and_(
        *(
            sa.or_(
                sa.func.lower(User.display_name).contains(w, autoescape=True),
                sa.func.lower(User.email).contains(w, autoescape=True),
            )
            for w in words
        )
    )


# --- Options of the filter form -------------------------------------------------------------


def programme_options(*, actor: User) -> list[tuple[int, str]]:
    """(id, "CODE · title") of the programmes the reader (``actor``) may filter by (one query)."""
    query = sa.select(Programme.id, Programme.code, Programme.title).order_by(Programme.code)
    scope = managed_programme_ids(actor)
    if scope is not None:
        query = query.where(Programme.id.in_(scope) if scope else sa.false())
    return [(pid, f"{code} · {title}") for pid, code, title in db.session.execute(query)]


def action_options() -> list[tuple[str, str]]:
    return sorted(((a, action_label(a)) for a in ACTION_LABELS), key=lambda o: o[1].casefold())


def object_type_options() -> list[tuple[str, str]]:
    return sorted(
        ((t, object_type_label(t)) for t in OBJECT_TYPE_LABELS), key=lambda o: o[1].casefold()
    )


# --- One page of events ---------------------------------------------------------------------


@dataclass(frozen=True)
class EventRow:
    event: AuditEvent
    actor: str  # the actor's name, or "system"
    actor_email: str | None
    action: str  # in words
    object_label: str
    object_url: str | None
    programme_code: str | None
    summary: str  # in the reader's language
    changes: list[Change]


def event_rows(rows: Iterable[Any], tz: str) -> list[EventRow]:
    """The rows of ``events_query`` (one page) in words, with links to their objects: names
    of every record they mention loaded in at most one query per kind of record."""
    rows = list(rows)
    names = load_names([row[0] for row in rows], tz)
    ctx = Context(tz=tz, names=names, locale=locale_name())
    result = []
    for event, display_name, email, programme_code in rows:
        result.append(
            EventRow(
                event=event,
                actor=actor_name(event, display_name, email),
                actor_email=email,
                action=action_label(event.action),
                object_label=object_text(event.object_type, event.object_id, names),
                object_url=names.urls.get((event.object_type, event.object_id or 0)),
                programme_code=programme_code,
                summary=summary_text(event.action, event.summary),
                changes=describe_changes(event.changes, ctx),
            )
        )
    return result


def actor_name(event: AuditEvent, display_name: str | None, email: str | None) -> str:
    if event.actor_id is None:
        return _("system")
    return display_name or email or _("Account no. %(id)s", id=event.actor_id)


# --- CSV export -----------------------------------------------------------------------------

EXPORT_CHUNK = 500


def csv_lines(query: sa.Select[Any], tz: str) -> Iterator[str]:
    """The events of ``query`` as CSV text, a chunk of rows at a time (UTF-8 with a byte-order
    mark for Excel; cells a spreadsheet would run as formulas are neutralised)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(
        [
            _("When (%(zone)s)", zone=tz),
            _("When (UTC, ISO 8601)"),
            _("Who"),
            _("Who (e-mail)"),
            _("Action"),
            _("Action code"),
            _("Object type"),
            _("Object id"),
            _("Programme"),
            _("What changed"),
            _("Changes (JSON)"),
            _("Summary"),
            _("IP address"),
        ]
    )
    yield "\ufeff" + flush()
    result = db.session.execute(query.execution_options(yield_per=EXPORT_CHUNK))
    for chunk in result.partitions():
        ctx = Context(tz=tz, names=load_names([row[0] for row in chunk], tz), locale=locale_name())
        for event, display_name, email, programme_code in chunk:
            cells = [
                fmt_datetime(event.at, tz),
                event.at.isoformat(),
                actor_name(event, display_name, email),
                email or "",
                action_label(event.action),
                event.action,
                object_text(event.object_type, event.object_id, ctx.names),
                event.object_id if event.object_id is not None else "",
                programme_code or "",
                changes_text(event.changes, ctx),
                json.dumps(event.changes or {}, ensure_ascii=False, sort_keys=True),
                summary_text(event.action, event.summary),
                event.ip or "",
            ]
            writer.writerow([neutralise(c) for c in cells])
        yield flush()
