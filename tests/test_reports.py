"""Reports (issue 20): the programme dashboard's figures agree with the rosters and the
attendance matrix, its filters and scope, the charts, the donor report (XLSX and PDF) with
the same numbers, the registry of extra sections, and the training-of-trainers cascade."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from trainingmgr.accounts.models import Role
from trainingmgr.attendance import matrix as matrices
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.cohorts.models import DeliveryMode, EnrolmentStatus, SessionStatus
from trainingmgr.extensions import db
from trainingmgr.people.models import Sex
from trainingmgr.programmes import services as programmes
from trainingmgr.programmes.models import PartnerRole, ProgrammeKind
from trainingmgr.reports import aggregates, charts, export, pdf_report, sections, services
from trainingmgr.reports.services import Filters

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
LETTERS = {"P": P, "L": L, "E": E, "A": A}
DAY = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


def sessions(make: Any, cohort: Any, count: int, minutes: int, start: datetime) -> list[Any]:
    return [
        make.session(
            cohort=cohort,
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, minutes=minutes),
            title=f"{cohort.name} day {i + 1}",
        )
        for i in range(count)
    ]


def mark(make: Any, enrolment: Any, session_list: list[Any], line: str) -> None:
    for session, letter in zip(session_list, line, strict=True):
        if letter != ".":
            make.attendance(session, enrolment, LETTERS[letter])


@pytest.fixture
def small(make: Any, db_session: Any) -> SimpleNamespace:
    """Two cohorts of a programme funded by AMIF, one of another programme.

    Cohort A (in person, 2026, threshold 75%): four sessions of 2 h held, a cancelled one
    with records, one not held. Cohort B (online, 2025, threshold 50%): three sessions of
    1 h 30. Ana is in both (counted once as a person); a withdrawn person's records do not
    count.
    """
    prog = make.programme(code="AMIFP", title="Funded programme")
    programmes.add_partner(
        prog, programmes.PartnerInput("AMIF", role=PartnerRole.FUNDER), actor=None
    )
    other = make.programme(code="OTHER", title="Other programme")
    a = make.cohort(
        prog,
        name="Cohort A",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 2) + timedelta(days=60),
        min_attendance_pct=75,
    )
    b = make.cohort(
        prog,
        name="Cohort B",
        start_date=date(2025, 10, 1),
        end_date=date(2025, 10, 10),
        delivery_mode=DeliveryMode.ONLINE,
        min_attendance_pct=50,
    )
    c = make.cohort(
        other,
        name="Cohort C",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 2) + timedelta(days=60),
    )
    sa_ = sessions(make, a, 6, 120, DAY)
    sa_[4].status = SessionStatus.CANCELLED
    sb = sessions(make, b, 3, 90, datetime(2025, 10, 1, 6, 0, tzinfo=UTC))
    sc = sessions(make, c, 2, 60, DAY)
    ana = make.person(first_name="Ana", country="AZ", sex=Sex.FEMALE, organisation="SMS")
    bek = make.person(first_name="Bek", country="KG", sex=Sex.MALE, organisation='=HYPERLINK("x")')
    cem = make.person(first_name="Cem", country="AZ", sex=None, organisation=None)
    dan = make.person(first_name="Dan", country="GE", sex=Sex.MALE)
    wit = make.person(first_name="Wit", country="TR")
    ea = make.enrolment(a, ana, status=EnrolmentStatus.COMPLETED)
    eb = make.enrolment(a, bek, status=EnrolmentStatus.NOT_COMPLETED)
    make.enrolment(a, cem)
    ew = make.enrolment(a, wit, status=EnrolmentStatus.WITHDRAWN)
    mark(make, ea, sa_, "PPLEP.")  # the P of the cancelled session never counts
    mark(make, eb, sa_, "PAAAP.")
    mark(make, ew, sa_, "PPPPP.")
    fa = make.enrolment(b, ana)
    fd = make.enrolment(b, dan)
    mark(make, fa, sb, "PPA")
    mark(make, fd, sb, "EEE")
    gc = make.enrolment(c, make.person(first_name="Outsider", country="TR"))
    mark(make, gc, sc, "PP")
    make.certificate(ea)
    db_session.flush()
    return SimpleNamespace(
        programme=prog, other=other, a=a, b=b, c=c, ana=ana, bek=bek, cem=cem, dan=dan
    )


def matrix_totals(cohorts: list[Any]) -> dict[str, Any]:
    """The same figures through the attendance matrix (the existing computation)."""
    totals: dict[str, Any] = {
        "enrolments": 0,
        "attended": 0,
        "counted": 0,
        "hours": Decimal("0"),
        "enough": 0,
        "delivered": Decimal("0"),
        "people": set(),
    }
    for cohort in cohorts:
        matrix = matrices.attendance_matrix(cohort)
        totals["enrolments"] += matrix.enrolled
        for row in matrix.rows:
            totals["people"].add(row.enrolment.person_id)
            totals["attended"] += row.summary.attended
            totals["counted"] += row.summary.counted
            totals["hours"] += row.summary.hours
            totals["enough"] += row.summary.counted > 0 and not row.below
        totals["delivered"] += sum(
            (c.session.hours for c in matrix.columns if c.held), Decimal("0")
        )
    return totals


# --------------------------------------------------------------------------- figures


def test_figures_agree_with_the_attendance_matrix(small: SimpleNamespace) -> None:
    data = services.dashboard(Filters(programme_id=small.programme.id), None)
    expected = matrix_totals([small.a, small.b])
    t = data.totals
    assert t.enrolments == expected["enrolments"] == 5  # the withdrawn one is not on a roster
    assert t.participants == len(expected["people"]) == 4  # Ana counted once
    assert t.people_trained == 2  # Ana and Bek attended; Cem and Dan never did
    assert (t.attended, t.counted) == (expected["attended"], expected["counted"]) == (6, 14)
    assert t.attendance_rate == Decimal("42.8")  # 6 / 14 = 42.857...%, rounded down
    # Ana 3 x 2 h in A and 2 x 1.5 h in B, Bek 1 x 2 h (his cancelled session not counted)
    assert t.person_hours == expected["hours"] == Decimal("11")
    assert t.hours_delivered == expected["delivered"] == Decimal("12.5")  # 4 x 2 + 3 x 1.5
    assert t.attended_enough == expected["enough"] == 2  # Ana in A (100%) and in B (66%)
    assert (t.completed, t.not_completed, t.completion_rate) == (1, 1, Decimal("50.0"))
    assert t.certified == 1


def test_breakdowns_add_up_and_count_people_once(small: SimpleNamespace) -> None:
    data = services.dashboard(Filters(programme_id=small.programme.id), None)
    country = {g.key: g.figures for g in data.breakdown("country").groups}
    assert {k: f.participants for k, f in country.items()} == {"AZ": 2, "KG": 1, "GE": 1}
    assert country["AZ"].enrolments == 3  # Ana twice, Cem once
    assert [g.label for g in data.breakdown("country").groups][0] == "Azerbaijan (AZ)"
    sex = {g.key: g.figures.participants for g in data.breakdown("sex").groups}
    assert sex == {"female": 1, "male": 2, None: 1}
    assert data.breakdown("sex").groups[-1].label == "Not recorded"
    year = {g.key: g.figures for g in data.breakdown("year").groups}
    assert year[2026].hours_delivered == Decimal("8.00")
    assert year[2025].hours_delivered == Decimal("4.50")
    mode = {g.key: g.figures.enrolments for g in data.breakdown("mode").groups}
    assert mode == {"in_person": 3, "online": 2}
    for breakdown in data.breakdowns:
        assert sum(g.figures.enrolments for g in breakdown.groups) == data.totals.enrolments
        assert sum(g.figures.attended for g in breakdown.groups) == data.totals.attended
        assert sum(g.figures.centi_hours for g in breakdown.groups) == data.totals.centi_hours


def _recount(rows: list[Any], cohorts: dict[int, Any], key: Any) -> dict[Any, tuple[int, ...]]:
    """The figures of each group of raw enrolment rows, worked out in Python."""
    groups: dict[Any, list[Any]] = {}
    for row in rows:
        groups.setdefault(key(row, cohorts[row.cohort_id]), []).append(row)
    return {
        group: (
            len(members),
            len({r.person_id for r in members}),
            len({r.person_id for r in members if r.attended}),
            sum(r.attended for r in members),
            sum(r.held - r.excused for r in members),
            sum(r.attended_enough for r in members),
            sum(r.status == EnrolmentStatus.COMPLETED for r in members),
            sum(r.status == EnrolmentStatus.NOT_COMPLETED for r in members),
            sum(r.certified for r in members),
            sum(r.centi_hours for r in members),
        )
        for group, members in groups.items()
    }


def _shown(figures: Any) -> tuple[int, ...]:
    return (
        figures.enrolments,
        figures.participants,
        figures.people_trained,
        figures.attended,
        figures.counted,
        figures.attended_enough,
        figures.completed,
        figures.not_completed,
        figures.certified,
        figures.centi_hours,
    )


def test_every_group_of_every_breakdown_agrees_with_the_raw_rows(
    small: SimpleNamespace, make: Any, db_session: Any
) -> None:
    """The roll-ups count unique people in different ways for different breakdowns (one row
    per person, one per roster, distinct people): each group's figures equal a recount of the
    report's raw rows. Ana and Bek are in a second 2026 in-person cohort, so a year and a
    delivery mode each hold them twice."""
    second = make.cohort(
        small.programme,
        name="Cohort A2",
        start_date=date(2026, 5, 4),
        end_date=date(2026, 5, 20),
        min_attendance_pct=60,
    )
    held = sessions(make, second, 3, 60, datetime(2026, 5, 4, 6, 0, tzinfo=UTC))
    mark(make, make.enrolment(second, small.ana, status=EnrolmentStatus.COMPLETED), held, "PLP")
    mark(make, make.enrolment(second, small.bek), held, "AAE")
    make.certificate(make.enrolment(second, small.cem))
    db_session.flush()

    data = services.dashboard(Filters(programme_id=small.programme.id), None)
    cohorts = {c.id: c for c in data.cohorts}
    rows = aggregates.enrolment_rows(data)
    keys = {
        "country": lambda r, c: r.country,
        "sex": lambda r, c: r.sex.value if r.sex else None,
        "organisation": lambda r, c: r.organisation,
        "cohort": lambda r, c: c.id,
        "year": lambda r, c: c.start_date.year,
        "mode": lambda r, c: c.mode.value,
    }
    assert _shown(data.totals) == _recount(rows, cohorts, lambda r, c: None)[None]
    year = {g.key: g.figures for g in data.breakdown("year").groups}
    assert (year[2026].enrolments, year[2026].participants) == (6, 3)  # Ana, Bek, Cem in 2026
    for name, key in keys.items():
        expected = _recount(rows, cohorts, key)
        shown = {g.key: _shown(g.figures) for g in data.breakdown(name).groups}
        assert shown == expected, name


def test_attendance_by_session_matches_the_matrix_turnout(small: SimpleNamespace) -> None:
    data = services.dashboard(Filters(cohort_id=small.a.id), None)
    matrix = matrices.attendance_matrix(small.a)
    expected = [matrix.turnout_pct(c) for c in matrix.columns if c.held]
    assert [s.turnout_pct for s in data.sessions or []] == expected == [66, 33, 33, 0]
    chart = charts.by_session(data)
    assert chart is not None and [b.shown for b in chart.bars] == ["66%", "33%", "33%", "0%"]


def test_filters_by_period_funder_and_programme(small: SimpleNamespace) -> None:
    def names(filters: Filters, scope: Any = None) -> list[str]:
        return [c.name for c in services.dashboard(filters, scope).cohorts]

    assert names(Filters()) == ["Cohort B", "Cohort A", "Cohort C"]
    assert names(Filters(start=date(2026, 1, 1))) == ["Cohort A", "Cohort C"]
    assert names(Filters(end=date(2025, 12, 31))) == ["Cohort B"]
    assert names(Filters(funder="AMIF")) == ["Cohort B", "Cohort A"]
    assert names(Filters(funder="Nobody")) == []
    assert names(Filters(), {small.other.id}) == ["Cohort C"]
    data = services.dashboard(Filters(funder="AMIF"), None)
    assert data.funders == ["AMIF"]


def test_the_dashboard_loads_with_a_bounded_number_of_queries(
    small: SimpleNamespace, make: Any, count_queries: Any, client: FlaskClient, login: Any
) -> None:
    login(Role.ADMIN)
    url = f"/reports/?programme={small.programme.id}"

    def count() -> int:
        db.session.expire_all()
        with count_queries() as q:
            response = client.get(url)
        assert response.status_code == 200
        return q.count

    few = count()
    for n in range(3):  # more cohorts, sessions, people and records
        cohort = make.cohort(
            small.programme,
            name=f"More {n}",
            start_date=date(2026, 4, 1),
            end_date=date(2026, 4, 1) + timedelta(days=60),
        )
        session_list = sessions(make, cohort, 3, 60, DAY + timedelta(days=40))
        for i in range(10):
            enrolment = make.enrolment(cohort, make.person(country=["AZ", "GE", "UA"][i % 3]))
            mark(make, enrolment, session_list, "PLA")
    assert count() == few
    with count_queries() as q:
        services.dashboard(Filters(programme_id=small.programme.id), None)
    # Six queries, plus the two SET LOCAL around the roll-up on PostgreSQL.
    assert len([s for s in q.statements if not s.startswith("SET LOCAL")]) <= 6


# --------------------------------------------------------------------------- the page


def test_dashboard_page_shows_figures_charts_and_breakdowns(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.COORDINATOR, programmes=[small.programme])
    page = client.get(f"/reports/?cohort={small.a.id}")
    assert page.status_code == 200
    html = page.text
    assert 'data-figure="people_trained"' in html
    assert "Reports" in html and 'href="/reports/"' in html  # the navigation entry
    for key in ("country", "sex", "funnel", "sessions"):
        assert f'data-testid="chart-{key}"' in html
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 4
    for svg in svgs:
        assert "<title" in svg and "<desc" in svg and 'role="img"' in svg
        assert "style=" not in svg and "<script" not in svg
    assert "Cohort C" not in html and "Other programme" not in html  # not theirs
    assert "Azerbaijan (AZ)" in html and "By institution" in html
    # Counts in the plural form of their number ("in 1 cohorts" before).
    assert "in 1 cohort<" in html
    assert "each of the 4 sessions held; the lowest was" in html
    both = client.get(f"/reports/?programme={small.programme.id}").text
    assert "in 2 cohorts<" in both


def test_bad_filters_get_a_message_and_other_programmes_are_not_found(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.COORDINATOR, programmes=[small.programme])
    assert client.get(f"/reports/?programme={small.other.id}").status_code == 404
    assert client.get(f"/reports/report.pdf?programme={small.other.id}").status_code == 404
    # Only the spreadsheet and the PDF exist.
    assert client.get(f"/reports/report.docx?programme={small.programme.id}").status_code == 404
    page = client.get(f"/reports/?cohort={small.c.id}")
    assert page.status_code == 200
    assert "Choose one of the cohorts of the list." in page.text
    assert "Cohort C" not in page.text
    page = client.get("/reports/?start=2026-05-01&end=2026-01-01&programme=abc&funder=Zed")
    assert page.status_code == 200
    assert "The end of the period must not be before its start." in page.text
    assert "Choose one of the funders of the list." in page.text


def test_only_coordinators_and_administrators_see_reports(
    small: SimpleNamespace, client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.TRAINER)
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/cohorts/{small.a.id}/cascade").status_code == 403
    assert 'href="/reports/"' not in client.get("/trainer").text
    login(Role.ADMIN)
    html = client.get("/reports/").text
    assert "Cohort C" in html or "OTHER" in html


# --------------------------------------------------------------------------- the report


def test_xlsx_has_a_sheet_per_breakdown_the_raw_rows_and_the_same_numbers(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.ADMIN)
    response = client.get(f"/reports/report.xlsx?programme={small.programme.id}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "Summary",
        "By country",
        "By sex",
        "By institution",
        "By cohort",
        "By year",
        "By delivery mode",
        "Attendance by session",
        "Rows",
    ]
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["People trained"] == 2
    assert summary["Participants"] == 4
    assert summary["Attendance rate (%)"] == pytest.approx(42.8)
    assert summary["Hours delivered"] == pytest.approx(12.5)
    assert summary["Person-hours received"] == pytest.approx(11)
    country = list(book["By country"].iter_rows(values_only=True))
    assert country[0][:4] == ("Group", "Participants", "People trained", "Enrolments")
    assert country[1][:4] == ("Azerbaijan (AZ)", 2, 1, 3)
    rows = list(book["Rows"].iter_rows(values_only=True))
    assert len(rows) == 1 + 5  # one per enrolment on a roster
    assert "Ana" not in str(rows)  # no names in the raw rows
    institutions = [r[0] for r in book["By institution"].iter_rows(values_only=True)]
    assert '\'=HYPERLINK("x")' in institutions  # a formula is neutralised


def test_the_raw_rows_round_attendance_rates_down_as_every_other_figure(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    """Ana attended 2 of 3 sessions of cohort B: 66.6% in the rows as in the breakdowns,
    never 66.7% (and 79.96% never 80.0% next to "attended enough: no")."""
    login(Role.ADMIN)
    response = client.get(f"/reports/report.xlsx?programme={small.programme.id}")
    book = load_workbook(io.BytesIO(response.data))
    header, *rows = book["Rows"].iter_rows(values_only=True)
    rate = header.index("Attendance rate (%)")
    anas = [r for r in rows if r[1] == "Cohort B" and r[4] == "AZ"]
    assert [r[rate] for r in anas] == [pytest.approx(66.6)]
    by_cohort = {r[0]: r for r in book["By cohort"].iter_rows(values_only=True)}
    assert by_cohort["AMIFP · Cohort B"][4] == pytest.approx(66.6)  # Dan was excused


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_report_has_the_dashboards_numbers_in_the_chosen_language(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.ADMIN)
    small.cem.organisation = "Министерство внутренних дел"
    db.session.flush()
    response = client.get(f"/reports/report.pdf?programme={small.programme.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Donor report" in text and "AMIFP — Funded programme" in text
    assert "Funders: AMIF" in text
    assert "42.8%" in text and "12.5" in text
    assert "Participants by country" in text and "Completion funnel" in text
    assert "Министерство внутренних дел" in text  # any script prints
    russian = pdf_text(
        client.get(f"/reports/report.pdf?programme={small.programme.id}&lang=ru").data
    )
    assert "42,8%" in russian  # Russian number format
    assert "Азербайджан (AZ)" in russian and "Женский" in russian


def test_registered_sections_show_on_the_dashboard_and_in_both_reports(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    seen: list[sections.Selection] = []

    def build(selection: sections.Selection) -> sections.Content:
        seen.append(selection)
        return sections.Content(
            title="Evaluations (test)",
            figures=[("Response rate", "87.5%")],
            tables=[
                sections.Table("Averages per question", ["Question", "Average"], [["Q1", 4.5]])
            ],
        )

    sections.register(sections.Section("test-evaluations", build))
    try:
        login(Role.ADMIN)
        query = f"?programme={small.programme.id}"
        html = client.get(f"/reports/{query}").text
        assert "Evaluations (test)" in html and "87.5%" in html and "Averages per question" in html
        assert set(seen[-1].cohort_ids) == {small.a.id, small.b.id}
        book = load_workbook(io.BytesIO(client.get(f"/reports/report.xlsx{query}").data))
        assert "Averages per question" in book.sheetnames
        assert "Evaluations (test)" in pdf_text(client.get(f"/reports/report.pdf{query}").data)
    finally:
        sections.unregister("test-evaluations")


# --------------------------------------------------------------------------- the cascade


def teach(make: Any, cohort: Any, person: Any) -> Any:
    session = make.session(cohort)
    session.trainers.append(person)
    db.session.flush()
    return session


@pytest.fixture
def tot(make: Any, db_session: Any) -> SimpleNamespace:
    """A ToT with three kinds of participants, two roll-outs (one linked as parent, one only
    through a graduate teaching it), a roll-out of a roll-out, and a cohort taught by a
    graduate before the ToT (not a roll-out)."""
    tot_programme = make.programme(code="TOTP", kind=ProgrammeKind.TRAINING_OF_TRAINERS)
    ro_programme = make.programme(code="ROP", kind=ProgrammeKind.ROLLOUT)
    far_programme = make.programme(code="FARP", kind=ProgrammeKind.ROLLOUT)
    t = make.cohort(
        tot_programme,
        name="The ToT",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 2) + timedelta(days=60),
    )
    g1, g2, g3 = (make.person(first_name=n, country="AZ") for n in ("Gul", "Gia", "Gus"))
    make.enrolment(t, g1, status=EnrolmentStatus.COMPLETED)
    e2 = make.enrolment(t, g2)
    make.certificate(e2)  # certified: a graduate too
    make.enrolment(t, g3, status=EnrolmentStatus.NOT_COMPLETED)
    r1 = make.cohort(
        ro_programme,
        name="Roll-out one",
        start_date=date(2026, 5, 4),
        end_date=date(2026, 5, 4) + timedelta(days=60),
        parent_cohort_id=t.id,
        country="AZ",
    )
    r2 = make.cohort(
        far_programme,
        name="Roll-out two",
        start_date=date(2026, 6, 1),
        end_date=date(2026, 6, 1) + timedelta(days=60),
    )
    before = make.cohort(
        ro_programme,
        name="Before the ToT",
        start_date=date(2025, 1, 6),
        end_date=date(2025, 1, 6) + timedelta(days=60),
    )
    teach(make, r1, g1)
    teach(make, r2, g2)
    teach(make, before, g2)
    teach(make, r1, g3)  # not a graduate: not listed as its trainer
    x1, h1 = (
        make.person(first_name="Xia", country="AZ"),
        make.person(first_name="Hal", country="AZ"),
    )
    x2, x3 = (
        make.person(first_name="Xan", country="KG"),
        make.person(first_name="Xet", country="GE"),
    )
    y1 = make.person(first_name="Yul", country="TR")
    for person in (x1, x2):
        make.enrolment(r1, person)
    make.enrolment(r1, h1, status=EnrolmentStatus.COMPLETED)
    make.enrolment(r1, make.person(first_name="Wal"), status=EnrolmentStatus.WITHDRAWN)
    make.enrolment(r2, x1)
    make.enrolment(r2, x3)
    make.enrolment(before, make.person(first_name="Early"))
    r3 = make.cohort(
        ro_programme,
        name="Second generation",
        start_date=date(2026, 9, 7),
        end_date=date(2026, 9, 7) + timedelta(days=60),
    )
    teach(make, r3, h1)
    make.enrolment(r3, x1)
    make.enrolment(r3, y1)
    db_session.flush()
    return SimpleNamespace(
        t=t,
        r1=r1,
        r2=r2,
        r3=r3,
        tot_programme=tot_programme,
        ro_programme=ro_programme,
        far_programme=far_programme,
    )


def test_cascade_follows_parent_links_and_graduates_teaching(tot: SimpleNamespace) -> None:
    from trainingmgr.reports.cascade import cascade

    result = cascade(tot.t.id, None)
    assert [g.name for g in result.graduates] == ["Gia Person", "Gul Person"]
    assert {g.name: g.taught for g in result.graduates} == {
        "Gia Person": ["Roll-out two"],
        "Gul Person": ["Roll-out one"],
    }
    assert [(n.name, n.level) for n in result.rollouts] == [
        ("Roll-out one", 1),
        ("Second generation", 2),
        ("Roll-out two", 1),
    ]
    one = result.rollouts[0]
    assert one.trainers == ["Gul Person"] and one.reached == 3 and one.graduates == 1
    assert (result.direct, result.indirect, result.total) == (4, 1, 5)
    assert {(c.code, c.direct, c.indirect) for c in result.countries} == {
        ("AZ", 2, 0),
        ("KG", 1, 0),
        ("GE", 1, 0),
        ("TR", 0, 1),
    }
    assert result.hidden == 0


def test_cascade_shows_only_the_viewers_programmes(
    tot: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.COORDINATOR, programmes=[tot.tot_programme, tot.ro_programme])
    page = client.get(f"/reports/cohorts/{tot.t.id}/cascade")
    assert page.status_code == 200
    html = page.text
    assert "Roll-out one" in html and "Second generation" in html
    assert "Roll-out two" not in html  # another coordinator's programme
    assert "1 more roll-out cohort belongs to a programme you do not coordinate" in html
    tree = re.search(r"<svg.*?</svg>", html, re.S)
    assert tree and "<title" in tree.group(0) and "style=" not in tree.group(0)
    login(Role.COORDINATOR, programmes=[tot.ro_programme])
    assert client.get(f"/reports/cohorts/{tot.t.id}/cascade").status_code == 404


def test_demo_baku_tot_cascade_and_figures(
    app: Any, db_session: Any, client: FlaskClient, login: Any
) -> None:
    """On the demo: the Baku ToT's graduates teach the Baku and Bishkek roll-outs, which
    name it as their ToT; and its dashboard agrees with its attendance matrix."""
    from tests.test_demo import cohort as demo_cohort
    from trainingmgr import demo
    from trainingmgr.reports.cascade import cascade

    demo.load(now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    baku_tot = demo_cohort("RTCM-TOT", "Baku ToT")
    result = cascade(baku_tot.id, None)
    assert sorted(n.name for n in result.rollouts) == [
        "Azerbaijan: Baku (in Azerbaijani)",
        "Kyrgyzstan: Bishkek (in Russian)",
    ]
    baku = next(n for n in result.rollouts if n.name.startswith("Azerbaijan"))
    assert "Elvin Quliyev" in baku.trainers
    assert {c.code: c.direct for c in result.countries} == {"AZ": 20, "KG": 20}
    assert result.direct == 40 and result.indirect == 0
    taught = {g.name: g.taught for g in result.graduates}
    assert taught["Elvin Quliyev"] == ["Azerbaijan: Baku (in Azerbaijani)"]

    data = services.dashboard(Filters(cohort_id=baku_tot.id), None)
    expected = matrix_totals([baku_tot])
    assert data.totals.enrolments == expected["enrolments"] == 24
    assert (data.totals.attended, data.totals.counted) == (
        expected["attended"],
        expected["counted"],
    )
    assert data.totals.person_hours == expected["hours"]
    assert data.totals.attended_enough == expected["enough"]
    login(Role.ADMIN)
    html = client.get(f"/reports/cohorts/{baku_tot.id}/cascade").text
    assert "Kyrgyzstan: Bishkek (in Russian)" in html and "Айгүл Осмонова" in html
    graduates = re.search(r'data-testid="cascade-graduates".*?</table>', html, re.S)
    assert graduates and "<td>Azerbaijan</td>" in graduates.group(0)  # names, not "AZ"
    text = pdf_text(pdf_report.pdf(data))
    assert services.fmt_value(data.totals.person_hours, "hours") in text


def test_an_empty_selection_still_gives_a_page_and_both_reports(
    small: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.ADMIN)
    query = "?start=2031-01-01"
    page = client.get(f"/reports/{query}")
    assert page.status_code == 200
    assert "No cohort matches these filters." in page.text
    assert client.get(f"/reports/report.xlsx{query}").status_code == 200
    text = pdf_text(client.get(f"/reports/report.pdf{query}").data)
    assert "Key figures" in text and "Cohorts starting from Jan 1, 2031" in text
    assert "No cohort matches these filters." in text
    assert "By country" not in text and "Charts" not in text  # no empty tables or charts


def test_cohorts_with_no_session_held_say_so(make: Any, client: FlaskClient, login: Any) -> None:
    cohort = make.cohort(make.programme(code="NEW"), name="Starts next month")
    make.session(cohort=cohort)  # scheduled, no attendance recorded
    make.enrolment(cohort)
    login(Role.ADMIN)
    note = "No session of these cohorts has been held yet"
    assert note in client.get(f"/reports/?cohort={cohort.id}").text
    assert note in pdf_text(client.get(f"/reports/report.pdf?cohort={cohort.id}").data)


def test_the_dashboard_and_reports_sum_up_the_cascades_of_the_tots_shown(
    tot: SimpleNamespace, client: FlaskClient, login: Any
) -> None:
    login(Role.COORDINATOR, programmes=[tot.tot_programme, tot.ro_programme])
    query = f"?programme={tot.tot_programme.id}"
    html = client.get(f"/reports/{query}").text
    row = re.search(r"<th scope=\"row\" class=\"fw-normal\">The ToT</th>(.*?)</tr>", html, re.S)
    assert row is not None
    # 2 graduates, 2 roll-outs in the coordinator's programmes, 3 reached directly, 1 not
    assert re.findall(r">(\d+)<", row.group(1)) == ["2", "2", "3", "1", "4"]
    assert "Roll-out two" not in html
    book = load_workbook(io.BytesIO(client.get(f"/reports/report.xlsx{query}").data))
    cascades = list(book["Cascades"].iter_rows(values_only=True))
    assert cascades[1] == ("The ToT", 2, 2, 3, 1, 4)
    login(Role.ADMIN)
    text = pdf_text(client.get(f"/reports/report.pdf{query}").data)
    assert "Training of trainers: cascades" in text and "People reached by country" in text


@pytest.mark.parametrize("language", ["en", "ru", "az"])
def test_the_pdf_tables_headers_fit_their_columns(
    small: SimpleNamespace, app: Any, language: str
) -> None:
    """Every line of every header label fits its column at the header's size (a long word
    is cut with a hyphen): in Russian "Достаточная посещаемость" ran into the next column."""
    from flask_babel import force_locale
    from reportlab.lib.pagesizes import A4

    from trainingmgr.certificates.pdf import register_fonts, text_width

    register_fonts()
    with app.test_request_context(), force_locale(language):
        data = services.dashboard(Filters(), None)
        tables = [*export.breakdown_tables(data), export.session_table(data)]
        for table in filter(None, tables):
            widths = pdf_report.column_widths(len(table.header), A4[0] - 2 * pdf_report.MARGIN)
            size, labels = pdf_report.header_layout(table.header, widths)
            for lines, width in zip(labels, widths, strict=True):
                for line in lines:
                    assert text_width(line, "bold", size) <= width - 6, line
                    assert not line.endswith("--") and len(line.strip("-")) >= 3, line
            for row in table.rows:  # a long name on two lines, none drawn below 6 pt
                for line in pdf_report.name_lines(row[0], widths[0] - 6):
                    assert text_width(line, "regular", 7) <= (widths[0] - 6) * 7 / 6, line


def test_a_16_bit_greyscale_logo_prints_in_its_shade_in_the_donor_report(
    app: Any, tmp_path: Any
) -> None:
    from PIL import Image

    from tests.test_certificates_pdf import rasterise

    logo = io.BytesIO()
    Image.new("I;16", (300, 150), 0x3000).save(logo, "PNG")  # a dark grey, 16 bits
    document = pdf_report._Pdf("Report")  # noqa: SLF001
    width = document.logo(logo.getvalue())
    page = rasterise(document.save(), tmp_path, dpi=72).convert("L")
    x = round(document.width - pdf_report.MARGIN - width / 2)
    y = round(pdf_report.MARGIN + 10)  # inside the logo, drawn from the top right
    assert width > 0 and 30 <= page.getpixel((x, y)) <= 70  # white before
