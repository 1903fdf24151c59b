"""Importing people: verdicts, confirm (all or nothing), the pages, the CLI, and scale."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DATA, on_postgres
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import CohortStatus, Enrolment, EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.imports import services, storage
from trainingmgr.imports.models import PendingUpload
from trainingmgr.imports.parsing import ImportFileError
from trainingmgr.imports.validation import Verdict
from trainingmgr.people.models import Person, Sex

HEADER = ["First name", "Last name", "Email", "Sex", "Country", "Organisation", "Position", "Phone"]
GOOD_FILES = {
    "participants_mmpaf.xlsx": 120,
    "participants_rtcm_rollout.csv": 35,
    "participants_semicolon_bom.csv": 15,
    "participants_cp1251.csv": 4,
}


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def csv_file(*rows: list[str], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def row(first: str, last: str, email: str, sex: str = "F", country: str = "AZ", **kw: str) -> list:
    return [
        first,
        last,
        email,
        sex,
        country,
        kw.get("organisation", ""),
        kw.get("position", ""),
        kw.get("phone", ""),
    ]


def verdicts(preview: services.Preview) -> dict[int, Verdict]:
    return {r.line: r.verdict for r in preview.rows}


def people(db_session: Any) -> int:
    return db_session.scalar(sa.select(sa.func.count(Person.id)))


def enrolments(db_session: Any, cohort_id: int) -> list[Enrolment]:
    return list(
        db_session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == cohort_id).order_by(Enrolment.id)
        )
    )


@pytest.fixture
def ctx(app: Flask, db_session: Any) -> Iterator[Any]:
    """A request context (for messages) around service calls."""
    with app.test_request_context():
        yield db_session


# --- every sample file --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "count"), sorted(GOOD_FILES.items()))
def test_each_sample_file_imports_into_the_directory(ctx: Any, name: str, count: int) -> None:
    preview = services.build_preview(read(name), name)
    assert preview.problems == []
    assert preview.counts[Verdict.CREATE] == count
    assert preview.errors == 0
    summary = services.confirm_import(read(name), name, actor=None)
    assert (summary.created, summary.updated, summary.skipped) == (count, 0, 0)
    assert people(ctx) == count
    # The second time nothing is new.
    again = services.build_preview(read(name), name)
    assert set(verdicts(again).values()) == {Verdict.UNCHANGED}
    second = services.confirm_import(read(name), name, actor=None)
    assert second.nothing and (second.unchanged, second.skipped) == (count, 0)
    assert people(ctx) == count


def test_names_in_every_script_are_stored_as_written(ctx: Any) -> None:
    services.confirm_import(read("participants_rtcm_rollout.csv"), "r.csv", actor=None)
    services.confirm_import(read("participants_cp1251.csv"), "c.csv", actor=None)
    names = set(ctx.execute(sa.select(Person.first_name, Person.last_name)).all())
    assert {
        ("Ləman", "Əliyeva"),
        ("İlkin", "Ağayev"),
        ("Şükrü", "Yılmaz"),
        ("Иван", "Петров"),
        ("ნინო", "ბერიძე"),
        ("Нурлан", "Жээнбеков"),
    } <= names
    leman = ctx.scalar(sa.select(Person).where(Person.email == "lman.liyeva1@example.org"))
    assert (leman.sex, leman.country, leman.organisation, leman.position) == (
        Sex.FEMALE,
        "AZ",
        "State Migration Service",
        "Senior Specialist",
    )
    assert leman.phone.startswith("+")
    # Imported people are found by the directory's search, whatever the script.
    assert "aliyeva" in leman.search_text


def test_mmpaf_rows_sharing_a_name_are_flagged_but_imported(ctx: Any) -> None:
    preview = services.build_preview(read("participants_mmpaf.xlsx"), "mmpaf.xlsx")
    warned = {r.line: r.warnings for r in preview.rows if r.warnings}
    assert preview.counts[Verdict.CREATE] == 120
    assert set(warned) >= {39, 74, 109, 65, 100}
    assert "row 74, 109" in warned[39][0]
    assert "row 65" in warned[100][0]


def test_cohort_import_enrols_everyone_within_capacity_then_waitlists(ctx: Any, make: Any) -> None:
    cohort = make.cohort(capacity=100)
    preview = services.build_preview(read("participants_mmpaf.xlsx"), "m.xlsx", cohort=cohort)
    assert preview.counts[Verdict.CREATE] == 120
    assert preview.waitlisted == 20
    assert "waitlist (#1)" in preview.rows[100].messages[-1]
    summary = services.confirm_import(
        read("participants_mmpaf.xlsx"), "m.xlsx", actor=None, cohort=cohort
    )
    assert (summary.created, summary.enrolled, summary.waitlisted) == (120, 100, 20)
    rows = enrolments(ctx, cohort.id)
    assert [e.status for e in rows].count(EnrolmentStatus.ENROLLED) == 100
    waiting = [e for e in rows if e.status == EnrolmentStatus.WAITLISTED]
    assert sorted(e.waitlist_position for e in waiting) == list(range(1, 21))
    # Importing the same file again enrols nobody twice.
    again = services.build_preview(read("participants_mmpaf.xlsx"), "m.xlsx", cohort=cohort)
    assert set(verdicts(again).values()) == {Verdict.UNCHANGED}
    assert "Already enrolled in this cohort (Enrolled)." in again.rows[0].messages
    assert "Already enrolled in this cohort (Waitlisted)." in again.rows[-1].messages
    assert services.confirm_import(
        read("participants_mmpaf.xlsx"), "m.xlsx", actor=None, cohort=cohort
    ).nothing
    assert len(enrolments(ctx, cohort.id)) == 120


def test_existing_people_are_enrolled_and_the_waitlist_keeps_its_order(ctx: Any, make: Any) -> None:
    cohort = make.cohort(capacity=2, auto_fill_waitlist=False)  # the seat stays free
    known = make.person(email="lman.liyeva1@example.org", first_name="Ləman", last_name="Əliyeva")
    waiting = make.person()
    make.enrolment(cohort, make.person())
    make.enrolment(cohort, waiting, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    data = csv_file(
        row("Ləman", "Əliyeva", "LMAN.LIYEVA1@example.org"),
        row("Gülnarə", "Həsənova", "g@example.org"),
    )
    preview = services.build_preview(data, "x.csv", cohort=cohort)
    first = preview.rows[0]
    # Same e-mail whatever its case; the file gives sex and country the record lacks? No:
    # the factory gave country AZ; the file adds sex F, so the person is updated and enrolled.
    assert first.person_id == known.id
    assert first.verdict is Verdict.UPDATE
    assert first.enrol
    # Others are waiting, so newcomers queue behind them even with a seat free.
    assert [r.waitlisted for r in preview.rows] == [True, True]
    services.confirm_import(data, "x.csv", actor=None, cohort=cohort)
    queue = sorted(
        (e.waitlist_position, e.person_id)
        for e in enrolments(ctx, cohort.id)
        if e.status == EnrolmentStatus.WAITLISTED
    )
    assert queue[0] == (1, waiting.id)
    assert queue[1] == (2, known.id)
    assert len(queue) == 3


def test_preview_gives_newcomers_the_seats_beyond_those_owed_to_the_waitlist(
    ctx: Any, make: Any
) -> None:
    # 5 seats, 1 taken, 2 people waiting (owed 2 seats): 2 seats are free for newcomers.
    cohort = make.cohort(capacity=5, auto_fill_waitlist=False)
    make.enrolment(cohort, make.person())
    for position in (1, 2):
        make.enrolment(
            cohort, make.person(), status=EnrolmentStatus.WAITLISTED, waitlist_position=position
        )
    data = csv_file(
        row("Aida", "Karimova", "a@example.org"),
        row("Bakhyt", "Omarov", "b@example.org"),
        row("Chynara", "Sadykova", "c@example.org"),
    )
    preview = services.build_preview(data, "x.csv", cohort=cohort)
    assert [r.waitlisted for r in preview.rows] == [False, False, True]
    assert "waitlist (#3)" in preview.rows[2].messages[-1]
    summary = services.confirm_import(data, "x.csv", actor=None, cohort=cohort)
    assert (summary.enrolled, summary.waitlisted) == (2, 1)


def test_unchanged_existing_person_gets_the_will_enrol_verdict(ctx: Any, make: Any) -> None:
    cohort = make.cohort()
    person = make.person(first_name="Иван", last_name="Петров", email="ivan@example.org")
    person.sex, person.country = Sex.MALE, "BY"
    data = csv_file(row("Иван", "Петров", "ivan@example.org", "M", "BY"))
    preview = services.build_preview(data, "x.csv", cohort=cohort)
    assert verdicts(preview) == {2: Verdict.ENROL}
    assert "will be enrolled" in preview.rows[0].messages[0]
    summary = services.confirm_import(data, "x.csv", actor=None, cohort=cohort)
    assert (summary.created, summary.updated, summary.enrolled) == (0, 0, 1)
    assert [e.person_id for e in enrolments(ctx, cohort.id)] == [person.id]


def test_update_changes_only_the_fields_the_file_gives(ctx: Any, make: Any) -> None:
    person = make.person(
        first_name="Ləman",
        last_name="Əliyeva",
        email="leman@example.org",
        organisation="Old Ministry",
        phone="+994 12 000 00 00",
        position="Inspector",
    )
    data = csv_file(
        row("Ləman", "Əliyeva", "Leman@Example.org", organisation="State Migration Service")
    )
    preview = services.build_preview(data, "x.csv")
    [result] = preview.rows
    assert result.verdict is Verdict.UPDATE
    assert set(result.changes) == {"organisation", "sex"}
    assert "Old Ministry → State Migration Service" in result.messages[0]
    summary = services.confirm_import(data, "x.csv", actor=None)
    assert summary.updated == 1
    ctx.refresh(person)
    assert person.organisation == "State Migration Service"
    assert person.sex is Sex.FEMALE
    # Fields the file leaves empty are kept.
    assert (person.phone, person.position) == ("+994 12 000 00 00", "Inspector")
    event = ctx.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "person.update", AuditEvent.object_id == person.id
        )
    )
    assert event.changes["organisation"] == ["Old Ministry", "State Migration Service"]


def test_email_of_a_merged_record_updates_the_record_it_was_merged_into(
    ctx: Any, make: Any
) -> None:
    keep = make.person(email="keep@example.org", first_name="Ana", last_name="Ciobanu")
    make.person(
        email="old@example.org", first_name="Ana", last_name="Ciobanu", merged_into_id=keep.id
    )
    data = csv_file(row("Ana", "Ciobanu", "old@example.org", country="AZ"))
    [result] = services.build_preview(data, "x.csv").rows
    assert result.person_id == keep.id


# --- possible duplicates ------------------------------------------------------------------


def test_same_name_and_country_with_another_email_is_a_possible_duplicate(
    ctx: Any, make: Any
) -> None:
    make.person(first_name="Ləman", last_name="Əliyeva", email="other@example.org", country="AZ")
    make.person(first_name="Иван", last_name="Петров", email=None, country="BY")
    make.person(first_name="Ləman", last_name="Əliyeva", email="x@example.org", country="TR")
    data = csv_file(
        row("LƏMAN", "əliyeva", "leman.new@example.org", country="Azerbaijan"),
        row("Ivan", "Petrov", "ivan.new@example.org", "M", "BY"),
        row("Ləman", "Əliyeva", "third@example.org", country="GE"),
    )
    preview = services.build_preview(data, "x.csv")
    assert verdicts(preview) == {2: Verdict.DUPLICATE, 3: Verdict.DUPLICATE, 4: Verdict.CREATE}
    assert "Ləman Əliyeva (other@example.org)" in preview.rows[0].messages[0]
    assert "Иван Петров (no e-mail)" in preview.rows[1].messages[0]
    # Left out unless ticked.
    summary = services.confirm_import(data, "x.csv", actor=None)
    assert (summary.created, summary.skipped) == (1, 2)
    emails = set(ctx.scalars(sa.select(Person.email)))
    assert "third@example.org" in emails and "leman.new@example.org" not in emails


def test_a_ticked_possible_duplicate_is_imported_as_a_new_person(ctx: Any, make: Any) -> None:
    make.person(first_name="Ləman", last_name="Əliyeva", email="other@example.org", country="AZ")
    cohort = make.cohort()
    data = csv_file(row("Ləman", "Əliyeva", "leman.new@example.org"))
    summary = services.confirm_import(data, "x.csv", actor=None, cohort=cohort, include=[2])
    assert (summary.created, summary.enrolled) == (1, 1)
    new = ctx.scalar(sa.select(Person).where(Person.email == "leman.new@example.org"))
    assert [e.person_id for e in enrolments(ctx, cohort.id)] == [new.id]


# --- bad input: every broken file writes nothing ------------------------------------------


def test_bad_values_are_errors_with_reasons(ctx: Any) -> None:
    preview = services.build_preview(read("broken/bad_values.csv"), "bad_values.csv")
    assert verdicts(preview) == {
        2: Verdict.CREATE,
        3: Verdict.ERROR,
        4: Verdict.ERROR,
        5: Verdict.ERROR,
        6: Verdict.ERROR,
        7: Verdict.ERROR,
    }
    reasons = {r.line: " ".join(r.messages) for r in preview.rows}
    assert "“not-an-email” is not a valid e-mail address" in reasons[3]
    assert "Unknown sex value “Q”" in reasons[4]
    assert "Unknown country “Atlantis”" in reasons[5]
    assert reasons[6] == "Enter a first name or a last name."
    assert reasons[7] == "E-mail is missing."


def test_rows_with_errors_stop_the_import_unless_explicitly_excluded(ctx: Any) -> None:
    data = read("broken/bad_values.csv")
    with pytest.raises(DomainError) as info:
        services.confirm_import(data, "bad_values.csv", actor=None)
    assert info.value.field == "exclude_errors"
    assert "5 rows have errors" in info.value.message
    assert people(ctx) == 0
    summary = services.confirm_import(data, "bad_values.csv", actor=None, exclude_errors=True)
    assert (summary.created, summary.skipped) == (1, 5)
    assert list(ctx.scalars(sa.select(Person.email))) == ["lman.liyeva1@example.org"]


def test_duplicate_emails_in_the_file_are_reported_on_both_rows(ctx: Any) -> None:
    preview = services.build_preview(read("broken/duplicate_emails.csv"), "d.csv")
    errors = {r.line: r.messages[0] for r in preview.rows if r.verdict is Verdict.ERROR}
    assert set(errors) == {3, 8}
    assert "gulnar.hsnova2@example.org is also on row 8" in errors[3]
    assert "is also on row 3" in errors[8]
    with pytest.raises(DomainError):
        services.confirm_import(read("broken/duplicate_emails.csv"), "d.csv", actor=None)
    assert people(ctx) == 0


def test_formula_injection_is_refused_with_a_clear_message(ctx: Any) -> None:
    preview = services.build_preview(read("broken/formula_injection.csv"), "f.csv")
    assert set(verdicts(preview).values()) == {Verdict.ERROR}
    messages = [r.messages[0] for r in preview.rows]
    assert messages[0].startswith("First name starts with '='")
    assert "spreadsheet formulas are not accepted" in messages[0]
    assert messages[1].startswith("Organisation starts with '+'")
    assert messages[2].startswith("Position starts with '@'")
    assert messages[3].startswith("Last name starts with '-'")
    with pytest.raises(DomainError):
        services.confirm_import(read("broken/formula_injection.csv"), "f.csv", actor=None)
    # Excluding the errors leaves nothing: nothing is written.
    summary = services.confirm_import(
        read("broken/formula_injection.csv"), "f.csv", actor=None, exclude_errors=True
    )
    assert summary.nothing and people(ctx) == 0


def test_phone_numbers_may_start_with_a_plus(ctx: Any) -> None:
    data = csv_file(
        row("A", "B", "a@example.org", phone="+994 (12) 345-67-89"),
        row("C", "D", "c@example.org", phone="+994 12 =1+1"),
        row("E", "F", "e@example.org", phone="'+994 50 123 45 67"),
    )
    preview = services.build_preview(data, "x.csv")
    assert verdicts(preview) == {2: Verdict.CREATE, 3: Verdict.ERROR, 4: Verdict.CREATE}
    assert preview.rows[0].values["phone"] == "+994 (12) 345-67-89"
    # The apostrophe our exports put before a "+" is removed again.
    assert preview.rows[2].values["phone"] == "+994 50 123 45 67"


def test_a_missing_required_column_stops_everything(ctx: Any) -> None:
    preview = services.build_preview(read("broken/missing_email_column.csv"), "m.csv")
    assert preview.rows == []
    assert preview.problems == [
        "No column is mapped to E-mail: the file needs one (choose it below, or add the column "
        "to the file)."
    ]
    assert not preview.can_confirm
    with pytest.raises(DomainError) as info:
        services.confirm_import(read("broken/missing_email_column.csv"), "m.csv", actor=None)
    assert info.value.field == "mapping"
    assert people(ctx) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("broken/empty.csv", "The file is empty."),
        ("broken/header_only.csv", "no participants below it"),
        ("broken/not_really.xlsx", "not an Excel workbook"),
    ],
)
def test_unreadable_files_raise_a_validation_error(ctx: Any, name: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        services.build_preview(read(name), Path(name).name)
    with pytest.raises(ImportFileError):
        services.confirm_import(read(name), Path(name).name, actor=None)
    assert people(ctx) == 0


# --- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sex"),
    [
        ("F", Sex.FEMALE),
        ("female", Sex.FEMALE),
        ("Woman", Sex.FEMALE),
        ("ж", Sex.FEMALE),
        ("Qadın", Sex.FEMALE),
        ("M", Sex.MALE),
        ("Male", Sex.MALE),
        ("м", Sex.MALE),
        ("kişi", Sex.MALE),
        ("Erkek", Sex.MALE),
        ("other", Sex.OTHER),
        ("Prefer not to say", Sex.UNDISCLOSED),
        ("Prefers not to say", Sex.UNDISCLOSED),
        ("", None),
    ],
)
def test_sex_values(ctx: Any, value: str, sex: Sex | None) -> None:
    [result] = services.build_preview(csv_file(row("A", "B", "a@example.org", value)), "x").rows
    assert result.verdict is Verdict.CREATE
    assert result.values.get("sex") is sex


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("AZ", "AZ"),
        ("aze", "AZ"),
        ("Azerbaijan", "AZ"),
        ("Азербайджан", "AZ"),
        ("Azərbaycan", "AZ"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Russia", "RU"),
        ("The Gambia", "GM"),
        ("Грузия", "GE"),
        ("", None),
    ],
)
def test_countries_are_normalised_to_iso_codes(ctx: Any, value: str, code: str | None) -> None:
    [result] = services.build_preview(
        csv_file(row("A", "B", "a@example.org", "F", value)), "x"
    ).rows
    assert result.verdict is Verdict.CREATE
    assert result.values.get("country") == code


def test_overlong_values_and_lone_dashes(ctx: Any) -> None:
    data = csv_file(
        row("A" * 121, "B", "a@example.org"),
        row("C", "D", "c@example.org", organisation="-", position="—"),
    )
    preview = services.build_preview(data, "x.csv")
    assert preview.rows[0].messages == ["First name is longer than 120 characters."]
    assert preview.rows[1].verdict is Verdict.CREATE
    assert "organisation" not in preview.rows[1].values


def test_a_corrected_mapping_is_used(ctx: Any) -> None:
    data = csv_file(
        row("Əliyeva", "Ləman", "l@example.org"),
        header=["Surname?", "Given?", "Contact", "Sex", "Country", "Org", "Job", "Tel"],
    )
    auto = services.build_preview(data, "x.csv")
    assert auto.problems and auto.rows == []
    mapping = ["last_name", "first_name", "email", "sex", "country", "organisation", None, None]
    preview = services.build_preview(data, "x.csv", mapping=mapping)
    assert preview.problems == []
    assert preview.rows[0].values["first_name"] == "Ləman"
    assert preview.shown_columns[:3] == [("first_name", 1), ("last_name", 0), ("email", 2)]
    # A mapping that does not fit the file's columns is recognised afresh.
    assert services.build_preview(data, "x.csv", mapping=["email"]).mapping == auto.mapping
    # The same field twice is refused.
    twice = services.build_preview(
        data, "x.csv", mapping=["last_name", "last_name", "email"] + [None] * 5
    )
    assert any("more than one column" in p for p in twice.problems)


def test_a_closed_cohort_takes_no_import(ctx: Any, make: Any) -> None:
    cohort = make.cohort(status=CohortStatus.CLOSED)
    preview = services.build_preview(read("participants_cp1251.csv"), "c.csv", cohort=cohort)
    assert "takes no new enrolments" in preview.problems[0]
    with pytest.raises(DomainError):
        services.confirm_import(read("participants_cp1251.csv"), "c.csv", actor=None, cohort=cohort)
    assert people(ctx) == 0


def test_a_stale_preview_is_not_confirmed(ctx: Any, make: Any) -> None:
    data = read("participants_cp1251.csv")
    seen = services.build_preview(data, "c.csv").signature
    make.person(email="participant11@example.org", first_name="Иван", last_name="Петров")
    with pytest.raises(DomainError, match="changed since this preview"):
        services.confirm_import(data, "c.csv", actor=None, signature=seen)
    assert people(ctx) == 1


def test_the_import_is_audited(ctx: Any, make: Any) -> None:
    actor = make.user(Role.COORDINATOR)
    cohort = make.cohort()
    services.confirm_import(read("participants_cp1251.csv"), "c.csv", actor=actor, cohort=cohort)
    events = list(ctx.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    actions = [e.action for e in events]
    assert actions.count("person.create") == 4
    assert actions.count("enrolment.create") == 4
    [summary] = [e for e in events if e.action == "people.import"]
    assert (summary.actor_id, summary.object_id) == (actor.id, cohort.id)
    assert summary.changes["enrolled"] == 4 and len(summary.changes["created"]) == 4


def test_the_summary_message_names_what_was_done(ctx: Any) -> None:
    summary = services.ImportSummary(created=2, enrolled=1, waitlisted=1, unchanged=3, errors=1)
    assert summary.message() == (
        "Import done: 2 people created, 1 enrolled, 1 waitlisted, 3 unchanged, "
        "1 row with errors skipped."
    )
    summary = services.ImportSummary(
        created=3, enrolled=30, waitlisted=2, matched=29, skipped_duplicates=3, errors=4
    )
    assert summary.message() == (
        "Import done: 3 people created, 29 possible duplicates taken as the existing people, "
        "30 enrolled, 2 waitlisted, 3 possible duplicates skipped, 4 rows with errors skipped."
    )
    assert services.ImportSummary(unchanged=4).message().startswith("Nothing to import")


def test_when_every_row_is_refused_the_summary_says_so(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    """formula_injection.csv: every row has an error; the result must not claim they are
    "already in the directory"."""
    token = token_of(
        upload(client, "/people/import", read("broken/formula_injection.csv"), "f.csv")
    )
    html = client.get(f"/import/{token}").text
    assert "Nothing to import: every row has an error." in html
    assert "already there" not in html
    assert 'id="exclude-errors"' not in html  # nothing else to import: no exclusion offered
    form = form_of(html)
    form["exclude_errors"] = "y"
    response = client.post(f"/import/{token}/confirm", data=form, follow_redirects=True)
    assert "Nothing was imported: 4 rows with errors skipped." in response.text
    assert "already in the directory" not in response.text


# --- scale --------------------------------------------------------------------------------


def big_file(count: int) -> bytes:
    countries = ["AZ", "TR", "BY", "UA", "GE", "KG", "GM", "MD"]
    return csv_file(
        *(
            row(
                f"Name{n}",
                f"Əliyeva{n}",
                f"person{n}@example.org",
                "FM"[n % 2],
                countries[n % len(countries)],
                organisation=f"Ministry {n % 17}",
                phone=f"+994 50 {n:07d}",
            )
            for n in range(count)
        )
    )


def test_five_thousand_rows_preview_and_import_in_a_bounded_number_of_queries(
    ctx: Any, make: Any, count_queries: Any
) -> None:
    cohort = make.cohort(capacity=4000)
    for n in range(0, 5000, 250):  # some are known already
        make.person(email=f"person{n}@example.org", first_name=f"Name{n}", last_name=f"Əliyeva{n}")
    data = big_file(5000)
    with count_queries() as previewing:
        preview = services.build_preview(data, "big.csv", cohort=cohort)
    assert preview.counts[Verdict.CREATE] == 4980
    assert preview.counts[Verdict.UPDATE] == 20
    assert previewing.count <= 20
    with count_queries() as importing:
        summary = services.confirm_import(data, "big.csv", actor=None, cohort=cohort)
    assert (summary.created, summary.updated) == (4980, 20)
    assert (summary.enrolled, summary.waitlisted) == (4000, 1000)
    assert people(ctx) == 5000
    # Look-ups are in bulk: a few queries per 500 rows, never one per row (one of them: the
    # accounts of the people confirmed, for the sign-in links of their confirmations).
    selects = [s for s in importing.statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 15 + 6 * (5000 // services.CHUNK)
    if on_postgres():
        # Inserts too: PostgreSQL returns the ids of a batch of rows in one statement.
        # (SQLite cannot say in which order it returned them, so SQLAlchemy inserts there
        # row by row, inside the same transaction.)
        # (+2 per chunk: the accounts of the people confirmed and their sign-in links.)
        assert importing.count <= 30 + 10 * (5000 // services.CHUNK)


# --- the pages ----------------------------------------------------------------------------


def upload(client: FlaskClient, url: str, data: bytes, name: str) -> Any:
    return client.post(
        url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def token_of(response: Any) -> str:
    assert response.status_code == 302, response.text
    match = re.fullmatch(r"/import/([A-Za-z0-9_-]{32})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def form_of(html: str) -> dict[str, Any]:
    """The preview form's fields as a browser sends them: hidden inputs and chosen options."""
    data: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if attrs.get("type") == "hidden" and "name" in attrs:
            data[attrs["name"]] = attrs.get("value", "")
        if attrs.get("type") == "radio" and re.search(r"\schecked[\s>]", tag):
            data[attrs["name"]] = attrs.get("value", "")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        options = re.findall(r"<option[^>]*>", body)
        chosen = [o for o in options if re.search(r"\sselected[\s>=]", o)]
        value = re.search(r'value="([^"]*)"', chosen[0] if chosen else "")
        data[name] = value.group(1) if value else ""
    return data


