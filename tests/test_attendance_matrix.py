"""The rate and hours rules (one computation), the cohort matrix, its filters, its query
bound, who may see it, and its CSV and XLSX exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from openpyxl import load_workbook

from trainingmgr.accounts.models import Role
from trainingmgr.attendance import matrix as matrices
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.summary import SessionFilter, Summary, attendance_summary
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.extensions import db

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
DAY1 = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 09:00 in Baku


def cohort_with(
    make: Any, people: int, sessions: int, hours: int = 2, **cohort_kw: Any
) -> SimpleNamespace:
    """A cohort with ``people`` enrolled and ``sessions`` daily sessions of ``hours`` hours."""
    cohort = make.cohort(**cohort_kw)
    session_list = [
        make.session(
            cohort=cohort,
            starts_at=DAY1 + timedelta(days=i),
            ends_at=DAY1 + timedelta(days=i, hours=hours),
            title=f"Day {i + 1}",
        )
        for i in range(sessions)
    ]
    enrolments = [
        make.enrolment(cohort=cohort, person=make.person(last_name=f"L{i:03d}"))
        for i in range(people)
    ]
    return SimpleNamespace(cohort=cohort, sessions=session_list, enrolments=enrolments)


def mark(make: Any, c: SimpleNamespace, grid: list[str]) -> None:
    """``grid[i]`` gives person i's statuses by session: P, L, E, A or "." (not recorded)."""
    for enrolment, line in zip(c.enrolments, grid, strict=True):
        for session, letter in zip(c.sessions, line, strict=True):
            if letter != ".":
                make.attendance(
                    session, enrolment, AttendanceStatus({"P": P, "L": L, "E": E, "A": A}[letter])
                )


# --------------------------------------------------------------------------- rules


def test_rate_counts_present_and_late_over_held_minus_excused(make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=3, sessions=5)
    mark(make, c, ["PLEA.", "PPPP.", "EEEE."])  # session 5 not held: nothing recorded

    summary = attendance_summary(c.cohort.id)

    s1, s2, s3 = (summary[e.id] for e in c.enrolments)
    assert (s1.held, s1.present, s1.late, s1.excused, s1.absent) == (4, 1, 1, 1, 1)
    assert s1.rate == Decimal(2) / Decimal(3) and s1.rate_pct == 66
    assert s1.hours == Decimal("4.00")  # present + late sessions, 2 h each
    assert (s2.rate, s2.hours) == (Decimal(1), Decimal("8.00"))
    assert (s3.rate, s3.rate_pct, s3.hours) == (None, None, Decimal("0.00"))  # all excused


def test_unrecorded_person_in_a_held_session_counts_as_missed(make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=2, sessions=2)
    mark(make, c, ["PP", "P."])

    summary = attendance_summary(c.cohort.id)

    assert summary[c.enrolments[1].id].held == 2
    assert summary[c.enrolments[1].id].not_recorded == 1
    assert summary[c.enrolments[1].id].rate_pct == 50


def test_nothing_held_gives_no_rate(make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=2, sessions=3)
    summary = attendance_summary(c.cohort.id)
    assert summary[c.enrolments[0].id] == Summary(held=0)
    assert summary[c.enrolments[0].id].rate is None
    assert not summary[c.enrolments[0].id].below(80)


def test_cancelled_sessions_never_count(make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=1, sessions=3)
    mark(make, c, ["PAA"])
    c.sessions[1].status = SessionStatus.CANCELLED
    db.session.flush()

    s = attendance_summary(c.cohort.id)[c.enrolments[0].id]

    assert (s.held, s.absent, s.rate_pct) == (2, 1, 50)


def test_hours_use_each_sessions_length(make: Any, db_session: Any) -> None:
    cohort = make.cohort()
    enrolment = make.enrolment(cohort=cohort)
    long = make.session(
        cohort=cohort, starts_at=DAY1, ends_at=DAY1 + timedelta(hours=3, minutes=30)
    )
    short = make.session(cohort=cohort, starts_at=DAY1 + timedelta(days=1))
    short.ends_at = short.starts_at + timedelta(minutes=45)
    absent = make.session(cohort=cohort, starts_at=DAY1 + timedelta(days=2))
    make.attendance(long, enrolment, L)
    make.attendance(short, enrolment, P)
    make.attendance(absent, enrolment, A)
    db.session.flush()

    s = attendance_summary(cohort.id)[enrolment.id]

    assert s.hours == Decimal("4.25")


