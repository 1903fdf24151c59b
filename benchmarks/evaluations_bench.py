"""Evaluation figures: a cohort's results page and a programme's summary for reports.

A programme of 20 cohorts of 500 people (10,000 enrolments); each cohort has the default
survey (8 questions) answered by 80% and a 10-question test taken before by everyone and
after by 90%: about 250,000 answers. Builds its data in a scratch SQLite database (or in
``BENCH_DATABASE_URL``, which is emptied first and afterwards: give it a scratch PostgreSQL
database) and prints the median wall and CPU time of many runs, with the SQL statements.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

COHORTS = 20
PEOPLE = 500
TEST_QUESTIONS = 10
RUNS = 11


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def timed(run: Callable[[], Any]) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of ``run`` over RUNS runs (after a warm-up), and its
    statements."""
    wall, cpu = [], []
    counter = Counter()
    for i in range(RUNS + 1):
        counter.count = 0
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        elapsed, elapsed_cpu = time.perf_counter() - started, time.process_time() - started_cpu
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
        if i:
            wall.append(elapsed * 1000)
            cpu.append(elapsed_cpu * 1000)
    return statistics.median(wall), statistics.median(cpu), counter.count


def build(db: Any) -> dict[str, Any]:
    from trainingmgr.accounts.models import Role, User, UserRole
    from trainingmgr.cohorts.models import Cohort, Enrolment
    from trainingmgr.evaluations import services
    from trainingmgr.evaluations.models import (
        Answer,
        EvaluationKind,
        EvaluationResponse,
        EvaluationSubmission,
        Phase,
        QuestionKind,
    )
    from trainingmgr.people.models import Person
    from trainingmgr.programmes.models import Programme, ProgrammeKind

    programme = Programme(code="BENCH", title="Benchmark", kind=ProgrammeKind.ROLLOUT)
    coordinator = User(
        email="bench@example.org",
        role_rows=[UserRole(role=Role.COORDINATOR)],
        programmes=[programme],
    )
    db.session.add_all([programme, coordinator])
    db.session.flush()
    cohort_ids = []
    for c in range(COHORTS):
        cohort = Cohort(
            programme=programme,
            name=f"Cohort {c + 1}",
            start_date=date(2026, 1, 5),
            end_date=date(2026, 1, 16),
            timezone="Asia/Baku",
        )
        db.session.add(cohort)
        db.session.flush()
        cohort_ids.append(cohort.id)
        people = [
            {"first_name": f"P{c}-{i}", "last_name": f"Əliyeva{i:03d}", "email": f"p{c}.{i}@x.org"}
            for i in range(PEOPLE)
        ]
        db.session.execute(sa.insert(Person), people)
        person_ids = db.session.scalars(
            sa.select(Person.id).where(Person.email.like(f"p{c}.%@x.org"))
        ).all()
        db.session.execute(
            sa.insert(Enrolment), [{"cohort_id": cohort.id, "person_id": p} for p in person_ids]
        )
        enrolment_ids = db.session.scalars(
            sa.select(Enrolment.id).where(Enrolment.cohort_id == cohort.id)
        ).all()
        survey = services.create_evaluation(cohort, EvaluationKind.SURVEY, "en", actor=None)
        test = services.create_evaluation(cohort, EvaluationKind.TEST, actor=None)
        for q in range(TEST_QUESTIONS):
            services.add_question(
                test,
                services.QuestionInput(QuestionKind.CHOICE, f"Q{q}?", ["A", "B", "C"], 1 + q % 3),
                actor=None,
            )
        submissions, responses, answers = [], [], []
        for n, enrolment_id in enumerate(enrolment_ids):
            phases = [(test, Phase.PRE)]
            if n % 10:
                phases.append((test, Phase.POST))
            if n % 5:
                phases.append((survey, Phase.SURVEY))
            for evaluation, phase in phases:
                key = secrets.token_hex(16)
                named = phase != Phase.SURVEY
                submissions.append(
                    {"evaluation_id": evaluation.id, "phase": phase, "enrolment_id": enrolment_id}
                )
                response = {
                    "id": key,
                    "evaluation_id": evaluation.id,
                    "phase": phase,
                    "enrolment_id": enrolment_id if named else None,
                    "submitted_at": datetime(2026, 1, 16, tzinfo=UTC) if named else None,
                    "score": 0 if named else None,
                }
                responses.append(response)
                for i, question in enumerate(evaluation.questions):
                    row: dict[str, Any] = {"response_id": key, "question_id": question.id}
                    rating = question.kind == QuestionKind.RATING
                    row["rating"] = (n + i) % 5 + 1 if rating else None
                    row["choice"] = (
                        (n + i + (phase == Phase.POST)) % len(question.options)
                        if question.kind == QuestionKind.CHOICE
                        else None
                    )
                    row["text"] = f"Answer {n}" if question.kind == QuestionKind.TEXT else None
                    answers.append(row)
                    if named and row["choice"] == question.correct:
                        response["score"] += 1
        db.session.execute(sa.insert(EvaluationSubmission), submissions)
        db.session.execute(sa.insert(EvaluationResponse), responses)
        db.session.execute(sa.insert(Answer), answers)
    db.session.commit()
    return {
        "cohort_id": cohort_ids[0],
        "programme_id": programme.id,
        "user_id": coordinator.id,
    }


def main() -> None:
    from trainingmgr import create_app
    from trainingmgr.accounts import sessions
    from trainingmgr.accounts.models import User
    from trainingmgr.evaluations import services
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
        started = time.perf_counter()
        data = build(db)
        print(f"   data built in {time.perf_counter() - started:.1f} s")
        with app.test_request_context():
            session_id = sessions.start(db.session.get(User, data["user_id"]))
            db.session.commit()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = session_id
        sess["_fresh"] = True

    def results_page() -> None:
        response = client.get(f"/cohorts/{data['cohort_id']}/evaluations/results")
        assert response.status_code == 200, response.status_code

    def summary() -> None:
        with app.app_context():
            result = services.programme_summary([data["programme_id"]])
            assert result.paired == COHORTS * PEOPLE * 9 // 10
            db.session.remove()

    page = timed(results_page)
    whole = timed(summary)
    print(
        f"   results page, one cohort of {PEOPLE} (survey and test): "
        f"{page[0]:.0f} ms wall, {page[1]:.0f} ms CPU, {page[2]} statements"
    )
    print(
        f"   programme_summary, {COHORTS} cohorts, {COHORTS * PEOPLE:,} enrolments: "
        f"{whole[0]:.0f} ms wall, {whole[1]:.0f} ms CPU, {whole[2]} statements"
    )
    with app.app_context():
        db.drop_all()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
