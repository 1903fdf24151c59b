"""The roster page's rows as HTML (``templates/attendance/roster.html`` prints them).

A roster of 120 people through Jinja was some 3,000 escaped values and 2,000 attribute
look-ups: most of the page's time. Here the texts shared by every row (labels, the radios,
"Note", "by …") are translated and escaped once per page, and each row is one format string
filled with its few escaped values. The names and ids are those ``forms.RosterForm`` reads
(``rows-<i>-status``, ``rows-<i>-status-<n>``, …); tests read the same ``data-testid``s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from markupsafe import Markup, escape

from trainingmgr.attendance.forms import RowInputs
from trainingmgr.attendance.models import AttendanceSource
from trainingmgr.attendance.roster import NOTE_MAX, Conflict, Roster, RosterRow
from trainingmgr.core.labels import label_for
from trainingmgr.core.timefmt import fmt_datetime

_HIDDEN = (
    '<input id="{p}enrolment_id" name="{p}enrolment_id" type="hidden" value="{eid}">'
    '<input id="{p}loaded_status" name="{p}loaded_status" type="hidden" value="{ls}">'
    '<input id="{p}loaded_note" name="{p}loaded_note" type="hidden" value="{ln}">'
    '<input id="{p}loaded_version" name="{p}loaded_version" type="hidden" value="{lv}">'
)
_RADIO = (
    '<span class="st-opt"><input autocomplete="off"{{checked}} class="st-input" '
    'data-testid="status-{{eid}}-{value}" id="{{p}}status-{n}" name="{{p}}status" type="radio" '
    'value="{value}"><label class="btn btn-st btn-st-{value}" for="{{p}}status-{n}">{text}</label>'
    "</span>\n"
)
_ROW = (
    '<li class="list-group-item roster-row{conflict_class}" id="row-{eid}"\n'
    '    data-testid="roster-row-{eid}" data-person="{name}">\n'
    '  <fieldset{disabled} aria-describedby="recorded-{eid}">\n'
    '    <legend class="roster-name">{name}</legend>\n'
    "    {hidden}\n"
    '    <div class="roster-status" data-testid="status-{eid}">\n{radios}    </div>\n'
    "{errors}"
    '    <div class="small text-muted mt-1" id="recorded-{eid}" data-testid="recorded-{eid}">\n'
    "      {recorded}\n"
    "    </div>\n"
    "{conflict}"
    '    <details class="roster-note mt-1"{open}>\n'
    '      <summary class="small">{t_note}</summary>\n'
    '      <input class="form-control form-control-sm mt-1" id="{p}note" '
    'maxlength="{note_max}" name="{p}note" type="text" value="{note}" aria-label="{note_label}">\n'
    "    </details>\n"
    "  </fieldset>\n"
    "</li>\n"
)
_ERROR = '    <div class="text-danger small" role="alert">{}</div>\n'
_CONFLICT = (
    '    <div class="small text-warning-emphasis mt-1" data-testid="row-conflict-{}">{}</div>\n'
)
_RECORDED = '<span class="badge status-{}">{}</span>\n      {}{}'


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _radio(n: int, value: str, text: str) -> str:
    return _RADIO.format(value=_braces(escape(value)), n=n, text=_braces(escape(text)))


@dataclass
class _Texts:
    """What every row shares, translated and escaped once per page."""

    tz: str
    labels: dict[str, str]  # status value -> escaped label
    radios: list[tuple[str, str]]  # (status value, radio HTML to fill in per row)
    note: str
    note_for: str  # escaped "Note for %(name)s"
    by: str  # escaped "by %(name)s, %(when)s"
    not_recorded: str
    sources: dict[str, str]  # escaped " (label)" of a source other than the roster

    @classmethod
    def build(cls, tz: str, choices: Sequence[tuple[str, str]]) -> _Texts:
        return cls(
            tz=tz,
            labels={value: str(escape(text)) for value, text in choices},
            radios=[
                (
                    value,
                    _RADIO.format(value=_braces(escape(value)), n=n, text=_braces(escape(text))),
                )
                for n, (value, text) in enumerate(choices)
            ],
            note=str(escape(_("Note"))),
            note_for=str(escape(_("Note for %(name)s", name="%(name)s"))),
            by=str(escape(_("by %(name)s, %(when)s", name="%(name)s", when="%(when)s"))),
            not_recorded=str(escape(_("Not recorded yet"))),
            sources={
                s.value: f" ({escape(label_for(s))})"
                for s in AttendanceSource
                if s != AttendanceSource.ROSTER
            },
        )

    def recorded(self, row: RosterRow) -> str:
        rec = row.record
        if rec is None:
            return self.not_recorded
        when = _local(rec.recorded_at, self.tz)
        by = self.by % {"name": escape(row.recorded_by), "when": escape(when)}
        value = rec.status.value
        return _RECORDED.format(value, self.labels[value], by, self.sources.get(rec.source, ""))


def _local(at: datetime, tz: str) -> str:
    return fmt_datetime(at, tz, "short")


def _inputs(texts: _Texts, eid: int, f: RowInputs) -> tuple[str, str]:
    p = escape(f.prefix)
    hidden = _HIDDEN.format(
        p=p,
        eid=escape(f.enrolment_id),
        ls=escape(f.loaded_status),
        ln=escape(f.loaded_note),
        lv=escape(f.loaded_version),
    )
    radios = "".join(
        [
            r.format(checked=" checked" if f.status == value else "", eid=eid, p=p)
            for value, r in texts.radios
        ]
    )
    return hidden, radios


def _conflict_line(conflict: Conflict | None) -> str:
    if conflict is None:
        return ""
    text = _("Your change (%(yours)s) was not saved.", yours=label_for(conflict.your_status))
    return _CONFLICT.format(conflict.enrolment_id, escape(text))


def roster_rows(
    roster: Roster,
    inputs: dict[int, RowInputs],
    choices: Sequence[tuple[str, str]],
    conflicts: Sequence[Conflict] = (),
) -> Markup:
    """Every row of the roster as HTML, in the roster's order, with ``inputs`` (as loaded or
    as posted, with their errors) and the rows of ``conflicts`` marked."""
    texts = _Texts.build(roster.session.cohort.timezone, choices)
    conflict_by_id = {c.enrolment_id: c for c in conflicts}
    disabled = " disabled" if roster.refusal is not None else ""
    out = []
    for row in roster.rows:
        eid = row.enrolment.id
        f = inputs[eid]
        name = escape(row.enrolment.person.full_name)
        conflict = conflict_by_id.get(eid)
        hidden, radios = _inputs(texts, eid, f)
        out.append(
            _ROW.format(
                eid=eid,
                name=name,
                conflict_class=" roster-conflict" if conflict else "",
                disabled=disabled,
                hidden=hidden,
                radios=radios,
                errors="".join([_ERROR.format(escape(e)) for e in f.errors]),
                recorded=texts.recorded(row),
                conflict=_conflict_line(conflict),
                open=" open" if f.note else "",
                t_note=texts.note,
                p=escape(f.prefix),
                note_max=NOTE_MAX,
                note=escape(f.note),
                note_label=texts.note_for % {"name": name},
            )
        )
    return Markup("".join(out))