def test_below_threshold_uses_exact_fractions(make: Any, db_session: Any) -> None:
    assert Summary(held=5, present=4).below(80) is False  # exactly 80%
    assert Summary(held=6, present=4, late=0, excused=1).below(80) is False  # 4/5
    assert Summary(held=10, present=7, late=0, absent=3).below(80) is True
    assert Summary(held=10, present=7).below(None) is False


def test_summary_for_chosen_enrolments_and_filtered_sessions(make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=2, sessions=4)
    module = make.module(programme=c.cohort.programme)
    c.sessions[0].module_id = module.id
    c.sessions[1].module_id = module.id
    mark(make, c, ["PPAA", "AAPP"])
    withdrawn = c.enrolments[1]
    withdrawn.status = EnrolmentStatus.WITHDRAWN
    db.session.flush()

    default = attendance_summary(c.cohort.id)
    chosen = attendance_summary(c.cohort.id, [withdrawn.id])
    by_module = attendance_summary(c.cohort.id, sessions=SessionFilter(module_id=module.id))
    period = SessionFilter.from_local("Asia/Baku", None, date(2026, 3, 4), date(2026, 3, 5))
    by_period = attendance_summary(c.cohort.id, sessions=period)

    assert list(default) == [c.enrolments[0].id]  # active enrolments only
    assert chosen[withdrawn.id].rate_pct == 50
    assert by_module[c.enrolments[0].id].rate_pct == 100
    assert (by_period[c.enrolments[0].id].held, by_period[c.enrolments[0].id].rate_pct) == (2, 0)


def test_matrix_agrees_with_the_one_summary_rule(make: Any, db_session: Any) -> None:
    """The matrix loads each record once (cells, turnout and rates from one list): its figures
    are those of ``attendance_summary``, with or without filters, and a withdrawn person's
    records still make a session held without showing a row."""
    c = cohort_with(make, people=4, sessions=5, hours=3)
    module = make.module(programme=c.cohort.programme)
    c.sessions[1].module_id = module.id
    c.sessions[4].module_id = module.id
    mark(make, c, ["PLEA.", "AP...", "E.L..", "....P"])
    c.enrolments[3].status = EnrolmentStatus.WITHDRAWN  # the only record of session 5
    db.session.flush()

    for flt in (None, SessionFilter(module_id=module.id)):
        matrix = matrices.attendance_matrix(c.cohort, flt)
        expected = attendance_summary(c.cohort.id, sessions=flt)
        assert {r.enrolment.id: r.summary for r in matrix.rows} == expected
        assert [r.enrolment.id for r in matrix.rows] == [e.id for e in c.enrolments[:3]]
    matrix = matrices.attendance_matrix(c.cohort)
    assert [col.held for col in matrix.columns] == [True, True, True, True, True]
    assert [col.attended for col in matrix.columns] == [1, 2, 1, 0, 0]
    assert matrix.rows[0].cells == [P, L, E, A, None]
    assert matrix.rows[0].summary.hours == Decimal("6.00")


# --------------------------------------------------------------------------- page


