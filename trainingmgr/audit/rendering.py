"""The audit trail in words, in the reader's language.

Events are stored as they were recorded (ids, ISO times, enum values, English summaries);
this module renders them for people: field names as labels, ids as the names or titles of
what they point to, times in the reader's time zone, enum values as their labels, and the
English summaries of the application's own events written again in the reader's language.
The label tables are in ``labels.py``, the summaries in ``summaries.py``.

``Names`` loads every name a page needs in at most one query per kind of record, whatever
the number of events (``load_names``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from babel.dates import get_day_names
from flask import url_for
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.audit.labels import (
    COUNTED_KEYS,
    ENUM_KEYS,
    FIELD_LABELS,
    REFERENCES,
    field_label,
    object_type_label,
)
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import Cohort, Enrolment, Session
from trainingmgr.core import timefmt
from trainingmgr.core.labels import country_label, label_for
from trainingmgr.evaluations.models import Evaluation
from trainingmgr.extensions import db
from trainingmgr.organisation.models import Signatory
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Module, Programme, ProgrammePartner

# --- Names of records, loaded in bulk -------------------------------------------------------


@dataclass
class Names:
    """Names and links of the records a page of events mentions, by (table, id)."""

    labels: dict[tuple[str, int], str] = field(default_factory=dict)
    urls: dict[tuple[str, int], str] = field(default_factory=dict)

    def label(self, table: str, oid: int) -> str | None:
        return self.labels.get((table, oid))


def _rows(query: sa.Select[Any]) -> Iterable[Any]:
    return db.session.execute(query)


def _person_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def _load(table: str, ids: set[int], names: Names, tz: str) -> None:
    """The names (and page links) of ``ids`` in ``table``: one query."""
    if table == "users":
        for uid, display, email in _rows(
            sa.select(User.id, User.display_name, User.email).where(User.id.in_(ids))
        ):
            names.labels[table, uid] = display or email or ""
    elif table == "people":
        for pid, first, last in _rows(
            sa.select(Person.id, Person.first_name, Person.last_name).where(Person.id.in_(ids))
        ):
            names.labels[table, pid] = _person_name(first, last)
            names.urls[table, pid] = url_for("people.detail", person_id=pid)
    elif table == "cohorts":
        for cid, name in _rows(sa.select(Cohort.id, Cohort.name).where(Cohort.id.in_(ids))):
            names.labels[table, cid] = name
            names.urls[table, cid] = url_for("cohorts.detail", cohort_id=cid)
    elif table == "programmes":
        query = sa.select(Programme.id, Programme.code).where(Programme.id.in_(ids))
        for pid, code in _rows(query):
            names.labels[table, pid] = code
            names.urls[table, pid] = url_for("programmes.detail", programme_id=pid)
    elif table == "modules":
        query = sa.select(Module.id, Module.code, Module.title).where(Module.id.in_(ids))
        for mid, code, title in _rows(query):
            names.labels[table, mid] = f"{code} {title}".strip()
    elif table == "sessions":
        _load_sessions(ids, names, tz)
    elif table == "enrolments":
        query = (
            sa.select(Enrolment.id, Enrolment.cohort_id, Person.first_name, Person.last_name)
            .join(Person, Person.id == Enrolment.person_id)
            .where(Enrolment.id.in_(ids))
        )
        for eid, cid, first, last in _rows(query):
            names.labels[table, eid] = _person_name(first, last)
            names.urls[table, eid] = url_for("cohorts.detail", cohort_id=cid)
    else:
        _load_other(table, ids, names)


def _load_sessions(ids: set[int], names: Names, tz: str) -> None:
    query = (
        sa.select(Session.id, Session.cohort_id, Session.title, Module.title, Session.starts_at)
        .outerjoin(Module, Module.id == Session.module_id)
        .where(Session.id.in_(ids))
    )
    for sid, cid, title, module_title, starts_at in _rows(query):
        when = timefmt.fmt_datetime(starts_at, tz)
        shown = title or module_title or ""
        names.labels["sessions", sid] = f"{shown}, {when}" if shown else when
        names.urls["sessions", sid] = url_for("cohorts.detail", cohort_id=cid)


def _load_other(table: str, ids: set[int], names: Names) -> None:
    if table == "certificates":
        query = sa.select(Certificate.id, Certificate.serial, Certificate.verification_code)
        for cid, serial, code in _rows(query.where(Certificate.id.in_(ids))):
            names.labels[table, cid] = serial
            names.urls[table, cid] = url_for("verification.certificate", code=code)
    elif table == "evaluations":
        query = (
            sa.select(Evaluation.id, Evaluation.kind, Cohort.name)
            .join(Cohort, Cohort.id == Evaluation.cohort_id)
            .where(Evaluation.id.in_(ids))
        )
        for eid, kind, cohort in _rows(query):
            names.labels[table, eid] = f"{label_for(kind)}, {cohort}"
    elif table in ("signatories", "programme_partners"):
        model = Signatory if table == "signatories" else ProgrammePartner
        for oid, name in _rows(sa.select(model.id, model.name).where(model.id.in_(ids))):
            names.labels[table, oid] = name


LOADABLE = frozenset(
    {
        "users",
        "people",
        "cohorts",
        "programmes",
        "modules",
        "sessions",
        "enrolments",
        "certificates",
        "evaluations",
        "signatories",
        "programme_partners",
    }
)


def _referenced_ids(changes: Any, wanted: dict[str, set[int]]) -> None:
    """The ids ``changes`` names, by table: at any depth (a merge lists the cohort and the
    sessions of each enrolment it merged)."""
    if isinstance(changes, list | tuple):
        for item in changes:
            _referenced_ids(item, wanted)
        return
    if not isinstance(changes, dict):
        return
    for key, value in changes.items():
        table = REFERENCES.get(str(key))
        if table is None:
            _referenced_ids(value, wanted)
            continue
        for item in _flatten(value):
            if isinstance(item, int) and not isinstance(item, bool):
                wanted.setdefault(table, set()).add(item)


def _flatten(value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def load_names(events: Iterable[Any], tz: str) -> Names:
    """The names and links of the events' objects, actors and the records their changes
    name by id: at most one query per kind of record."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_id is not None and event.object_type in LOADABLE:
            wanted.setdefault(event.object_type, set()).add(event.object_id)
        if event.actor_id is not None:
            wanted.setdefault("users", set()).add(event.actor_id)
        _referenced_ids(event.changes, wanted)
    names = Names()
    for table, ids in wanted.items():
        if ids:
            _load(table, ids, names, tz)
    return names


