"""Forms of the attendance pages: the session roster and the matrix filters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    Form,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.roster import NOTE_MAX, Roster, RosterRow, RowChange
from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.programmes.models import Module

_STATUS_VALUES = [s.value for s in AttendanceStatus]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class RosterRowForm(Form):
    """One person on the roster: the chosen status and note, and what the page loaded."""

    enrolment_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    status = RadioField(
        _l("Status"),
        choices=options(AttendanceStatus.choices()),
        validators=[Optional()],
        coerce=str,
    )
    note = StringField(_l("Note"), filters=[_strip], validators=[Length(max=NOTE_MAX)])
    loaded_status = HiddenField(validators=[AnyOf(["", *_STATUS_VALUES])])
    loaded_note = HiddenField()
    loaded_version = IntegerField(widget=HiddenInput(), default=0, validators=[NumberRange(min=0)])


def row_data(row: RosterRow, mark_present: bool = False) -> dict[str, Any]:
    """Form data for one roster row as loaded (``mark_present`` preselects the unrecorded)."""
    record = row.record
    loaded = record.status.value if record else ""
    chosen = loaded or (AttendanceStatus.PRESENT.value if mark_present else None)
    return {
        "enrolment_id": row.enrolment.id,
        "status": chosen,
        "note": record.note if record else "",
        "loaded_status": loaded,
        "loaded_note": record.note if record else "",
        "loaded_version": record.version if record else 0,
    }


@dataclass
class RowInputs:
    """What the roster page prints for one row's inputs (``roster_html.roster_rows``).

    Rendered by plain Jinja macros: 120 rows through WTForms' widgets cost most of the page's
    time. WTForms still reads and validates what comes back (``RosterForm``); names and ids
    are the ones it expects (``rows-<i>-status``, ``rows-<i>-status-<n>``).
    """

    prefix: str
    enrolment_id: int
    status: str | None
    note: str
    loaded_status: str
    loaded_note: str
    loaded_version: int | str
    errors: list[str] = field(default_factory=list)


def status_choices() -> list[tuple[str, str]]:
    """The roster's status options, labels translated once per page."""
    return [(str(value), str(label)) for value, label in AttendanceStatus.choices()]


_ROW_KEY = re.compile(r"rows-(\d+)-")


class _RowData:
    """The posted fields of one roster row (``rows-<i>-...``), as a row form's formdata."""

    def __init__(self, formdata: Any, prefix: str) -> None:
        self.formdata, self.prefix = formdata, prefix

    def __contains__(self, key: str) -> bool:
        return self.prefix + key in self.formdata

    def __iter__(self) -> Iterator[str]:
        n = len(self.prefix)
        return (k[n:] for k in self.formdata if k.startswith(self.prefix))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def getlist(self, key: str) -> list[str]:
        return self.formdata.getlist(self.prefix + key)


_STATUS_OF = {s.value: s for s in AttendanceStatus}
_LOADED_STATUSES = frozenset(["", *_STATUS_VALUES])


def _whole_number(raw: str | None) -> bool:
    return raw is not None and raw.isascii() and raw.isdigit()


def plainly_valid_row(formdata: Any, prefix: str) -> RowChange | None:
    """One posted row read without WTForms when every field is plainly valid (as nearly all
    are: they come from the page's own inputs), else None: ``RosterRowForm`` then reads it and
    gives its messages. Accepts exactly what ``RosterRowForm`` accepts without an error, and
    reads it the same way (first value of each field, the note stripped)."""
    get = formdata.get
    eid, version = get(prefix + "enrolment_id"), get(prefix + "loaded_version")
    status, loaded = get(prefix + "status") or "", get(prefix + "loaded_status")
    note = (get(prefix + "note") or "").strip()
    if not _whole_number(eid) or not (version is None or _whole_number(version)):
        return None
    if (status and status not in _STATUS_OF) or loaded not in _LOADED_STATUSES:
        return None
    if len(note) > NOTE_MAX:
        return None
    return RowChange(
        enrolment_id=int(eid),  # type: ignore[arg-type]
        status=_STATUS_OF[status] if status else None,
        note=note,
        loaded_status=_STATUS_OF[loaded] if loaded else None,
        loaded_note=get(prefix + "loaded_note") or "",
        loaded_version=int(version) if version is not None else 0,
    )


