"""Importing people from a spreadsheet (preview, then confirm) and exporting them.

``build_preview`` maps the columns of a table (read from the file once, at the upload, and
kept with it: ``storage``) and gives every row a verdict, looking people up in bulk (a few
queries whatever the number of rows). ``confirm_import`` judges the same table again inside
the caller's transaction (what can have changed since the preview: people created, updated
or enrolled meanwhile, in the same few queries) and writes every chosen row, or raises
``DomainError`` and writes nothing. Callers commit.

A possible duplicate (same name and country as someone in the directory, another e-mail) is
resolved per row (``choices``): the existing person (enrolled into the cohort), a new person,
or skipped (the default).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort, CohortStatus
from trainingmgr.core.cache import forget_all
from trainingmgr.core.errors import DomainError
from trainingmgr.core.scope import visible_people
from trainingmgr.enrolments import services as enrolments
from trainingmgr.extensions import db

# The exports lived here first: their names stay importable from this module.
from trainingmgr.imports.exports import (  # noqa: E402, F401
    CHUNK_WRITERS,
    MIME_TYPES,
    WRITERS,
    Sheet,
    csv_chunks,
    download_name,
    is_formula_like,
    neutralise,
    people_sheet,
    render,
    roster_sheet,
    snapshot,
    template_sheet,
    to_csv,
    to_xlsx,
    xlsx_chunks,
)
from trainingmgr.imports.mapping import FIELDS, auto_mapping, mapping_problems
from trainingmgr.imports.parsing import Table, read_table
from trainingmgr.imports.summary import ImportSummary
from trainingmgr.imports.validation import (
    Candidate,
    CleanRow,
    NameIndex,
    RowResult,
    Verdict,
    clean_row,
    judge,
    pack_clean_rows,
    unpack_clean_rows,
)
from trainingmgr.people.models import Person, search_text_of
from trainingmgr.people.services import addresses_given

# Cleaned rows kept with an upload: what they depend on (``cleaning_key``), and the rows.
CleanedCache = tuple[str, list[list[Any]]]

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
    verdicts_signature: str = ""
    # The rows cleaned with ``mapping`` (kept with the upload for the confirmation to reuse),
    # what they depend on, and whether they were cleaned now (not taken from the upload).
    cleaned: list[CleanRow] = field(default_factory=list)
    cleaned_key: str = ""
    cleaned_now: bool = False

    def packed_cleaned(self) -> CleanedCache:
        return self.cleaned_key, pack_clean_rows(self.cleaned)

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
        return self.verdicts_signature or _signature(self)

    @property
    def duplicates(self) -> list[RowResult]:
        return [r for r in self.rows if r.verdict is Verdict.DUPLICATE]

    def chosen(self) -> list[RowResult]:
        """The rows to write: the importable ones and the possible duplicates resolved."""
        return [r for r in self.rows if r.writes]

    @property
    def nothing_to_import_reason(self) -> str:
        """Why there is nothing to confirm (the preview's words; never "already there" for
        rows that have errors)."""
        if self.errors == len(self.rows):
            return _(
                "Nothing to import: every row has an error. Correct the file and upload it again."
            )
        if self.errors:
            return _(
                "Nothing to import: the rows without errors are already there as they are. "
                "Correct the others in the file and upload it again."
            )
        return _("Nothing to import: every row is already there as it is.")


# How a possible duplicate is resolved: skipped, imported as a new person, or taken as the
# existing person ("existing": the only one with that name; "p<id>": that one).
SKIP, NEW, EXISTING = "skip", "new", "existing"


def build_preview(
    source: bytes | Table,
    filename: str,
    *,
    cohort: Cohort | None = None,
    mapping: list[str | None] | None = None,
    sheet: str | None = None,
    programme_ids: Collection[int] | None = None,
    choices: dict[int, str] | None = None,
    choice_for_all: str | None = None,
    cleaned: CleanedCache | None = None,
) -> Preview:
    """Judge every row of ``source``: the table read from the file (or the file's bytes, read
    now). Raises ``ImportFileError`` for an unreadable file.

    ``mapping`` (one field or None per column) replaces the recognised one when it fits the
    file's columns. Problems with the mapping or the cohort are in ``preview.problems``.
    Possible duplicates (by name) are looked for among the people in the scope of
    ``programme_ids`` (a coordinator's programmes; None: everyone). People are matched by
    e-mail whoever they are: an address identifies one person.

    ``choices`` resolves possible duplicates by row number (``SKIP``, ``NEW``, ``EXISTING``
    or ``"p<id>"`` of one of the people it matches); ``choice_for_all`` applies to the rows
    ``choices`` does not name. Seats are planned with the resolved rows.
    """
    table = source if isinstance(source, Table) else read_table(source, filename, sheet)
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
        _judge_rows(preview, programme_ids, choices or {}, choice_for_all, cleaned)
    return preview


def cleaning_key(mapping: list[str | None], sheet: str | None) -> str:
    """What the cleaned rows of a table depend on: the mapping, the sheet, the language of
    the messages."""
    text = f"{mapping!r}|{sheet}|{get_locale()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cleaned_rows(preview: Preview, cache: CleanedCache | None) -> list[CleanRow]:
    """The table's rows cleaned with the preview's mapping: from ``cache`` when it was made
    with the same mapping (the confirmation reuses the preview's), else cleaned now."""
    preview.cleaned_key = cleaning_key(preview.mapping, preview.table.sheet)
    if cache is not None and cache[0] == preview.cleaned_key:
        preview.cleaned = unpack_clean_rows(cache[1], preview.table.rows)
    else:
        preview.cleaned = [clean_row(row, preview.mapping) for row in preview.table.rows]
        preview.cleaned_now = True
    return preview.cleaned


def _judge_rows(
    preview: Preview,
    programme_ids: Collection[int] | None,
    choices: dict[int, str],
    choice_for_all: str | None,
    cache: CleanedCache | None = None,
) -> None:
    cleaned = _cleaned_rows(preview, cache)
    emails = sorted({r.values["email"] for r in cleaned if r.values.get("email")})
    existing = _people_by_email(emails)
    preview.people = {p.id: p for p in existing.values()}
    names = NameIndex(_name_candidates({r.values.get("country") for r in cleaned}, programme_ids))
    roster = enrolments.roster(preview.cohort.id) if preview.cohort is not None else None
    enrolled = {e.person_id: e.status for e in roster.enrolments} if roster else None
    preview.rows = judge(cleaned, existing, names, enrolled)
    preview.verdicts_signature = _signature(preview)  # before the choices: they may change
    for row in preview.rows:
        if row.verdict is Verdict.DUPLICATE:
            resolve_duplicate(row, choices.get(row.line, choice_for_all or SKIP), enrolled)
    if roster is not None:
        _plan_seats(roster, preview.rows)


def resolve_duplicate(
    row: RowResult, choice: str, enrolled: dict[int, enrolments.EnrolmentStatus] | None
) -> None:
    """Apply the coordinator's choice to a possible duplicate (an unknown choice: skip)."""
    row.choice, row.person_id, row.enrol = SKIP, None, False
    if choice == NEW:
        row.choice, row.enrol = NEW, enrolled is not None
        return
    ids = [c.id for c in row.candidates]
    if choice == EXISTING and len(ids) == 1:
        choice = f"p{ids[0]}"
    if choice.startswith("p") and choice[1:].isdigit() and int(choice[1:]) in ids:
        row.choice, row.person_id = choice, int(choice[1:])
        row.enrol = enrolled is not None and row.person_id not in enrolled


def _signature(preview: Preview) -> str:
    """The mapping and every row's verdict, as judged (before duplicates are resolved)."""
    parts = [repr(preview.mapping), preview.table.sheet or ""]
    parts += [f"{r.line}:{r.verdict}:{r.person_id}:{sorted(r.changes)}" for r in preview.rows]
    parts += [f"{r.line}:{[c.id for c in r.candidates]}" for r in preview.rows if r.candidates]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


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
    seats in file order, beyond the seats owed to the people already waiting; then they queue)."""
    if roster.capacity is None:
        return
    position = max((e.waitlist_position or 0 for e in roster.waitlist), default=0)
    free = max((roster.seats_left or 0) - position, 0)
    for row in rows:
        if not (row.enrol and row.writes):
            continue
        if free > 0:
            free -= 1
            continue
        position += 1
        row.waitlisted = True
        row.messages.append(
            _("The cohort is full: will join its waitlist (#%(position)s).", position=position)
        )


# --- confirm ------------------------------------------------------------------------------


def check_confirmable(
    preview: Preview, *, exclude_errors: bool = False, signature: str | None = None
) -> None:
    """Raise ``DomainError`` when ``preview`` may not be imported as it is."""
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


def confirm_import(
    source: bytes | Table,
    filename: str,
    *,
    actor: User | None,
    cohort: Cohort | None = None,
    mapping: list[str | None] | None = None,
    sheet: str | None = None,
    include: Iterable[int] = (),
    choices: dict[int, str] | None = None,
    exclude_errors: bool = False,
    signature: str | None = None,
    programme_ids: Collection[int] | None = None,
    cleaned: CleanedCache | None = None,
) -> ImportSummary:
    """Judge the table again and write every chosen row, all or nothing (callers commit).

    ``choices`` resolves possible duplicates (``build_preview``); ``include`` lists rows to
    import as new people (the same as ``NEW`` choices). Refused when the mapping or the
    cohort has a problem, when rows have errors and ``exclude_errors`` is not set, or when
    ``signature`` (of the preview the coordinator saw) no longer matches. ``actor`` is who
    imports; None: the system (the ``flask import-participants`` command).
    """
    choices = dict.fromkeys(include, NEW) | (choices or {})
    preview = build_preview(
        source,
        filename,
        cohort=cohort,
        mapping=mapping,
        sheet=sheet,
        programme_ids=programme_ids,
        choices=choices,
        cleaned=cleaned,
    )
    check_confirmable(preview, exclude_errors=exclude_errors, signature=signature)
    chosen = preview.chosen()
    summary = _summary_before(preview, cohort)
    new_people = _create_people([r for r in chosen if r.person_id is None], actor=actor)
    summary.created = len(new_people)
    summary.updated = _update_people(preview, chosen, actor=actor)
    people_by_line = {r.line: person_id for r, person_id in new_people}
    to_enrol = list(
        dict.fromkeys(
            people_by_line[r.line] if r.person_id is None else r.person_id
            for r in chosen
            if r.enrol
        )
    )
    if cohort is not None:
        for chunk in _chunks(to_enrol, enrolments.MAX_BULK):
            result = enrolments.enrol_people(cohort.id, chunk, actor=actor, defer_mail=True)
            summary.enrolled += len(result.enrolled)
            summary.waitlisted += len(result.waitlisted)
    if not summary.nothing:
        _audit_import(filename, cohort, summary, [pid for _r, pid in new_people], actor=actor)
    return summary


def audit_target(cohort: Cohort | None) -> dict[str, Any]:
    """What an import or an export is recorded against: the cohort, or the people directory."""
    if cohort is None:
        return {"object_type": "people", "object_id": None, "programme_id": None}
    return {"object_type": "cohorts", "object_id": cohort.id, "programme_id": cohort.programme_id}


def _summary_before(preview: Preview, cohort: Cohort | None) -> ImportSummary:
    """What is known before anything is written: the rows unchanged or with errors, the
    possible duplicates taken as the existing person or skipped, those already enrolled."""
    duplicates = preview.duplicates
    summary = ImportSummary(
        unchanged=preview.count(Verdict.UNCHANGED),
        errors=preview.errors,
        matched=sum(1 for r in duplicates if r.person_id is not None),
        skipped_duplicates=sum(1 for r in duplicates if not r.writes),
    )
    if cohort is not None:
        summary.already_enrolled = sum(
            1 for r in duplicates if r.person_id is not None and not r.enrol
        )
    return summary


def _audit_import(
    filename: str,
    cohort: Cohort | None,
    summary: ImportSummary,
    created: list[int],
    *,
    actor: User | None,
) -> None:
    audit.record(
        "people.import",
        actor=actor,
        **audit_target(cohort),
        changes={
            "file": filename,
            "created": created,
            "updated": summary.updated,
            "enrolled": summary.enrolled,
            "waitlisted": summary.waitlisted,
            "unchanged": summary.unchanged,
            "matched": summary.matched,
            "skipped": summary.skipped,
            "errors": summary.errors,
        },
        summary=f"{filename}: {summary.created} created, {summary.updated} updated, "
        f"{summary.enrolled} enrolled, {summary.waitlisted} waitlisted",
    )


def _create_people(rows: list[RowResult], *, actor: User | None) -> list[tuple[RowResult, int]]:
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
    forget_all()  # figures cached from people and enrolments (core.cache)
    audit.record_many(
        [
            {
                "object_id": person_id,
                "changes": {k: snapshot(v) for k, v in row.values.items()} | {"source": "import"},
                "summary": _full_name(v),
            }
            for row, person_id, v in zip(rows, ids, values, strict=True)
        ],
        action="person.create",
        actor=actor,
        object_type=table.name,
    )
    addresses_given(
        [pid for pid, v in zip(ids, values, strict=True) if v.get("email")], actor=actor
    )
    return list(zip(rows, ids, strict=True))


def _full_name(values: dict[str, Any]) -> str:
    return " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)


def _update_people(preview: Preview, rows: list[RowResult], *, actor: User | None) -> int:
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
            changes={k: [snapshot(o), snapshot(n)] for k, (o, n) in row.changes.items()},
            summary=person.full_name,
        )
        updated += 1
    db.session.flush()
    return updated
