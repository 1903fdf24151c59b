"""The roster page's rows as HTML (``templates/attendance/roster.html`` prints them).

A roster of 120 people through Jinja was some 3,000 escaped values and 2,000 attribute
look-ups: most of the page's time. Here everything the rows share (labels, the four radios,
"Note", "by …", the read-only flag) is translated, escaped and written once per page into five
row templates, one per checked status; each row is then one ``str.format`` of its few escaped
values. The names and ids are those ``forms.RosterForm`` reads (``rows-<i>-status``,
``rows-<i>-status-<n>``, …); tests read the same ``data-testid``s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from markupsafe import Markup, escape

from trainingmgr.attendance.forms import RowInputs
from trainingmgr.attendance.models import AttendanceSource
from trainingmgr.attendance.roster import NOTE_MAX, Conflict, Roster, RosterRow
from trainingmgr.core.labels import label_for
from trainingmgr.core.text import html_escape
from trainingmgr.core.timefmt import datetime_formatter

# Placeholders in [brackets] are filled once per page, those in {braces} once per row.
_RADIO = (
    '<span class="st-opt"><input autocomplete="off"[checked] class="st-input" '
    'data-testid="status-{eid}-[value]" id="{p}status-[n]" name="{p}status" type="radio" '
    'value="[value]"><label class="btn btn-st btn-st-[value]" for="{p}status-[n]">[text]</label>'
    "</span>\n"
)
_ROW = (
    '<li class="list-group-item roster-row{conflict_class}" id="row-{eid}"\n'
    '    data-testid="roster-row-{eid}" data-person="{name}">\n'
    '  <fieldset[disabled] aria-describedby="recorded-{eid}">\n'
    '    <legend class="roster-name">{name}</legend>\n'
    '    <input id="{p}enrolment_id" name="{p}enrolment_id" type="hidden" value="{eid}">'
    '<input id="{p}loaded_status" name="{p}loaded_status" type="hidden" value="{ls}">'
    '<input id="{p}loaded_note" name="{p}loaded_note" type="hidden" value="{ln}">'
    '<input id="{p}loaded_version" name="{p}loaded_version" type="hidden" value="{lv}">\n'
    '    <div class="roster-status" data-testid="status-{eid}">\n[radios]    </div>\n'
    "{errors}"
    '    <div class="small text-muted mt-1" id="recorded-{eid}" data-testid="recorded-{eid}">\n'
    "      {recorded}\n"
    "    </div>\n"
    "{conflict}"
    '    <details class="roster-note mt-1"{open}>\n'
    '      <summary class="small">[note]</summary>\n'
    '      <input class="form-control form-control-sm mt-1" id="{p}note" '
    'maxlength="[note_max]" name="{p}note" type="text" value="{note}" aria-label="[note_for]">\n'
    "    </details>\n"
    "  </fieldset>\n"
    "</li>\n"
)
_ERROR = '    <div class="text-danger small" role="alert">{}</div>\n'
_CONFLICT = (
    '    <div class="small text-warning-emphasis mt-1" data-testid="row-conflict-{}">{}</div>\n'
)
_RECORDED = '<span class="badge status-{}">{}</span>\n      {}{}'


def _fill(template: str, **parts: object) -> str:
    """Fill the [bracketed] placeholders of ``template`` with ``parts`` (already escaped; their
    braces doubled so that the per-row ``format`` prints them as they are)."""
    for key, value in parts.items():
        template = template.replace(f"[{key}]", str(value).replace("{", "{{").replace("}", "}}"))
    return template


def _placeholder(text: str, **names: str) -> str:
    """A translated text with %(name)s placeholders turned into escaped {name} ones."""
    text = str(escape(text)).replace("{", "{{").replace("}", "}}")
    for key in names:
        text = text.replace(f"%({key})s", "{" + key + "}")
    return text


@dataclass
class _Page:
    """What every row shares, translated and escaped once per page."""

    rows: dict[str | None, str]  # checked status -> the row's template
    labels: dict[str, str]  # status value -> escaped label
    by: str  # "by {name}, {when}"
    not_recorded: str
    sources: dict[str, str]  # escaped " (label)" of a source other than the roster
    when: Callable[[datetime], str]

    @classmethod
    def build(cls, roster: Roster, choices: Sequence[tuple[str, str]]) -> _Page:
        note_for = _placeholder(_("Note for %(name)s", name="%(name)s"), name="")
        row = _ROW.replace("[note_for]", note_for)  # {name}, filled per row
        row = _fill(
            row,
            disabled=" disabled" if roster.refusal is not None else "",
            note=escape(_("Note")),
            note_max=NOTE_MAX,
        )
        rows = {}
        for checked in (None, *[value for value, _text in choices]):
            radios = "".join(
                _fill(
                    _RADIO,
                    checked=" checked" if value == checked else "",
                    value=escape(value),
                    n=n,
                    text=escape(text),
                )
                for n, (value, text) in enumerate(choices)
            )
            rows[checked] = row.replace("[radios]", radios)
        return cls(
            rows=rows,
            labels={value: str(escape(text)) for value, text in choices},
            by=_placeholder(
                _("by %(name)s, %(when)s", name="%(name)s", when="%(when)s"), name="", when=""
            ),
            not_recorded=str(escape(_("Not recorded yet"))),
            sources={
                s.value: f" ({escape(label_for(s))})"
                for s in AttendanceSource
                if s != AttendanceSource.ROSTER
            },
            when=datetime_formatter(roster.session.cohort.timezone),
        )

    def recorded(self, row: RosterRow) -> str:
        rec = row.record
        if rec is None:
            return self.not_recorded
        by = self.by.format(
            name=html_escape(row.recorded_by), when=html_escape(self.when(rec.recorded_at))
        )
        value = rec.status.value
        return _RECORDED.format(value, self.labels[value], by, self.sources.get(rec.source, ""))


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
    page = _Page.build(roster, choices)
    conflict_by_id = {c.enrolment_id: c for c in conflicts}
    out = []
    for row in roster.rows:
        eid = row.enrolment.id
        f = inputs[eid]
        conflict = conflict_by_id.get(eid) if conflict_by_id else None
        template = page.rows.get(f.status) or page.rows[None]
        out.append(
            template.format(
                eid=eid,
                name=html_escape(row.enrolment.person.full_name),
                p=html_escape(f.prefix),
                ls=html_escape(f.loaded_status),
                ln=html_escape(f.loaded_note),
                lv=html_escape(f.loaded_version),
                conflict_class=" roster-conflict" if conflict else "",
                errors="".join([_ERROR.format(html_escape(e)) for e in f.errors]),
                recorded=page.recorded(row),
                conflict=_conflict_line(conflict),
                open=" open" if f.note else "",
                note=html_escape(f.note),
            )
        )
    return Markup("".join(out))