def test_matrix_shows_statuses_rates_turnout_and_highlights(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    c = cohort_with(make, people=3, sessions=3, min_attendance_pct=80)
    mark(make, c, ["PPP", "PLA", "E.."])
    login(Role.COORDINATOR)

    page = client.get(f"/cohorts/{c.cohort.id}/attendance").get_data(as_text=True)

    e1, e2, e3 = c.enrolments
    assert f'data-testid="rate-{e1.id}"' in page
    row2 = page[page.index(f'data-testid="matrix-row-{e2.id}"') :]
    row2 = row2[: row2.index("</tr>")]
    assert (
        'class="matrix-below"' in page[page.index(f'data-testid="matrix-row-{e2.id}"') - 40 :][:80]
    )
    assert ">66%<" in row2 and ">4.00<" in row2
    assert 'class="att att-late" title="Late">L<' in row2
    assert 'class="att att-absent" title="Absent">A<' in row2
    row3 = page[page.index(f'data-testid="matrix-row-{e3.id}"') :]
    row3 = row3[: row3.index("</tr>")]
    assert ">0%<" in row3  # 0 of 2 counted
    turnout = page[page.index(f'data-testid="turnout-{c.sessions[1].id}"') :][:200]
    assert ">66%<" in turnout  # 2 of 3 present or late
    assert "Attendance rate = (present + late)" in page
    assert 'data-testid="below-count"' in page


def test_matrix_filters(client: Any, login: Any, make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=1, sessions=4)
    module = make.module(programme=c.cohort.programme, code="IML")
    c.sessions[3].module_id = module.id
    db.session.flush()
    login(Role.COORDINATOR)
    url = f"/cohorts/{c.cohort.id}/attendance"

    def columns(query: str) -> list[int]:
        page = client.get(url + query).get_data(as_text=True)
        return [s.id for s in c.sessions if f'data-testid="session-col-{s.id}"' in page]

    assert columns("") == [s.id for s in c.sessions]
    assert columns(f"?module={module.id}") == [c.sessions[3].id]
    assert columns("?start=2026-03-03&end=2026-03-04") == [c.sessions[1].id, c.sessions[2].id]
    bad = client.get(url + "?start=2026-03-05&end=2026-03-01")
    assert bad.status_code == 200 and "must not be before" in bad.get_data(as_text=True)
    assert client.get(url + "?start=not-a-date").status_code == 200
    assert client.get(url + "?module=abc").status_code == 200


def test_matrix_access(client: Any, login: Any, make: Any, db_session: Any) -> None:
    c = cohort_with(make, people=1, sessions=1)
    own_trainer = make.user(role=Role.TRAINER)
    c.sessions[0].trainers.append(own_trainer.person)
    other_trainer = make.user(role=Role.TRAINER)
    elsewhere = make.session(cohort=make.cohort())
    elsewhere.trainers.append(other_trainer.person)
    participant = make.user(role=Role.PARTICIPANT, person=c.enrolments[0].person)
    db.session.flush()
    url = f"/cohorts/{c.cohort.id}/attendance"

    for user, code in ((own_trainer, 200), (other_trainer, 403), (participant, 403)):
        login(user=user)
        for suffix in ("", ".csv", ".xlsx"):
            assert client.get(url + suffix).status_code == code, (user, suffix)
    login(Role.ADMIN)
    assert client.get(url).status_code == 200
    assert client.get("/cohorts/999999/attendance").status_code == 404


def _matrix_queries(client: Any, make: Any, count_queries: Any, people: int, sessions: int) -> int:
    c = cohort_with(make, people=people, sessions=sessions)
    modules = [make.module(programme=c.cohort.programme) for _ in range(3)]
    for i, session in enumerate(c.sessions):
        session.module_id = modules[i % 3].id
    statuses = [P, L, E, A]
    for i, e in enumerate(c.enrolments):
        for j, session in enumerate(c.sessions):
            make.attendance(session, e, statuses[(i + j) % 4])
    db.session.expire_all()
    with count_queries() as q:
        response = client.get(f"/cohorts/{c.cohort.id}/attendance?start=2026-01-01")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('class="att att-') >= people * sessions
    return q.count


def test_matrix_query_count_is_the_same_for_3x3_and_120x60(
    client: Any, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    small = _matrix_queries(client, make, count_queries, 3, 3)
    big = _matrix_queries(client, make, count_queries, 120, 60)
    assert small == big


# --------------------------------------------------------------------------- exports


def _export_cohort(make: Any) -> SimpleNamespace:
    c = cohort_with(make, people=0, sessions=2, name="MMPAF 2026 / online")
    for first, last, org in (
        ("Ləman", "Əliyeva", '=HYPERLINK("http://evil")'),
        ("Иван", "Петров", "+Ministry"),
    ):
        c.enrolments.append(
            make.enrolment(
                cohort=c.cohort,
                person=make.person(first_name=first, last_name=last, organisation=org),
            )
        )
    mark(make, c, ["PL", "A."])
    return c


def test_csv_export(client: Any, login: Any, make: Any, db_session: Any) -> None:
    c = _export_cohort(make)
    login(Role.COORDINATOR)

    response = client.get(f"/cohorts/{c.cohort.id}/attendance.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="attendance-mmpaf-2026-online.csv"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, aliyeva, petrov, turnout = rows
    assert header[:5] == ["Last name", "First name", "E-mail", "Country", "Organisation"]
    assert header[5] == "Mar 2, 2026, 09:00 Day 1"
    assert header[-6:] == [
        "Sessions held",
        "Attended",
        "Excused",
        "Attendance rate (%)",
        "Hours",
        "Below threshold",
    ]
    assert aliyeva[:2] == ["Əliyeva", "Ləman"]
    assert aliyeva[4] == '\'=HYPERLINK("http://evil")'  # neutralised
    assert aliyeva[5:7] == ["Present", "Late"]
    assert aliyeva[-6:] == ["2", "2", "0", "100", "4.00", "no"]
    assert petrov[4] == "'+Ministry"
    assert petrov[5:7] == ["Absent", ""]
    assert petrov[-3:] == ["0", "0.00", "yes"]
    assert turnout[0] == "Turnout (%)" and turnout[5:7] == ["50", "50"]


def test_xlsx_export(client: Any, login: Any, make: Any, db_session: Any) -> None:
    c = _export_cohort(make)
    login(Role.COORDINATOR)

    response = client.get(f"/cohorts/{c.cohort.id}/attendance.xlsx?module=&start=2026-03-02")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][:2] == ["Əliyeva", "Ləman"]
    assert values[1][4] == '\'=HYPERLINK("http://evil")'
    assert values[1][-3:] == [100, 4.0, "no"]
    assert values[2][-3:] == [0, 0.0, "yes"]
    assert not any(
        cell.data_type == "f" for row in sheet.iter_rows() for cell in row
    )  # no formula anywhere


def test_export_respects_filters(client: Any, login: Any, make: Any, db_session: Any) -> None:
    c = _export_cohort(make)
    login(Role.COORDINATOR)
    body = client.get(f"/cohorts/{c.cohort.id}/attendance.csv?start=2026-03-03").get_data()
    header = next(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[5] == "Mar 3, 2026, 09:00 Day 2" and len(header) == 5 + 1 + 6


def test_a_large_cohort_is_shown_150_people_a_page_with_the_turnout_of_everyone(
    client: Any, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    c = cohort_with(make, people=160, sessions=2)
    mark(make, c, ["P."] * 160)  # everyone present at the first session
    url = f"/cohorts/{c.cohort.id}/attendance"
    client.get(url)  # warm up

    with count_queries() as first_q:
        first = client.get(url).get_data(as_text=True)
    with count_queries() as second_q:
        second = client.get(url + "?page=2").get_data(as_text=True)

    assert first.count('data-testid="matrix-row-') == 150
    assert second.count('data-testid="matrix-row-') == 10
    assert "Showing 1–150 of 160" in first and "Showing 151–160 of 160" in second
    assert f'data-testid="matrix-row-{c.enrolments[-1].id}"' in second  # L159, last by name
    assert f'data-testid="matrix-row-{c.enrolments[-1].id}"' not in first
    day1 = c.sessions[0].id
    for html in (first, second):  # the turnout counts all 160, on every page
        assert f'data-testid="turnout-{day1}"\n    title="160 of 160 present or late">100%<' in html
    assert first_q.count == second_q.count
    # Past the last page: the last page, not an empty table.
    assert client.get(url + "?page=9").get_data(as_text=True).count("matrix-row-") == 10
    # The exports still have everyone.
    assert len(client.get(url + ".csv").get_data(as_text=True).strip().splitlines()) >= 161
