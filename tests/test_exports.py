"""Exports and the template: rosters and the people directory as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DATA
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.imports import services
from trainingmgr.imports.mapping import HEADERS
from trainingmgr.imports.validation import Verdict
from trainingmgr.people.models import Sex

PERSON_HEADERS = list(HEADERS.values())


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def xlsx_sheet(body: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(body)).active


def sheet_xml(body: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


@pytest.fixture
def coordinator(login: Any) -> Any:
    return login(Role.COORDINATOR)


@pytest.fixture
def roster(make: Any) -> Any:
    cohort = make.cohort(name="RTCM roll-out: Baku / 2026", capacity=2)
    people = [
        make.person(
            first_name="Ləman",
            last_name="Əliyeva",
            email="leman@example.org",
            sex=Sex.FEMALE,
            country="AZ",
            organisation="State Migration Service",
            phone="+994 12 345 67 89",
        ),
        make.person(first_name="Иван", last_name="Петров", email="ivan@example.org", country="BY"),
        make.person(
            first_name='=HYPERLINK("http://evil.example")',
            last_name="-2+3",
            email="evil@example.org",
            organisation="@SUM(1+1)",
            position="\tcmd",
        ),
    ]
    make.enrolment(cohort, people[0])
    make.enrolment(cohort, people[1], status=EnrolmentStatus.COMPLETED)
    make.enrolment(cohort, people[2], status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    return cohort


def test_roster_csv_keeps_scripts_and_neutralises_formulas(
    client: FlaskClient, coordinator: Any, roster: Any
) -> None:
    response = client.get(f"/cohorts/{roster.id}/roster.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "filename=rtcm-roll-out-baku-2026-roster.csv" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response.data)
    assert rows[0] == [*PERSON_HEADERS, "Status", "Waitlist position"]
    by_email = {r[2]: r for r in rows[1:]}
    assert by_email["leman@example.org"][:9] == [
        "Ləman",
        "Əliyeva",
        "leman@example.org",
        "female",
        "AZ",
        "State Migration Service",
        "",
        "'+994 12 345 67 89",
        "",
    ]
    assert by_email["leman@example.org"][9:] == ["enrolled", ""]
    assert by_email["ivan@example.org"][:2] == ["Иван", "Петров"]
    assert by_email["ivan@example.org"][9] == "completed"
    evil = by_email["evil@example.org"]
    assert evil[:2] == ['\'=HYPERLINK("http://evil.example")', "'-2+3"]
    assert evil[5:7] == ["'@SUM(1+1)", "'\tcmd"]
    assert evil[9:] == ["waitlisted", "1"]
    # No cell of the file starts with a character a spreadsheet would run.
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_roster_xlsx_stores_formula_like_text_as_text(
    client: FlaskClient, coordinator: Any, roster: Any
) -> None:
    response = client.get(f"/cohorts/{roster.id}/roster.xlsx")
    assert response.status_code == 200
    assert response.mimetype == services.MIME_TYPES["xlsx"]
    ws = xlsx_sheet(response.data)
    assert ws.title == "RTCM roll-out  Baku   2026"
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == [*PERSON_HEADERS, "Status", "Waitlist position"]
    by_email = {r[2]: r for r in rows[1:]}
    assert by_email["ivan@example.org"][:2] == ("Иван", "Петров")
    assert by_email["leman@example.org"][7] == "+994 12 345 67 89"
    evil_row = next(r for r in ws.iter_rows(min_row=2) if r[2].value == "evil@example.org")
    assert evil_row[0].value == '=HYPERLINK("http://evil.example")'
    for cell in (evil_row[0], evil_row[1], evil_row[5]):
        assert cell.data_type == "s"
        assert cell.quotePrefix
    assert "<f>" not in sheet_xml(response.data)  # no formula anywhere in the workbook


def test_roster_export_is_audited(
    client: FlaskClient, coordinator: Any, roster: Any, db_session: Any
) -> None:
    client.get(f"/cohorts/{roster.id}/roster.xlsx")
    event = db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "people.export"))
    assert (event.actor_id, event.object_id) == (coordinator.id, roster.id)
    assert event.changes["rows"] == 3


def test_people_export_follows_the_directory_filters(
    client: FlaskClient, coordinator: Any, roster: Any, make: Any
) -> None:
    make.person(first_name="Old", last_name="Record", email="old@example.org", merged_into_id=None)
    everyone = csv_rows(client.get("/people/export.csv").data)
    emails = {r[2] for r in everyone[1:]}
    assert {"leman@example.org", "ivan@example.org", "old@example.org"} <= emails
    assert everyone[0] == [*PERSON_HEADERS, "Cohorts", "Sessions taught"]
    belarus = csv_rows(client.get("/people/export.csv?country=BY").data)
    assert [r[2] for r in belarus[1:]] == ["ivan@example.org"]
    assert belarus[1][9:] == ["1", "0"]
    found = xlsx_sheet(client.get("/people/export.xlsx?q=petrov").data)
    assert [r[2] for r in found.iter_rows(min_row=2, values_only=True)] == ["ivan@example.org"]


def test_merged_records_are_not_exported(client: FlaskClient, coordinator: Any, make: Any) -> None:
    keep = make.person(email="keep@example.org")
    make.person(email="gone@example.org", merged_into_id=keep.id)
    emails = {r[2] for r in csv_rows(client.get("/people/export.csv").data)[1:]}
    assert "keep@example.org" in emails and "gone@example.org" not in emails


def test_exports_run_a_fixed_number_of_queries(
    client: FlaskClient, coordinator: Any, make: Any, count_queries: Any
) -> None:
    def measure(size: int) -> tuple[int, int]:
        cohort = make.cohort()
        for _ in range(size):
            make.enrolment(cohort, make.person())
        with count_queries() as roster_q:
            assert client.get(f"/cohorts/{cohort.id}/roster.csv").status_code == 200
        with count_queries() as people_q:
            assert client.get("/people/export.xlsx").status_code == 200
        return roster_q.count, people_q.count

    assert measure(3) == measure(120)


@pytest.mark.parametrize(
    "url", ["/cohorts/{id}/roster.pdf", "/people/export.json", "/import/template.ods"]
)
def test_unknown_formats_are_404(
    client: FlaskClient, coordinator: Any, make: Any, url: str
) -> None:
    assert client.get(url.format(id=make.cohort().id)).status_code == 404


def test_unknown_cohort_roster_is_404(client: FlaskClient, coordinator: Any) -> None:
    assert client.get("/cohorts/999999/roster.csv").status_code == 404


# --- the template -------------------------------------------------------------------------


def test_templates_have_the_columns_and_an_example_that_imports(
    client: FlaskClient, coordinator: Any, app: Flask
) -> None:
    as_csv = client.get("/import/template.csv")
    as_xlsx = client.get("/import/template.xlsx")
    assert as_csv.status_code == as_xlsx.status_code == 200
    assert "filename=participants-template.xlsx" in as_xlsx.headers["Content-Disposition"]
    rows = csv_rows(as_csv.data)
    assert rows[0] == PERSON_HEADERS
    assert rows[1][:3] == ["Ləman", "Əliyeva", "leman.aliyeva@example.org"]
    sheet = list(xlsx_sheet(as_xlsx.data).iter_rows(values_only=True))
    assert list(sheet[0]) == PERSON_HEADERS
    assert list(sheet[1]) == rows[1]
    with app.test_request_context():
        for body, name in ((as_csv.data, "t.csv"), (as_xlsx.data, "t.xlsx")):
            preview = services.build_preview(body, name)
            assert preview.mapping == list(HEADERS)
            [result] = preview.rows
            assert result.verdict is Verdict.CREATE
            assert result.values["phone"] == "(+994) 12 345 67 89"
            assert result.values["sex"] is Sex.FEMALE


# --- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(
    client: FlaskClient, coordinator: Any, make: Any, app: Flask, db_session: Any, fmt: str
) -> None:
    cohort = make.cohort()
    source = (DATA / "participants_rtcm_rollout.csv").read_bytes()
    with app.test_request_context():
        services.confirm_import(source, "rtcm.csv", actor=None, cohort=cohort)
    exported = client.get(f"/cohorts/{cohort.id}/roster.{fmt}").data
    with app.test_request_context():
        again = services.build_preview(exported, f"roster.{fmt}", cohort=cohort)
        original = services.build_preview(source, "rtcm.csv")
    # Status and waitlist columns are not person fields: they are left out of the import.
    assert again.mapping[-2:] == [None, None]
    assert len(again.rows) == 35
    assert {r.verdict for r in again.rows} == {Verdict.UNCHANGED}
    exported_values = {r.values["email"]: r.values for r in again.rows}
    for row in original.rows:
        assert exported_values[row.values["email"]] == row.values

    # The people directory's export imports as "no change" too.
    people = client.get(f"/people/export.{fmt}").data
    with app.test_request_context():
        directory = services.build_preview(people, f"people.{fmt}")
    assert {r.verdict for r in directory.rows} == {Verdict.UNCHANGED}


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_exports_are_for_coordinators_only(
    client: FlaskClient, login: Any, make: Any, role: Role
) -> None:
    login(role)
    cohort = make.cohort()
    make.enrolment(cohort, make.person())
    for url in (f"/cohorts/{cohort.id}/roster.csv", "/people/export.xlsx", "/import/template.csv"):
        assert client.get(url).status_code == 403


def test_admins_may_export(client: FlaskClient, login: Any, make: Any) -> None:
    login(Role.ADMIN)
    assert client.get(f"/cohorts/{make.cohort().id}/roster.xlsx").status_code == 200


def test_a_streamed_workbook_opens_with_every_kind_of_value_and_a_frozen_bold_header(
    recwarn: Any,
) -> None:
    from trainingmgr.imports import xlsx

    assert [xlsx.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A", "Z", "AA", "AB", "ZZ", "AAA"
    ]  # fmt: skip
    rows = [
        ["Ləman <Əliyeva> & co", 3, None, "=1+1", "  spaced  ", "bell\x07gone", True, 2.5],
        *([f"row {n}", n] for n in range(600)),  # several pieces of the stream
    ]
    sheet = services.Sheet("People: 2026/27", ["Name", "N"], rows)
    chunks = list(services.xlsx_chunks(sheet))
    assert len(chunks) > 2
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(chunks)))
    ws = workbook.active

    assert ws.title == "People  2026 27"
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["Name", "N", *[None] * 6] and ws["A1"].font.b
    first = [c.value for c in ws[2]]
    assert first == ["Ləman <Əliyeva> & co", 3, None, "=1+1", "  spaced  ", "bellgone", True, 2.5]
    assert ws["D2"].data_type == "s" and ws["D2"].quotePrefix  # never run as a formula
    assert not ws["A2"].quotePrefix
    assert ws.max_row == 602 and ws["A602"].value == "row 599" and ws["B602"].value == 599
    assert not [w for w in recwarn if "openpyxl" in str(w.filename)]


@pytest.mark.parametrize(
    "url",
    [
        "/cohorts/{id}/roster.csv",
        "/people/export.csv",
        "/import/template.csv",
        "/cohorts/{id}/attendance.csv",
        "/audit.csv",
    ],
)
def test_csv_downloads_name_their_charset_once(
    client: FlaskClient, coordinator: Any, roster: Any, url: str
) -> None:
    response = client.get(url.format(id=roster.id))
    assert response.status_code == 200
    assert response.get_data()  # a streamed body is read within the request's context
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