class RosterForm(FlaskForm):
    """The posted roster. Flask-WTF checks the CSRF token; each row is read by
    ``plainly_valid_row`` or, when something in it is wrong, by one ``RosterRowForm``
    processed again for every such row, which gives WTForms' messages (120 WTForms subforms,
    as a ``FieldList`` builds, cost more than the rest of the save)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: dict[int, RowInputs] = {}  # by enrolment id, as posted
        self._changes: list[RowChange] = []
        self._next_index = 0

    def process(self, formdata: Any = None, obj: Any = None, **kwargs: Any) -> None:
        self._formdata = self.meta.wrap_formdata(self, formdata)  # request.form when posted
        super().process(self._formdata, obj, **kwargs)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        formdata = self._formdata or {}
        indices = sorted({int(m.group(1)) for k in formdata if (m := _ROW_KEY.match(k))})
        f = RosterRowForm()
        for i in indices:
            prefix = f"rows-{i}-"
            change = plainly_valid_row(formdata, prefix)
            if change is not None:
                self._changes.append(change)
                self._rows[change.enrolment_id] = RowInputs(
                    prefix=prefix,
                    enrolment_id=change.enrolment_id,
                    status=change.status.value if change.status else None,
                    note=change.note,
                    loaded_status=change.loaded_status.value if change.loaded_status else "",
                    loaded_note=change.loaded_note,
                    loaded_version=formdata.get(prefix + "loaded_version") or 0,
                )
            elif not self._read_with_wtforms(f, formdata, prefix):
                valid = False
        self._next_index = indices[-1] + 1 if indices else 0
        return valid

    def _read_with_wtforms(self, f: RosterRowForm, formdata: Any, prefix: str) -> bool:
        f.process(_RowData(formdata, prefix))
        valid = f.validate()
        errors = [
            str(e)
            for e in f.status.errors
            + f.note.errors
            + f.loaded_status.errors
            + f.loaded_version.errors
        ]
        eid = f.enrolment_id.data
        if eid is not None:
            self._rows[eid] = RowInputs(
                prefix=prefix,
                enrolment_id=eid,
                status=f.status.data or None,
                note=f.note.data or "",
                loaded_status=f.loaded_status.data or "",
                loaded_note=f.loaded_note.data or "",
                loaded_version=f.loaded_version.raw_data[0]
                if f.loaded_version.raw_data
                else (f.loaded_version.data or 0),
                errors=errors,
            )
        if eid is not None and not errors:
            self._changes.append(
                RowChange(
                    enrolment_id=eid,
                    status=AttendanceStatus(f.status.data) if f.status.data else None,
                    note=f.note.data or "",
                    loaded_status=(
                        AttendanceStatus(f.loaded_status.data) if f.loaded_status.data else None
                    ),
                    loaded_note=f.loaded_note.data or "",
                    loaded_version=f.loaded_version.data or 0,
                )
            )
        return valid

    def include(self, roster: Roster) -> dict[int, RowInputs]:
        """The rows' inputs as posted (with their errors), by enrolment id, adding any person
        enrolled since the page was loaded."""
        for row in roster.rows:
            if row.enrolment.id not in self._rows:
                prefix = f"rows-{self._next_index}-"
                self._next_index += 1
                self._rows[row.enrolment.id] = RowInputs(prefix=prefix, **row_data(row))
        return self._rows

    inputs = include

    def changes(self) -> list[RowChange]:
        """The rows as posted (after a successful ``validate``)."""
        return self._changes


def roster_inputs(roster: Roster, mark_present: bool = False) -> dict[int, RowInputs]:
    """The rows' inputs as loaded, by enrolment id (no WTForms form is built for a GET)."""
    result = {}
    for i, row in enumerate(roster.rows):
        data = row_data(row, mark_present)
        result[row.enrolment.id] = RowInputs(prefix=f"rows-{i}-", **data)
    return result


class MatrixFilterForm(FlaskForm):
    """Filters of the attendance matrix (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    module = SelectField(_l("Module"), choices=[], validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def set_modules(self, modules: Iterable[Module]) -> None:
        self.module.choices = options(
            [("", _l("All modules"))] + [(str(m.id), f"{m.code} · {m.title}") for m in modules]
        )

    def validate_end(self, field: DateField) -> None:
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end of the period must not be before its start."))

    @property
    def module_id(self) -> int | None:
        return int(self.module.data) if self.module.data else None
