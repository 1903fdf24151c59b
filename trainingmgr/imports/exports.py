"""Exports of people (the directory, a cohort's roster) and the import template, as CSV or
XLSX files written as they are read; formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from anyascii import anyascii
from flask_babel import gettext as _

from trainingmgr.cohorts.models import Cohort
from trainingmgr.core.errors import DomainError
from trainingmgr.enrolments import services as enrolments
from trainingmgr.extensions import db, on_postgresql
from trainingmgr.imports import xlsx
from trainingmgr.imports.mapping import FIELDS, HEADERS
from trainingmgr.imports.validation import FORMULA_START
from trainingmgr.people.models import Person, Sex
from trainingmgr.people.services import (
    DirectoryFilter,
    directory_export_query,
    directory_query,
)


def snapshot(value: Any) -> Any:
    """A value as stored in the audit trail and written to exports (enums by value)."""
    return value.value if isinstance(value, Sex) else value


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
    return [snapshot(getattr(person, name)) for name in PERSON_EXPORT_FIELDS]


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
    if on_postgresql():
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
    "csv": "text/csv",  # Werkzeug adds "; charset=utf-8" to a text/ type
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(sheet: Sheet, fmt: str) -> bytes:
    if fmt not in WRITERS:
        raise DomainError(_("Choose CSV or XLSX."), "format")
    return WRITERS[fmt](sheet)