# --- Values in words ------------------------------------------------------------------------

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")


@dataclass(frozen=True)
class Context:
    """What rendering a value needs: the reader's zone and the names of a page's records."""

    tz: str
    names: Names
    locale: str = "en"


def value_text(key: str, value: Any, ctx: Context) -> str:
    """One stored value of ``key`` written for people."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    table = REFERENCES.get(key)
    if table is not None:
        return ", ".join(_reference(table, item, ctx) for item in _flatten(value))
    if key in COUNTED_KEYS and isinstance(value, list):
        return str(len(value))
    if isinstance(value, list | tuple):
        separator = "; " if any(isinstance(v, dict | list) for v in value) else ", "
        return separator.join(value_text(key, v, ctx) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{field_label(k)}: {value_text(str(k), v, ctx)}" for k, v in value.items()
        )
    if key in ENUM_KEYS and isinstance(value, str):
        return str(label_for(value))
    if key == "weekdays" and isinstance(value, int) and 0 <= value <= 6:
        return str(get_day_names("abbreviated", locale=ctx.locale)[value])
    if key == "country" and isinstance(value, str) and len(value) == 2:
        return country_label(value)
    if isinstance(value, str):
        return _time_text(value, ctx) or value
    return str(value)


def _reference(table: str, item: Any, ctx: Context) -> str:
    if isinstance(item, int) and not isinstance(item, bool):
        name = ctx.names.label(table, item)
        if name:
            return name
        return _("%(what)s no. %(id)s", what=object_type_label(table), id=item)
    return str(item)


def _time_text(value: str, ctx: Context) -> str | None:
    """An ISO datetime in the reader's zone, an ISO date or a time of day, else None."""
    try:
        if _DATETIME.match(value):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return timefmt.fmt_datetime(moment, ctx.tz)
        if _DATE.match(value):
            return timefmt.fmt_date(date.fromisoformat(value))
        if _TIME.match(value):
            return time.fromisoformat(value).strftime("%H:%M")
    except ValueError:
        return None
    return None