@pytest.fixture
def coordinator(login: Any) -> Any:
    return login(Role.COORDINATOR)


def test_upload_preview_and_confirm_into_a_cohort(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort(name="RTCM roll-out Baku", capacity=30)
    page = client.get(f"/cohorts/{cohort.id}/import")
    assert page.status_code == 200
    assert "Import participants into RTCM roll-out Baku" in page.text
    assert 'href="/import/template.xlsx"' in page.text
    token = token_of(
        upload(
            client, f"/cohorts/{cohort.id}/import", read("participants_rtcm_rollout.csv"), "r.csv"
        )
    )
    assert people(db_session) == 0  # nothing is written by the upload or the preview
    preview = client.get(f"/import/{token}")
    assert preview.status_code == 200
    html = preview.text
    assert 'data-testid="count-create">Will create: 35<' in html
    assert "5 will join the waitlist: the cohort is full" in html
    assert html.count('data-verdict="create"') == 35
    assert "Ləman" in html and "ნინო" in html
    assert 'for="map-2">Email</label>' in html
    assert '<option value="email" selected>' in html
    assert 'id="confirm-button"' in html
    assert 'id="exclude-errors"' not in html
    form = form_of(html)
    assert form["columns"] == "8" and form["map-0"] == "first_name" and form["signature"]
    response = client.post(f"/import/{token}/confirm", data=form)
    assert response.status_code == 302
    followed = client.get(response.headers["Location"])
    assert "Import done: 35 people created, 30 enrolled, 5 waitlisted." in followed.text
    assert people(db_session) == 35
    assert len(enrolments(db_session, cohort.id)) == 35
    # The upload is gone once imported.
    assert client.get(f"/import/{token}").status_code == 302


def test_an_import_that_races_another_change_imports_nothing_and_says_why(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    """Someone else writes the same people while the import runs: the database's unique
    constraint refuses the import's INSERT. Nothing is imported, the coordinator is back on
    the preview with their choices and a sentence, not an error page."""
    from sqlalchemy.exc import IntegrityError

    from trainingmgr.imports import services as import_services

    real = import_services.confirm_import

    def racing(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # everything written, then the constraint refuses it
        raise IntegrityError("INSERT INTO people ...", {}, Exception("duplicate key"))

    cohort = make.cohort()
    token = token_of(
        upload(client, f"/cohorts/{cohort.id}/import", read("participants_cp1251.csv"), "c.csv")
    )
    form = form_of(client.get(f"/import/{token}").text)
    monkeypatch.setattr(import_services, "confirm_import", racing)
    response = client.post(f"/import/{token}/confirm", data=form)
    assert response.status_code == 302 and response.headers["Location"] == f"/import/{token}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Someone changed the same people while this import ran" in page.text
    assert 'id="confirm-button"' in page.text  # the preview, ready to confirm again
    assert people(db_session) == 0 and enrolments(db_session, cohort.id) == []


def test_importing_the_same_file_twice_shows_no_change(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort()
    for _ in range(2):
        token = token_of(
            upload(client, f"/cohorts/{cohort.id}/import", read("participants_cp1251.csv"), "c.csv")
        )
        html = client.get(f"/import/{token}").text
        client.post(f"/import/{token}/confirm", data=form_of(html))
    assert 'data-testid="count-unchanged">No change: 4<' in html
    assert "Already enrolled in this cohort" in html
    assert people(db_session) == 4
    assert len(enrolments(db_session, cohort.id)) == 4


def test_people_directory_import_page(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    assert "Import people into the directory" in client.get("/people/import").text
    token = token_of(upload(client, "/people/import", read("participants_mmpaf.xlsx"), "m.xlsx"))
    html = client.get(f"/import/{token}").text
    assert 'data-testid="count-create">Will create: 120<' in html
    assert 'data-testid="count-warned"' in html
    response = client.post(f"/import/{token}/confirm", data=form_of(html))
    assert response.status_code == 302
    assert people(db_session) == 120


def test_the_mapping_can_be_corrected_on_the_page(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    data = csv_file(
        row("Ləman", "Əliyeva", "l@example.org"),
        header=["Ad", "Column B", "Poçtu", "Cins", "Ölkə", "Org", "Job", "Tel"],
    )
    token = token_of(upload(client, "/people/import", data, "x.csv"))
    html = client.get(f"/import/{token}").text
    assert "No column is mapped to Last name" in html
    assert "No column is mapped to E-mail" in html
    assert 'id="confirm-button"' not in html
    form = form_of(html)
    form.update({"map-1": "last_name", "map-2": "email"})
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    assert 'data-testid="import-problems"' not in html
    assert 'data-testid="count-create">Will create: 1<' in html
    response = client.post(f"/import/{token}/confirm", data=form_of(html))
    assert response.status_code == 302
    person = db_session.scalar(sa.select(Person))
    assert (person.first_name, person.last_name, person.email) == (
        "Ləman",
        "Əliyeva",
        "l@example.org",
    )


def test_the_mapping_of_a_workbook_can_be_corrected(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    """As the browser test does with participants_mmpaf.xlsx: leave a column out."""
    cohort = make.cohort()
    url = f"/cohorts/{cohort.id}/import"
    token = token_of(upload(client, url, read("participants_mmpaf.xlsx"), "mmpaf.xlsx"))
    html = client.get(f"/import/{token}").text
    assert 'for="map-7">Phone</label>' in html
    assert "New person: will be added to the directory and enrolled." in html
    form = form_of(html)
    assert form["sheet"] == form["mapped_sheet"] == "Participants"
    form["map-7"] = ""
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    assert '<option value="phone" selected>' not in html
    assert '<th scope="col">Phone</th>' not in html
    assert client.post(f"/import/{token}/confirm", data=form_of(html)).status_code == 302
    assert people(db_session) == 120
    assert set(db_session.scalars(sa.select(Person.phone))) == {None}
    assert len(enrolments(db_session, cohort.id)) == 120


def test_link_buttons_for_other_pages(app: Flask, make: Any, db_session: Any) -> None:
    cohort = make.cohort()
    source = (
        '{% from "imports/_links.html" import cohort_import_links, people_import_links %}'
        "{{ cohort_import_links(cohort) }}{{ people_import_links({'country': 'AZ'}) }}"
    )
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string(source, cohort=cohort)
    assert f'href="/cohorts/{cohort.id}/import" id="import-participants"' in html
    assert f'href="/cohorts/{cohort.id}/roster.xlsx"' in html
    assert 'href="/people/export.csv?country=AZ"' in html
    assert 'href="/people/import"' in html


def test_rows_with_errors_need_the_explicit_exclusion(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    token = token_of(upload(client, "/people/import", read("broken/bad_values.csv"), "b.csv"))
    html = client.get(f"/import/{token}").text
    assert 'data-testid="count-error">Error: 5<' in html
    assert 'id="exclude-errors"' in html and "required" in html
    assert "Exclude the 5 rows with errors and import the others" in html
    assert "Unknown country “Atlantis”" in html
    form = form_of(html)
    refused = client.post(f"/import/{token}/confirm", data=form)
    assert refused.headers["Location"] == f"/import/{token}"  # the preview, with a message
    assert "5 rows have errors" in client.get(refused.headers["Location"]).text
    assert people(db_session) == 0
    form["exclude_errors"] = "y"
    done = client.post(f"/import/{token}/confirm", data=form)
    assert done.status_code == 302
    assert people(db_session) == 1


@pytest.mark.parametrize("name", ["duplicate_emails.csv", "formula_injection.csv"])
def test_broken_files_with_bad_rows_write_nothing_from_the_page(
    client: FlaskClient, coordinator: Any, db_session: Any, name: str
) -> None:
    token = token_of(upload(client, "/people/import", read(f"broken/{name}"), name))
    html = client.get(f"/import/{token}").text
    assert 'class="table-danger"' in html
    response = client.post(f"/import/{token}/confirm", data=form_of(html), follow_redirects=True)
    assert response.status_code == 200 and "have errors" in response.text
    assert people(db_session) == 0


def test_missing_column_file_from_the_page(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    token = token_of(
        upload(client, "/people/import", read("broken/missing_email_column.csv"), "m.csv")
    )
    html = client.get(f"/import/{token}").text
    assert "No column is mapped to E-mail" in html
    response = client.post(f"/import/{token}/confirm", data=form_of(html), follow_redirects=True)
    assert response.status_code == 200 and "No column is mapped to E-mail" in response.text
    assert people(db_session) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "no participants below it"),
        ("not_really.xlsx", "not an Excel workbook"),
    ],
)
def test_unreadable_files_get_a_message_on_the_upload_page(
    client: FlaskClient, coordinator: Any, make: Any, app: Flask, name: str, message: str
) -> None:
    cohort = make.cohort()
    response = upload(client, f"/cohorts/{cohort.id}/import", read(f"broken/{name}"), name)
    assert response.status_code == 200
    assert message in response.text
    assert 'class="invalid-feedback"' in response.text
    assert pending_uploads() == 0  # nothing kept


def test_an_upload_without_a_file_is_refused(client: FlaskClient, coordinator: Any) -> None:
    response = client.post("/people/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Choose a file to upload." in response.text


def test_a_file_over_the_size_limit_gets_a_message_not_a_413(
    client: FlaskClient, coordinator: Any, app: Flask
) -> None:
    app.config["MAX_UPLOAD_MB"] = 1
    try:
        big = csv_file(
            *(row("A", "B", f"a{n}@example.org", phone="+1" * 20) for n in range(30_000))
        )
        assert len(big) > 1024 * 1024 + 64 * 1024
        response = upload(client, "/people/import", big, "big.csv")
        just_over = upload(client, "/people/import", b"x" * (1024 * 1024 + 10), "big.csv")
    finally:
        app.config["MAX_UPLOAD_MB"] = 10
    for page in (response, just_over):
        assert page.status_code == 200
        assert "larger than the upload limit of 1 MB" in page.text


def test_possible_duplicates_are_resolved_row_by_row_on_the_page(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    make.person(first_name="Ləman", last_name="Əliyeva", email="other@example.org", country="AZ")
    data = csv_file(
        row("Ləman", "Əliyeva", "new@example.org"), row("Aygün", "Rəhimova", "a@example.org")
    )
    token = token_of(upload(client, "/people/import", data, "x.csv"))
    html = client.get(f"/import/{token}").text
    assert 'data-testid="count-duplicate">Possible duplicate: 1<' in html
    form = form_of(html)
    assert form["dup-2"] == "skip"  # skipped unless chosen
    form["dup-2"] = "new"
    # Re-previewing keeps the choice, and so do reload and Back (the preview is a GET).
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    assert form_of(html)["dup-2"] == "new"
    assert form_of(client.get(f"/import/{token}").text)["dup-2"] == "new"
    response = client.post(f"/import/{token}/confirm", data=form, follow_redirects=True)
    assert "Import done: 2 people created." in response.text
    assert "new@example.org" in set(db_session.scalars(sa.select(Person.email)))
    assert people(db_session) == 3


def duplicates_file(count: int) -> bytes:
    return csv_file(*(row(f"Name{n}", "Same", f"new{n}@example.org") for n in range(count)))


def test_enrol_the_existing_person_for_every_possible_duplicate_at_once(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort(capacity=3)
    existing = [
        make.person(first_name=f"Name{n}", last_name="Same", email=f"old{n}@x.org", country="AZ")
        for n in range(4)
    ]
    data = duplicates_file(4) + b"Solo,New,solo@example.org,F,AZ\r\n"
    token = token_of(upload(client, f"/cohorts/{cohort.id}/import", data, "d.csv"))
    form = form_of(client.get(f"/import/{token}").text)
    form.update(dup_all="existing", apply_all="1")
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    chosen = form_of(html)
    for n, person in enumerate(existing):
        assert chosen[f"dup-{n + 2}"] == f"p{person.id}"
    assert "2 will join the waitlist: the cohort is full" in html  # the chosen take seats too
    form = form_of(html)
    response = client.post(f"/import/{token}/confirm", data=form, follow_redirects=True)
    assert (
        "Import done: 1 person created, 4 possible duplicates taken as the existing people, "
        "3 enrolled, 2 waitlisted." in response.text
    )
    assert people(db_session) == 5  # nobody created twice
    enrolled = {e.person_id for e in enrolments(db_session, cohort.id)}
    assert {p.id for p in existing} <= enrolled


def test_skip_all_possible_duplicates_and_create_some(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort()
    for n in range(3):
        make.person(first_name=f"Name{n}", last_name="Same", email=f"old{n}@x.org", country="AZ")
    token = token_of(upload(client, f"/cohorts/{cohort.id}/import", duplicates_file(3), "d.csv"))
    form = form_of(client.get(f"/import/{token}").text)
    form.update(dup_all="skip", apply_all="1")
    form = form_of(client.post(f"/import/{token}", data=form, follow_redirects=True).text)
    form["dup-3"] = "new"
    response = client.post(f"/import/{token}/confirm", data=form, follow_redirects=True)
    assert (
        "Import done: 1 person created, 1 enrolled, 2 possible duplicates skipped." in response.text
    )


def test_a_choice_of_someone_the_row_does_not_match_is_a_skip(ctx: Any, make: Any) -> None:
    make.person(first_name="Ləman", last_name="Əliyeva", email="other@example.org", country="AZ")
    stranger = make.person(first_name="Zaur", last_name="X", email="z@example.org", country="AZ")
    cohort = make.cohort()
    data = csv_file(row("Ləman", "Əliyeva", "leman.new@example.org"))
    summary = services.confirm_import(
        data, "x.csv", actor=None, cohort=cohort, choices={2: f"p{stranger.id}"}
    )
    assert (summary.created, summary.enrolled, summary.skipped_duplicates) == (0, 0, 1)
    assert enrolments(ctx, cohort.id) == []


def test_a_workbook_sheet_can_be_chosen(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Course 1"
    workbook.active.append(HEADER)
    workbook.active.append(row("Ləman", "Əliyeva", "l@example.org"))
    second = workbook.create_sheet("Course 2")
    second.append(["List of participants"])
    second.append(HEADER)
    second.append(row("Иван", "Петров", "i@example.org", "M", "BY"))
    second.append(row("Ольга", "Смирнова", "o@example.org", "F", "BY"))
    out = io.BytesIO()
    workbook.save(out)
    token = token_of(upload(client, "/people/import", out.getvalue(), "two.xlsx"))
    html = client.get(f"/import/{token}").text
    assert '<option selected value="Course 1">Course 1</option>' in html
    assert "Will create: 1<" in html
    form = form_of(html)
    form["sheet"] = "Course 2"
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    assert "Will create: 2<" in html and "Иван" in html
    form = form_of(html)
    form["sheet"] = "Course 2"
    assert client.post(f"/import/{token}/confirm", data=form).status_code == 302
    assert set(db_session.scalars(sa.select(Person.email))) == {"i@example.org", "o@example.org"}


def test_uploads_belong_to_their_uploader_and_expire(
    client: FlaskClient, login: Any, app: Flask, make: Any
) -> None:
    login(Role.COORDINATOR)
    token = token_of(upload(client, "/people/import", read("participants_cp1251.csv"), "c.csv"))
    login(Role.COORDINATOR)  # another coordinator
    assert client.get(f"/import/{token}").status_code == 404
    assert client.post(f"/import/{token}/confirm", data={}).status_code == 404
    assert client.get("/import/not-a-token").status_code == 404
    assert client.get("/import/" + "A" * 32).status_code == 302  # well formed, unknown
    user = login(Role.COORDINATOR)
    old = storage.save_upload(
        b"First name,Last name,Email\nA,B,a@x.org\n", "o.csv", user_id=user.id, cohort_id=None
    )
    db.session.get(PendingUpload, old.token).uploaded_at = old.uploaded_at - timedelta(days=2)
    db.session.commit()
    response = client.get(f"/import/{old.token}")
    assert response.status_code == 302
    assert "expired" in client.get(response.headers["Location"]).text


def test_an_upload_is_purged_after_a_day(db_session: Any, make: Any) -> None:
    user = make.user(Role.COORDINATOR)
    kept = storage.save_upload(b"x", "k.csv", user_id=user.id, cohort_id=None)
    assert storage.purge_expired() == 0
    assert storage.load_upload(kept.token, user.id).data == b"x"
    assert storage.purge_expired(kept.uploaded_at + timedelta(days=1, minutes=1)) == 1
    assert pending_uploads() == 0
    with pytest.raises(DomainError, match="expired"):
        storage.load_upload(kept.token, user.id)


def test_a_confirmed_import_forgets_its_file_and_back_or_reload_say_so(
    client: FlaskClient, coordinator: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort(name="Baku roll-out")
    data = read("participants_cp1251.csv")
    token = token_of(upload(client, f"/cohorts/{cohort.id}/import", data, "c.csv"))
    form = form_of(client.get(f"/import/{token}").text)
    assert client.post(f"/import/{token}/confirm", data=form).status_code == 302
    stored = db.session.get(PendingUpload, token)
    assert (stored.state, stored.data, stored.parsed) == ("imported", b"", None)
    created = people(db_session)
    # Back (the preview again) and reload (the confirmation posted again): the cohort's page
    # says the file was imported; nothing is imported twice.
    for again in (
        lambda: client.get(f"/import/{token}"),
        lambda: client.post(f"/import/{token}/confirm", data=form),
    ):
        response = again()
        assert response.status_code == 302
        assert response.headers["Location"] == f"/cohorts/{cohort.id}"
        page = client.get(response.headers["Location"]).text
        assert "This file was already imported. Import done: 4 people created" in page
        assert "expired" not in page
    assert people(db_session) == created


def pending_uploads() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) or 0


def test_unknown_cohort_is_404(client: FlaskClient, coordinator: Any) -> None:
    assert client.get("/cohorts/999999/import").status_code == 404


ROUTES = [
    ("get", "/people/import"),
    ("post", "/people/import"),
    ("get", "/cohorts/{cohort}/import"),
    ("get", "/import/" + "A" * 32),
    ("post", "/import/" + "A" * 32 + "/confirm"),
    ("get", "/import/template.csv"),
    ("get", "/import/template.xlsx"),
    ("get", "/cohorts/{cohort}/roster.csv"),
    ("get", "/cohorts/{cohort}/roster.xlsx"),
    ("get", "/people/export.csv"),
    ("get", "/people/export.xlsx"),
]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_trainers_and_participants_are_refused(
    client: FlaskClient, login: Any, make: Any, role: Role, method: str, url: str
) -> None:
    login(role)
    cohort = make.cohort()
    response = getattr(client, method)(url.format(cohort=cohort.id))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, make: Any, method: str, url: str
) -> None:
    response = getattr(client, method)(url.format(cohort=make.cohort().id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- the command line ---------------------------------------------------------------------


def test_cli_dry_run_prints_verdicts_and_writes_nothing(
    app: Flask, make: Any, db_session: Any
) -> None:
    cohort = make.cohort()
    result = app.test_cli_runner().invoke(
        args=[
            "import-participants",
            str(DATA / "participants_cp1251.csv"),
            "--cohort",
            str(cohort.id),
            "--dry-run",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "row     2  Will create" in result.output
    assert "Иван Петров <participant11@example.org>" in result.output
    assert "Dry run: nothing was written." in result.output
    assert people(db_session) == 0


def test_cli_imports_and_enrols(app: Flask, make: Any, db_session: Any) -> None:
    cohort = make.cohort()
    result = app.test_cli_runner().invoke(
        args=[
            "import-participants",
            str(DATA / "participants_mmpaf.xlsx"),
            "--cohort",
            str(cohort.id),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Import done: 120 people created, 120 enrolled." in result.output
    assert len(enrolments(db_session, cohort.id)) == 120


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_values.csv", "5 row(s) have errors: nothing was imported."),
        ("duplicate_emails.csv", "2 row(s) have errors"),
        ("formula_injection.csv", "4 row(s) have errors"),
        ("missing_email_column.csv", "No column is mapped to E-mail"),
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "no participants below it"),
        ("not_really.xlsx", "not an Excel workbook"),
    ],
)
def test_cli_exits_non_zero_on_every_broken_file(
    app: Flask, db_session: Any, name: str, message: str
) -> None:
    result = app.test_cli_runner().invoke(args=["import-participants", str(DATA / "broken" / name)])
    assert result.exit_code == 1
    assert message in result.output
    assert people(db_session) == 0


def test_cli_refuses_an_unknown_cohort(app: Flask, db_session: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["import-participants", str(DATA / "participants_cp1251.csv"), "--cohort", "999999"]
    )
    assert result.exit_code == 1
    assert "There is no cohort with id 999999." in result.output


def test_one_word_names_and_joiners_are_kept_and_a_row_without_a_name_is_refused(
    ctx: Any,
) -> None:
    data = csv_file(
        row("", "Suharto", "suharto@example.org"),
        row("Mina", "محمدی\u200cپور", "mina@example.org"),
        row("", "", "nobody@example.org"),
    )
    preview = services.build_preview(data, "x.csv")

    assert verdicts(preview) == {2: Verdict.CREATE, 3: Verdict.CREATE, 4: Verdict.ERROR}
    assert " ".join(preview.rows[2].messages) == "Enter a first name or a last name."
    services.confirm_import(data, "x.csv", actor=None, exclude_errors=True)
    names = {p.email: p.last_name for p in ctx.scalars(sa.select(Person))}
    assert names["suharto@example.org"] == "Suharto"
    assert names["mina@example.org"] == "محمدی\u200cپور"


def test_an_imported_person_gets_the_account_invited_with_their_address(
    ctx: Any, make: Any
) -> None:
    invited = make.user(Role.TRAINER, email="leman@example.org", person=make.person(email=None))
    invited.person = None
    ctx.flush()
    services.confirm_import(
        csv_file(row("Ləman", "Əliyeva", "Leman@Example.org")), "p.csv", actor=None
    )
    person = ctx.scalar(sa.select(Person).where(Person.email == "leman@example.org"))
    ctx.refresh(invited)
    assert invited.person_id == person.id
