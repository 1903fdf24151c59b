"""Importing people from a spreadsheet (preview, then confirm) and exporting them.

``build_preview`` reads the file, maps its columns and gives every row a verdict, looking
people up in bulk (a few queries whatever the number of rows). ``confirm_import`` does the
same again inside the caller's transaction and writes every chosen row, or raises
``DomainError`` and writes nothing. Callers commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from anyascii import anyascii
from flask_babel import gettext as _
from flask_babel import ngettext

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort, CohortStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.core.scope import visible_people
from trainingmgr.enrolments import services as enrolments
from trainingmgr.extensions import db
from trainingmgr.imports import xlsx
from trainingmgr.imports.mapping import FIELDS, HEADERS, auto_mapping, mapping_problems
from trainingmgr.imports.parsing import Table, read_table
from trainingmgr.imports.validation import (
    FORMULA_START,
    Candidate,
    NameIndex,
    RowResult,
    Verdict,
    clean_row,
    judge,
)
from trainingmgr.people.models import Person, Sex, search_text_of
from trainingmgr.people.services import (
    DirectoryFilter,
    directory_export_query,
    directory_query,
    forget_directory_options,
)

# Rows looked up per query (``IN (...)`` lists stay well under every database's limits).
CHUNK = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- preview ------------------------------------------------------------------------------


@dataclass
class Preview:
    """Every row of a file with its verdict, and what stops the import as a whole."""

    filename: str
    table: Table
    mapping: list[str | None]
    cohort: Cohort | None
    problems: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    people: dict[int, Person] = field(default_factory=dict)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.rows if r.verdict is verdict)

    @property
    def counts(self) -> dict[Verdict, int]:
        return {v: self.count(v) for v in Verdict}

    @property
    def errors(self) -> int:
        return self.count(Verdict.ERROR)

    @property
    def warned(self) -> int:
        return sum(1 for r in self.rows if r.warnings)

    @property
    def waitlisted(self) -> int:
        return sum(1 for r in self.rows if r.waitlisted)

    @property
    def importable(self) -> int:
        return sum(1 for r in self.rows if r.importable)

    @property
    def can_confirm(self) -> bool:
        """Whether there is anything the coordinator could import."""
        return not self.problems and (self.importable + self.count(Verdict.DUPLICATE)) > 0

    @property
    def shown_columns(self) -> list[tuple[str, int]]:
        """The mapped fields, in the usual order, with the index of their column."""
        return [(f, self.mapping.index(f)) for f in FIELDS if f in self.mapping]

    @property
    def delimiter_label(self) -> str:
        names = {",": _("commas"), ";": _("semicolons"), "\t": _("tabs")}
        return names.get(self.table.delimiter or "", "")

    @property
    def signature(self) -> str:
        """Changes when any verdict would change: confirm refuses a stale preview."""
        parts = [repr(self.mapping), self.table.sheet or ""]
        parts += [f"{r.line}:{r.verdict}:{r.person_id}:{sorted(r.changes)}" for r in self.rows]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def chosen(self, include: Iterable[int]) -> list[RowResult]:
        """The rows to write: the importable ones and the possible duplicates ticked."""
        lines = set(include)
        return [
            r
            for r in self.rows
            if r.importable or (r.verdict is Verdict.DUPLICATE and r.line in lines)
        ]


def build_preview(
    data: bytes,
    filename: str,
    *,
    cohort: Cohort | None = None,
    mapping: list[str | None] | None = None,
    sheet: str | None = None,
    programme_ids: Collection[int] | None = None,
) -> Preview:
    """Read the file and judge every row. Raises ``ImportFileError`` for an unreadable file.

    ``mapping`` (one field or None per column) replaces the recognised one when it fits the
    file's columns. Problems with the mapping or the cohort are in ``preview.problems``.
    Possible duplicates (by name) are looked for among the people in the scope of
    ``programme_ids`` (a coordinator's programmes; None: everyone). People are matched by
    e-mail whoever they are: an address identifies one person.
    """
    table = read_table(data, filename, sheet)
    if mapping is None or len(mapping) != len(table.headers):
        mapping = auto_mapping(table.headers)
    mapping_issues = mapping_problems(mapping)
    preview = Preview(filename, table, mapping, cohort, problems=list(mapping_issues))
    if cohort is not None and cohort.status in (CohortStatus.CLOSED, CohortStatus.ARCHIVED):
        preview.problems.append(
            _(
                "This cohort is %(status)s: it takes no new enrolments. Reopen it first, or "
                "import into the people directory.",
                status=cohort.status.label,
            )
        )
    if not mapping_issues:
        _judge_rows(preview, programme_ids)
    return preview


def _judge_rows(preview: Preview, programme_ids: Collection[int] | None = None) -> None:
    cleaned = [clean_row(row, preview.mapping) for row in preview.table.rows]
    emails = sorted({r.values["email"] for r in cleaned if r.values.get("email")})
    existing = _people_by_email(emails)
    preview.people = {p.id: p for p in existing.values()}
    names = NameIndex(_name_candidates({r.values.get("country") for r in cleaned}, programme_ids))
    roster = enrolments.roster(preview.cohort.id) if preview.cohort is not None else None
    enrolled = {e.person_id: e.status for e in roster.enrolments} if roster else None
    preview.rows = judge(cleaned, existing, names, enrolled)
    if roster is not None:
        _plan_seats(roster, preview.rows)


def _people_by_email(emails: Sequence[str]) -> dict[str, Person]:
    """Existing people by e-mail; a record merged into another stands for the one it was
    merged into."""
    found: dict[str, Person] = {}
    for chunk in _chunks(emails):
        for person in db.session.scalars(sa.select(Person).where(Person.email.in_(chunk))):
            found[person.email or ""] = person
    for _depth in range(5):  # follow merges (a chain of merges is short)
        merged = {e: p.merged_into_id for e, p in found.items() if p.merged_into_id}
        if not merged:
            break
        targets = {
            p.id: p
            for p in db.session.scalars(
                sa.select(Person).where(Person.id.in_(set(merged.values())))
            )
        }
        for email, target_id in merged.items():
            found[email] = targets[target_id]
    return found


def _name_candidates(
    countries: set[str | None], programme_ids: Collection[int] | None = None
) -> list[Candidate]:
    """People (unmerged, in the scope of ``programme_ids``) from the file's countries, for
    possible-duplicate detection."""
    codes = sorted(c for c in countries if c)
    conditions = [Person.country.in_(chunk) for chunk in _chunks(codes)]
    if None in countries:
        conditions.append(Person.country.is_(None))
    if not conditions:
        return []
    rows = db.session.execute(
        sa.select(Person.id, Person.first_name, Person.last_name, Person.email, Person.country)
        .where(Person.merged_into_id.is_(None), visible_people(programme_ids, scan=True))
        .where(sa.or_(*conditions))
    )
    return [Candidate(*row) for row in rows]


def _plan_seats(roster: enrolments.Roster, rows: list[RowResult]) -> None:
    """Say which new enrolments will go to the waitlist (the enrolment rule: people take free
    seats in file order; once the cohort is full, or while others wait, they queue)."""
    if roster.capacity is None:
        return
    free = roster.seats_left or 0
    position = max((e.waitlist_position or 0 for e in roster.waitlist), default=0)
    for row in rows:
        if not (row.enrol and row.importable):
            continue
        if free > 0 and position == 0:
            free -= 1
            continue
        position += 1
        row.waitlisted = True
        row.messages.append(
            _("The cohort is full: will join its waitlist (#%(position)s).", position=position)
        )


# --- confirm ------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    enrolled: int = 0
    waitlisted: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows with errors excluded, possible duplicates not ticked

    @property
    def nothing(self) -> bool:
        return not (self.created or self.updated or self.enrolled or self.waitlisted)

    def message(self) -> str:
        """What really happened, in words: never "already there" for rows that were refused."""
        if self.nothing and not self.skipped:
            return _("Nothing to import: every row is already in the directory as it is.")
        counts = [
            (
                self.created,
                ngettext("%(num)d person created", "%(num)d people created", self.created),
            ),
            (
                self.updated,
                ngettext("%(num)d person updated", "%(num)d people updated", self.updated),
            ),
            (self.enrolled, ngettext("%(num)d enrolled", "%(num)d enrolled", self.enrolled)),
            (
                self.waitlisted,
                ngettext("%(num)d waitlisted", "%(num)d waitlisted", self.waitlisted),
            ),
            (self.unchanged, ngettext("%(num)d unchanged", "%(num)d unchanged", self.unchanged)),
            (self.skipped, ngettext("%(num)d row skipped", "%(num)d rows skipped", self.skipped)),
        ]
        parts = [text for number, text in counts if number]
        if self.nothing:
            return _(
                "Nothing was imported: %(parts)s. Rows with errors and possible duplicates "
                "that were not ticked are skipped.",
                parts=", ".join(parts),
            )
        return _("Import done: %(parts)s.", parts=", ".join(parts))


def confirm_import(
    data: bytes,
    filename: str,
    *,
    actor: User | None,
    cohort: Cohort | None = None,
    mapping: list[str | None] | None = None,
    sheet: str | None = None,
    include: Iterable[int] = (),
    exclude_errors: bool = False,
    signature: str | None = None,
    programme_ids: Collection[int] | None = None,
) -> ImportSummary:
    """Judge the file again and write every chosen row, all or nothing (callers commit).

    Refused when the mapping or the cohort has a problem, when rows have errors and
    ``exclude_errors`` is not set, or when ``signature`` (of the preview the coordinator saw)
    no longer matches.
    """
    preview = build_preview(
        data, filename, cohort=cohort, mapping=mapping, sheet=sheet, programme_ids=programme_ids
    )
    if preview.problems:
        raise DomainError(preview.problems[0], "mapping")
    if preview.errors and not exclude_errors:
        raise DomainError(
            ngettext(
                "%(num)d row has errors. Correct the file and upload it again, or tick "
                "“exclude the rows with errors” to import the others.",
                "%(num)d rows have errors. Correct the file and upload it again, or tick "
                "“exclude the rows with errors” to import the others.",
                preview.errors,
            ),
            "exclude_errors",
        )
    if signature is not None and signature != preview.signature:
        raise DomainError(
            _(
                "The directory or the cohort changed since this preview was made. "
                "Check the preview again, then confirm."
            )
        )
    chosen = preview.chosen(include)
    unchanged = preview.count(Verdict.UNCHANGED)
    summary = ImportSummary(
        unchanged=unchanged, skipped=len(preview.rows) - len(chosen) - unchanged
    )
    new_people = _create_people([r for r in chosen if r.person_id is None], actor)
    summary.created = len(new_people)
    summary.updated = _update_people(preview, chosen, actor)
    people_by_line = {r.line: person_id for r, person_id in new_people}
    to_enrol = [
        people_by_line[r.line] if r.person_id is None else r.person_id for r in chosen if r.enrol
    ]
    if cohort is not None and to_enrol:
        for chunk in _chunks(to_enrol, enrolments.MAX_BULK):
            result = enrolments.enrol_people(cohort.id, chunk, actor=actor, defer_mail=True)
            summary.enrolled += len(result.enrolled)
            summary.waitlisted += len(result.waitlisted)
    if not summary.nothing:
        audit.record(
            "people.import",
            actor=actor,
            object_type="cohorts" if cohort is not None else "people",
            object_id=cohort.id if cohort is not None else None,
            programme_id=cohort.programme_id if cohort is not None else None,
            changes={
                "file": filename,
                "created": [person_id for _r, person_id in new_people],
                "updated": summary.updated,
                "enrolled": summary.enrolled,
                "waitlisted": summary.waitlisted,
                "unchanged": summary.unchanged,
                "skipped": summary.skipped,
            },
            summary=f"{filename}: {summary.created} created, {summary.updated} updated, "
            f"{summary.enrolled} enrolled, {summary.waitlisted} waitlisted",
        )
    return summary


def _snapshot(value: Any) -> Any:
    return value.value if isinstance(value, Sex) else value


def _create_people(rows: list[RowResult], actor: User | None) -> list[tuple[RowResult, int]]:
    """Insert the new people in one statement (ids returned in file order) and audit each
    creation as before (one statement for all the events)."""
    if not rows:
        return []
    table = Person.__table__
    keys = {k for r in rows for k in r.values}
    values = []
    for row in rows:
        v: dict[str, Any] = {k: ("" if k in ("first_name", "last_name") else None) for k in keys}
        v.update(row.values)
        if v.get("email"):
            v["email"] = v["email"].strip().lower()  # as Person's before_insert listener does
        v["search_text"] = search_text_of(
            v.get("first_name"), v.get("last_name"), v.get("name_latin"), v.get("email")
        )
        values.append(v)
    ids = db.session.scalars(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), values
    ).all()
    forget_directory_options()  # the filter menus' countries and organisations changed
    audit.record_many(
        [
            {
                "object_id": person_id,
                "changes": {k: _snapshot(v) for k, v in row.values.items()} | {"source": "import"},
                "summary": _full_name(v),
            }
            for row, person_id, v in zip(rows, ids, values, strict=True)
        ],
        action="person.create",
        actor=actor,
        object_type=table.name,
    )
    return list(zip(rows, ids, strict=True))


def _full_name(values: dict[str, Any]) -> str:
    return " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)


def _update_people(preview: Preview, rows: list[RowResult], actor: User | None) -> int:
    updated = 0
    for row in rows:
        if row.person_id is None or not row.changes:
            continue
        person = preview.people[row.person_id]
        for name, (_old, new) in row.changes.items():
            setattr(person, name, new)
        audit.record(
            "person.update",
            actor=actor,
            obj=person,
            changes={k: [_snapshot(o), _snapshot(n)] for k, (o, n) in row.changes.items()},
            summary=person.full_name,
        )
        updated += 1
    db.session.flush()
    return updated


# --- export -------------------------------------------------------------------------------

PERSON_EXPORT_FIELDS = tuple(FIELDS)


@dataclass
class Sheet:
    """A table to download: its title, column headers and rows of values.

    ``rows`` may be a generator read once, as the file is written (a people export of
    100,000 rows is never held in memory); ``count`` is then the number of rows it gives.
    """

    title: str
    headers: list[str]
    rows: Iterable[list[Any]]
    count: int | None = None

    def __post_init__(self) -> None:
        if self.count is None:
            self.count = len(self.rows)  # type: ignore[arg-type]


def _person_cells(person: Any) -> list[Any]:
    """The exported fields of a person (or of a row with the same names)."""
    return [_snapshot(getattr(person, name)) for name in PERSON_EXPORT_FIELDS]


def _person_headers() -> list[str]:
    return [HEADERS[name] for name in PERSON_EXPORT_FIELDS]


def roster_sheet(cohort: Cohort) -> Sheet:
    """A cohort's roster: each enrolled person with their status (two queries)."""
    roster = enrolments.roster(cohort.id)
    rows = [
        [*_person_cells(e.person), e.status.value, e.waitlist_position] for e in roster.enrolments
    ]
    return Sheet(cohort.name, [*_person_headers(), "Status", "Waitlist position"], rows)


def people_sheet(filters: DirectoryFilter, programme_ids: Collection[int] | None = None) -> Sheet:
    """The people directory with the same filters (and scope) as its page: counted now, its
    rows read a thousand people at a time as the file is written (three queries each)."""
    query = directory_query(filters, programme_ids)
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    return Sheet(
        "People",
        [*_person_headers(), "Cohorts", "Sessions taught"],
        _people_rows(filters, programme_ids),
        count=count or 0,
    )


EXPORT_BATCH = 1000


def _people_rows(
    filters: DirectoryFilter, programme_ids: Collection[int] | None
) -> Iterator[list[Any]]:
    """The rows of the people export, read a thousand at a time (plain columns: no ORM
    objects to build and forget for 100,000 people)."""
    columns = [getattr(Person, name) for name in PERSON_EXPORT_FIELDS]
    query = directory_export_query(filters, columns, programme_ids)
    if db.session.get_bind().dialect.name == "postgresql":
        # Rows are read through a cursor, for which PostgreSQL plans to read a tenth of them
        # fast: nested loops that took 48 s for a coordinator's 30,000 people. All are read.
        db.session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = db.session.execute(query.execution_options(yield_per=EXPORT_BATCH))
    for row in result:
        yield [*_person_cells(row), row.cohorts, row.sessions]


TEMPLATE_EXAMPLE = {
    "first_name": "Ləman",
    "last_name": "Əliyeva",
    "email": "leman.aliyeva@example.org",
    "sex": "F",
    "country": "AZ",
    "organisation": "State Migration Service",
    "position": "Senior Specialist",
    "phone": "(+994) 12 345 67 89",
    "name_latin": "Leman Aliyeva",
}


def template_sheet() -> Sheet:
    """The expected columns and one example row."""
    return Sheet(
        "Participants",
        _person_headers(),
        [[TEMPLATE_EXAMPLE[name] for name in PERSON_EXPORT_FIELDS]],
    )


def is_formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def neutralise(value: Any) -> Any:
    """A cell that a spreadsheet would run as a formula, made plain text with a leading "'"."""
    return "'" + value if is_formula_like(value) else value


# Rows of CSV sent at a time when streaming.
CSV_CHUNK_ROWS = 500


def csv_chunks(sheet: Sheet) -> Iterator[bytes]:
    """The CSV file in pieces, as its rows are read: UTF-8 with a byte-order mark, so Excel
    shows every script as it is."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(sheet.headers)
    for n, row in enumerate(sheet.rows, start=1):
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        if n % CSV_CHUNK_ROWS == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


def to_csv(sheet: Sheet) -> bytes:
    """The whole CSV file (``csv_chunks``) at once."""
    return b"".join(csv_chunks(sheet))


def xlsx_chunks(sheet: Sheet) -> Iterator[bytes]:
    """The .xlsx workbook in pieces, as its rows are read (``imports.xlsx``); text that looks
    like a formula is stored as text, marked with a quote prefix, so Excel never runs it."""
    return xlsx.workbook_chunks(
        _sheet_title(sheet.title), sheet.headers, sheet.rows, is_formula_like
    )


def to_xlsx(sheet: Sheet) -> bytes:
    """The whole .xlsx workbook (``xlsx_chunks``) at once."""
    return b"".join(xlsx_chunks(sheet))


def _sheet_title(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"


def download_name(title: str, extension: str) -> str:
    """An ASCII file name from a title: "Roll-out Baku 2026" -> "roll-out-baku-2026.csv"."""
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(title).casefold()).strip("-")[:60]
    return f"{slug or 'export'}.{extension}"


WRITERS = {"csv": to_csv, "xlsx": to_xlsx}
# The same, in pieces: for downloads sent as they are written.
CHUNK_WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks}
MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(sheet: Sheet, fmt: str) -> bytes:
    if fmt not in WRITERS:
        raise DomainError(_("Choose CSV or XLSX."), "format")
    return WRITERS[fmt](sheet)