def object_text(object_type: str, object_id: int | None, names: Names) -> str:
    """ "Cohort Baku A", or "Cohort no. 12" when the object is gone or has no name."""
    what = object_type_label(object_type) if object_type else ""
    if object_id is None:
        return what
    name = names.label(object_type, object_id)
    if name:
        return f"{what}: {name}" if what else name
    return _("%(what)s no. %(id)s", what=what, id=object_id).strip()


def actor_text(actor_id: int | None, names: Names) -> str:
    if actor_id is None:
        return _("system")
    return names.label("users", actor_id) or _("Account no. %(id)s", id=actor_id)


# --- Changes in words -----------------------------------------------------------------------

# Keys whose value is a list of things, not an [old, new] pair.
_LIST_KEY = re.compile(r"(_ids|_moved|_dropped|_merged|^created|^weekdays|^corrections)$")
# Keys of a nested detail not worth showing next to a name (attendance corrections).
_HIDDEN_KEYS = frozenset({"record_id", "enrolment_id"})


@dataclass(frozen=True)
class Change:
    """One entry of an event's ``changes``: a field's old and new value, or a detail."""

    name: str
    old: str | None = None
    new: str | None = None
    value: str | None = None

    @property
    def is_pair(self) -> bool:
        return self.value is None


def _is_pair(key: str, value: Any) -> bool:
    """An [old, new] pair: two values of a field, or two lists for a list field."""
    if not isinstance(value, list) or len(value) != 2:
        return False
    if _LIST_KEY.search(key):
        return all(isinstance(v, list) for v in value)
    return True


def _detail_text(key: str, value: Any, ctx: Context) -> str:
    """A value inside a list or mapping of details ("Person: Ivan Petrov, Status: Present →
    Late")."""
    if isinstance(value, dict):
        return ", ".join(
            f"{field_label(k)}: {_detail_text(str(k), v, ctx)}"
            for k, v in value.items()
            if not (k in _HIDDEN_KEYS and "person" in value)
        )
    if isinstance(value, list) and REFERENCES.get(key) is None and key not in COUNTED_KEYS:
        if _is_pair(key, value) and key in FIELD_LABELS:  # a known field's old and new value
            return f"{_detail_text(key, value[0], ctx)} → {_detail_text(key, value[1], ctx)}"
        separator = "; " if any(isinstance(v, dict | list) for v in value) else ", "
        return separator.join(_detail_text(key, v, ctx) for v in value) or "—"
    return value_text(key, value, ctx)


def describe_changes(changes: Any, ctx: Context) -> list[Change]:
    """``changes`` in words: ``{"status": ["valid", "revoked"]}`` gives an old → new pair
    ("Status: Valid → Revoked"); other values (a reason, a count, ids) are details."""
    if not isinstance(changes, dict):
        return [Change(name="", value=_detail_text("", changes, ctx))] if changes else []
    result = []
    for key, value in changes.items():
        key = str(key)
        name = field_label(key)
        if _is_pair(key, value):
            old, new = (value_text(key, v, ctx) for v in value)
            result.append(Change(name, old=old, new=new))
        else:
            result.append(Change(name, value=_detail_text(key, value, ctx)))
    return result


def changes_text(changes: Any, ctx: Context) -> str:
    """The changes on one line (the CSV export): "Status: Valid → Revoked; Reason: …"."""
    parts = []
    for change in describe_changes(changes, ctx):
        text = f"{change.old} → {change.new}" if change.is_pair else change.value
        parts.append(f"{change.name}: {text}" if change.name else str(text))
    return "; ".join(parts)
