"""Attendance figures: render a 120 x 60 cohort matrix, and save a 120-person roster.

Builds its own data in a scratch SQLite database (or in ``BENCH_DATABASE_URL``, which is
emptied first and afterwards: give it a scratch PostgreSQL database) and prints the median
time of many runs of each full HTTP request, with its number of SQL statements.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from benchmarks import scale

PEOPLE = 120
SESSIONS = 60
RUNS = 21


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def timed(run: Callable[[], Any], before: Callable[[], Any] | None = None) -> tuple[float, int]:
    """Median milliseconds of ``run`` over RUNS runs (after one warm-up), and its statements."""
    times = []
    counter = Counter()
    for i in range(RUNS + 1):
        if before is not None:
            before()
        counter.count = 0
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        started = time.perf_counter()
        run()
        elapsed = time.perf_counter() - started
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        if i:  # the first run warms caches up
            times.append(elapsed * 1000)
    return statistics.median(times), counter.count


def build(db: Any) -> dict[str, Any]:
    from trainingmgr.accounts.models import Role, User, UserRole
    from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
    from trainingmgr.cohorts.models import Cohort, Enrolment, Session
    from trainingmgr.people.models import Person
    from trainingmgr.programmes.models import Module, Programme, ProgrammeKind

    programme = Programme(code="BENCH", title="Benchmark", kind=ProgrammeKind.ONLINE_COURSE)
    modules = [Module(programme=programme, code=f"M{i}", title=f"Module {i}") for i in range(6)]
    cohort = Cohort(
        programme=programme,
        name="Benchmark cohort",
        start_date=date(2026, 1, 5),
        end_date=date(2026, 4, 30),
        timezone="Asia/Baku",
    )
    coordinator = User(
        email="bench@example.org",
        role_rows=[UserRole(role=Role.COORDINATOR)],
        programmes=[programme],  # a coordinator sees only the programmes they coordinate
    )
    db.session.add_all([programme, cohort, coordinator, *modules])
    db.session.flush()
    start = datetime(2026, 1, 5, 5, 0, tzinfo=UTC)
    sessions = [
        Session(
            cohort=cohort,
            module=modules[i % len(modules)],
            title=f"Session {i + 1}",
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=3),
        )
        for i in range(SESSIONS + 1)  # the last one is the roster saved below
    ]
    people = [
        Person(first_name=f"Participant{i}", last_name=f"Əliyeva{i:03d}", email=f"p{i}@example.org")
        for i in range(PEOPLE)
    ]
    db.session.add_all(sessions + people)
    db.session.flush()
    enrolments = [Enrolment(cohort=cohort, person=p) for p in people]
    db.session.add_all(enrolments)
    db.session.flush()
    statuses = list(AttendanceStatus)
    db.session.execute(
        sa.insert(AttendanceRecord),
        [
            {
                "session_id": s.id,
                "enrolment_id": e.id,
                "cohort_id": cohort.id,
                "status": statuses[(i * 7 + j) % 11 % 4],
                "recorded_by_id": coordinator.id,
            }
            for i, e in enumerate(enrolments)
            for j, s in enumerate(sessions[:SESSIONS])
        ],
    )
    db.session.commit()
    return {
        "cohort_id": cohort.id,
        "roster_session_id": sessions[-1].id,
        "enrolment_ids": [e.id for e in enrolments],
        "user_id": coordinator.id,
    }


def roster_form(enrolment_ids: list[int], status: str, loaded: dict[int, Any]) -> dict[str, str]:
    data = {}
    for i, eid in enumerate(enrolment_ids):
        old_status, old_version = loaded.get(eid, ("", 0))
        data[f"rows-{i}-enrolment_id"] = str(eid)
        data[f"rows-{i}-status"] = status
        data[f"rows-{i}-note"] = ""
        data[f"rows-{i}-loaded_status"] = old_status
        data[f"rows-{i}-loaded_note"] = ""
        data[f"rows-{i}-loaded_version"] = str(old_version)
    return data


def main() -> None:
    from trainingmgr import create_app
    from trainingmgr.attendance.models import AttendanceRecord
    from trainingmgr.extensions import db

    tmp = tempfile.mkdtemp(prefix="trainingmgr-bench-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        data = build(db)
    # Each request below pushes its own application context, as in production.
    client = app.test_client()
    scale.sign_in(app, client, "bench@example.org")
    sid = data["roster_session_id"]
    ids = data["enrolment_ids"]

    def get_matrix() -> None:
        response = client.get(f"/cohorts/{data['cohort_id']}/attendance")
        assert response.status_code == 200, response.status_code

    def clear_roster() -> None:
        with app.app_context():
            db.session.execute(
                sa.delete(AttendanceRecord).where(AttendanceRecord.session_id == sid)
            )
            db.session.commit()

    def save(form: dict[str, str]) -> None:
        response = client.post(f"/sessions/{sid}/attendance", data=form)
        assert response.status_code == 302, response.status_code

    def loaded() -> dict[int, Any]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(
                    AttendanceRecord.enrolment_id, AttendanceRecord.status, AttendanceRecord.version
                ).where(AttendanceRecord.session_id == sid)
            )
            return {eid: (str(status), version) for eid, status, version in rows}

    fresh = roster_form(ids, "present", {})
    corrections: dict[str, dict[str, str]] = {}

    def prepare_correction() -> None:
        clear_roster()
        save(fresh)
        corrections["form"] = roster_form(ids, "absent", loaded())

    matrix_ms, matrix_q = timed(get_matrix)
    new_ms, new_q = timed(lambda: save(fresh), before=clear_roster)
    fix_ms, fix_q = timed(lambda: save(corrections["form"]), before=prepare_correction)
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"   database: {url.split(':', 1)[0]}, median of {RUNS} runs per figure")
    print(
        f"   render the {PEOPLE} x {SESSIONS} attendance matrix: {matrix_ms:8.1f} ms, "
        f"{matrix_q} SQL statements"
    )
    print(
        f"   save a {PEOPLE}-person roster (all new):      {new_ms:8.1f} ms, {new_q} SQL statements"
    )
    print(
        f"   save a {PEOPLE}-person roster (all corrected): {fix_ms:8.1f} ms, "
        f"{fix_q} SQL statements"
    )


if __name__ == "__main__":
    main()
