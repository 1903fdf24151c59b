"""Evaluations (issue 20): surveys and knowledge tests set up by coordinators, answered once by
participants from their home page, their results, exports and the completion rule."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from openpyxl import load_workbook

from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.evaluations import services
from trainingmgr.evaluations.defaults import SURVEY_TEMPLATE
from trainingmgr.evaluations.models import (
    Answer,
    Evaluation,
    EvaluationKind,
    EvaluationResponse,
    EvaluationSubmission,
    Phase,
    Question,
    QuestionKind,
)
from trainingmgr.extensions import db


@pytest.fixture(autouse=True)
def _database(db_session: Any) -> Any:
    return db_session


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _rows() -> dict[str, int]:
    """How many rows each evaluation table holds ("nothing written" is compared with it)."""
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (Evaluation, Question, EvaluationSubmission, EvaluationResponse, Answer)
    }


def _open(evaluation: Evaluation, *, pre: bool = False) -> Evaluation:
    now = _now()
    if pre:
        evaluation.pre_opens_at, evaluation.pre_closes_at = (
            now - timedelta(hours=2),
            now + (timedelta(hours=2)),
        )
        evaluation.opens_at, evaluation.closes_at = now + timedelta(days=5), now + timedelta(days=6)
    else:
        evaluation.opens_at, evaluation.closes_at = (
            now - timedelta(hours=1),
            now + timedelta(days=2),
        )
    db.session.flush()
    return evaluation


def _participant(make: Any, cohort: Cohort, **kw: Any) -> tuple[User, Enrolment]:
    user = make.user(Role.PARTICIPANT, **kw)
    enrolment = make.enrolment(cohort, user.person)
    return user, enrolment


def _survey(make: Any, cohort: Cohort | None = None, anonymous: bool = False) -> Evaluation:
    cohort = cohort or make.cohort()
    survey = services.create_evaluation(cohort, EvaluationKind.SURVEY, "en", actor=None)
    survey.anonymous = anonymous
    return _open(survey)


def _test(make: Any, cohort: Cohort) -> Evaluation:
    test = services.create_evaluation(cohort, EvaluationKind.TEST, actor=None)
    for text, options, correct in (
        ("Which body adopted the 1951 Convention?", ["UN", "EU", "OSCE"], 1),
        ("What does readmission concern?", ["Visas", "Return of nationals"], 2),
    ):
        services.add_question(
            test, services.QuestionInput(QuestionKind.CHOICE, text, options, correct), actor=None
        )
    return test


def _answers(evaluation: Evaluation, *values: Any) -> dict[str, Any]:
    return {f"q{q.id}": v for q, v in zip(evaluation.questions, values, strict=False)}


def _submit(evaluation: Evaluation, enrolment: Enrolment, phase: Phase, *values: Any) -> None:
    sheet = services.answer_sheet(enrolment.person_id, enrolment.cohort_id, phase)
    services.submit(sheet, _answers(evaluation, *values))


# Template: 4 ratings, 2 choices, 2 free texts.
FULL = (5, 4, 4, 3, "0", "1", "The case studies", "")


# --------------------------------------------------------------------------- set-up


def test_a_coordinator_adds_the_default_survey_in_the_cohorts_language(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login()
    cohort = make.cohort(language="ru")
    page = client.get(f"/cohorts/{cohort.id}/evaluations")
    assert page.status_code == 200
    assert 'selected value="ru"' in page.text  # the cohort's language is offered first

    response = client.post(
        f"/cohorts/{cohort.id}/evaluations/survey/create",
        data={"template": "ru"},
        follow_redirects=True,
    )
    assert "The survey was added." in response.text
    assert "В целом, насколько вы удовлетворены курсом?" in response.text
    survey = services.get_evaluation(cohort.id, EvaluationKind.SURVEY)
    assert [q.text for q in survey.questions] == [q.text for q in SURVEY_TEMPLATE["ru"]]
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "evaluation.create")
    )

    before = _rows()
    again = client.post(
        f"/cohorts/{cohort.id}/evaluations/survey/create",
        data={"template": "en"},
        follow_redirects=True,
    )
    assert "This cohort already has the end-of-course survey." in again.text
    assert _rows() == before


def test_the_template_exists_in_three_languages_with_the_same_questions() -> None:
    shapes = {
        language: [(q.kind, len(q.options), q.required) for q in questions]
        for language, questions in SURVEY_TEMPLATE.items()
    }
    assert set(shapes) == {"en", "ru", "az"}
    assert shapes["en"] == shapes["ru"] == shapes["az"]
    assert "Ümumilikdə kursdan nə dərəcədə razısınız?" in [q.text for q in SURVEY_TEMPLATE["az"]]


def test_questions_are_added_edited_reordered_and_removed(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login()
    cohort = make.cohort()
    client.post(f"/cohorts/{cohort.id}/evaluations/survey/create", data={"template": ""})
    url = f"/cohorts/{cohort.id}/evaluations/survey"
    assert "No questions yet" in client.get(url).text

    client.post(f"{url}/questions", data={"kind": "rating", "text": "How useful was it?"})
    client.post(
        f"{url}/questions",
        data={"kind": "choice", "text": "Which day?", "options": "Monday\n\nTuesday\n"},
    )
    survey = services.get_evaluation(cohort.id, EvaluationKind.SURVEY)
    first, second = survey.questions
    assert second.options == ["Monday", "Tuesday"]  # empty lines dropped

    client.post(f"/evaluation-questions/{second.id}/move/up")
    db.session.expire_all()
    assert [
        q.text for q in services.get_evaluation(cohort.id, EvaluationKind.SURVEY).questions
    ] == [
        "Which day?",
        "How useful was it?",
    ]
    page = client.get(url).text
    assert page.index("Which day?") < page.index("How useful was it?")

    edited = client.post(
        f"/evaluation-questions/{first.id}",
        data={"kind": "rating", "text": "How useful was the course?"},
        follow_redirects=True,
    )
    assert "The question was saved." in edited.text
    assert "How useful was the course?" in edited.text

    removed = client.post(f"/evaluation-questions/{second.id}/delete", follow_redirects=True)
    assert "The question was removed." in removed.text
    assert "Which day?" not in removed.text


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("survey", {"kind": "choice", "text": "Which?", "options": "Only one"}, "at least two"),
        ("survey", {"kind": "choice", "text": "Which?", "options": "A\na"}, "are the same"),
        ("survey", {"kind": "rating", "text": "   "}, "Write the question."),
        ("test", {"kind": "choice", "text": "Q?", "options": "A\nB"}, "number of the correct"),
        ("test", {"kind": "choice", "text": "Q?", "options": "A\nB", "correct": "3"}, "1 to 2"),
        ("test", {"kind": "rating", "text": "Q?"}, "Not a valid choice"),
    ],
)
def test_bad_questions_get_a_message_and_write_nothing(
    client: FlaskClient, login: Any, make: Any, kind: str, data: dict[str, str], message: str
) -> None:
    login()
    cohort = make.cohort()
    services.create_evaluation(cohort, EvaluationKind(kind), actor=None)
    before = _rows()
    response = client.post(f"/cohorts/{cohort.id}/evaluations/{kind}/questions", data=data)
    assert response.status_code == 200
    assert message in response.text
    assert _rows() == before


def test_windows_are_entered_in_the_cohorts_time_zone(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login()
    cohort = make.cohort(timezone="Asia/Baku")  # UTC+4
    test = services.create_evaluation(cohort, EvaluationKind.TEST, actor=None)
    url = f"/cohorts/{cohort.id}/evaluations/test"
    response = client.post(
        url,
        data={
            "pre_opens_at": "2026-03-02T08:00",
            "pre_closes_at": "2026-03-02T10:00",
            "opens_at": "2026-03-13T14:00",
            "closes_at": "2026-03-14T18:00",
        },
        follow_redirects=True,
    )
    assert "The settings were saved." in response.text
    assert test.pre_opens_at == datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    assert test.closes_at == datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    assert 'value="2026-03-13T14:00"' in response.text  # shown back in Baku time

    before = _rows()
    bad = client.post(
        url,
        data={"opens_at": "2026-03-13T14:00", "closes_at": "2026-03-13T09:00"},
    )
    assert "The closing time must be after the opening time." in bad.text
    overlap = client.post(
        url,
        data={
            "pre_opens_at": "2026-03-02T08:00",
            "pre_closes_at": "2026-03-14T10:00",
            "opens_at": "2026-03-13T14:00",
            "closes_at": "2026-03-14T18:00",
        },
    )
    assert "must close before the test after it opens" in overlap.text
    half = client.post(url, data={"opens_at": "2026-03-13T14:00"})
    assert "Enter when answers close" in half.text
    db.session.expire_all()
    assert test.closes_at == datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    assert _rows() == before


def test_a_test_cannot_be_anonymous_or_required(make: Any) -> None:
    test = services.create_evaluation(make.cohort(), EvaluationKind.TEST, actor=None)
    with pytest.raises(DomainError, match="Only the survey"):
        services.update_settings(test, services.SettingsInput(anonymous=True), actor=None)


# --------------------------------------------------------------------------- answering


def test_a_participant_answers_the_open_survey_from_their_home_page_once(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort)
    user, enrolment = _participant(make, cohort)
    login(user=user)

    home = client.get("/me").text
    assert "Answer the end-of-course survey" in home
    url = f"/me/evaluations/{cohort.id}/survey"
    form = client.get(url)
    assert form.status_code == 200
    assert "Overall, how satisfied are you with the course?" in form.text

    done = client.post(url, data=_answers(survey, *FULL), follow_redirects=True)
    assert "Thank you: your answers were recorded." in done.text
    assert "Answer the end-of-course survey" not in done.text
    assert "answered, thank you." in done.text
    response = db.session.scalars(sa.select(EvaluationResponse)).one()
    assert response.enrolment_id == enrolment.id  # a named survey
    assert {a.question_id: (a.rating, a.choice, a.text) for a in response.answers}[
        survey.questions[0].id
    ] == (5, None, None)

    before = _rows()
    again = client.post(url, data=_answers(survey, *FULL), follow_redirects=True)
    assert "You have already answered. Thank you!" in again.text
    assert _rows() == before


def test_missing_or_invalid_answers_are_shown_and_nothing_is_written(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort)
    user, _enrolment = _participant(make, cohort)
    login(user=user)
    before = _rows()
    values = _answers(survey, *FULL)
    values[f"q{survey.questions[0].id}"] = "9"  # not on the scale
    del values[f"q{survey.questions[4].id}"]  # a required choice left out
    response = client.post(f"/me/evaluations/{cohort.id}/survey", data=values)
    assert response.status_code == 200
    assert "Some questions still need an answer" in response.text
    assert "Choose one of the answers offered." in response.text
    assert "Answer this question." in response.text
    assert re.search(r'<input [^>]*checked [^>]*value="4">', response.text)
    assert _rows() == before


def test_only_open_windows_and_enrolled_participants_may_answer(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort)
    user, enrolment = _participant(make, cohort)
    login(user=user)
    url = f"/me/evaluations/{cohort.id}/survey"

    survey.opens_at, survey.closes_at = _now() + timedelta(days=1), _now() + timedelta(days=2)
    db.session.flush()
    assert "opens" in client.get("/me").text
    refused = client.get(url, follow_redirects=True)
    assert "This opens on" in refused.text
    survey.opens_at, survey.closes_at = _now() - timedelta(days=2), _now() - timedelta(days=1)
    db.session.flush()
    before = _rows()
    closed = client.post(url, data=_answers(survey, *FULL), follow_redirects=True)
    assert "This closed on" in closed.text
    assert _rows() == before

    _open(survey)
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.flush()
    assert client.get(url).status_code == 404
    assert client.post(url, data=_answers(survey, *FULL)).status_code == 404
    assert _rows() == before


def test_a_participant_cannot_answer_another_cohorts_evaluation(
    client: FlaskClient, login: Any, make: Any
) -> None:
    mine, other = make.cohort(), make.cohort()
    _survey(make, mine)
    theirs = _survey(make, other)
    make.enrolment(other)  # someone else's
    user, _enrolment = _participant(make, mine)
    login(user=user)
    before = _rows()
    assert client.get(f"/me/evaluations/{other.id}/survey").status_code == 404
    post = client.post(f"/me/evaluations/{other.id}/survey", data=_answers(theirs, *FULL))
    assert post.status_code == 404
    assert client.get("/me/evaluations/999999/survey").status_code == 404
    assert _rows() == before


def test_participants_and_trainers_cannot_use_the_coordinators_pages(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    _survey(make, cohort)
    for role in (Role.PARTICIPANT, Role.TRAINER):
        login(role)
        for url in (
            f"/cohorts/{cohort.id}/evaluations",
            f"/cohorts/{cohort.id}/evaluations/results",
            f"/cohorts/{cohort.id}/evaluations/survey/results.csv",
        ):
            assert client.get(url).status_code == 403, (role, url)


def test_an_anonymous_survey_keeps_no_link_to_the_person(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort, anonymous=True)
    user, enrolment = _participant(make, cohort)
    login(user=user)
    form = client.get(f"/me/evaluations/{cohort.id}/survey").text
    assert "This survey is anonymous" in form
    client.post(f"/me/evaluations/{cohort.id}/survey", data=_answers(survey, *FULL))

    submission = db.session.scalars(sa.select(EvaluationSubmission)).one()
    assert submission.enrolment_id == enrolment.id  # who answered: no time, no answers
    assert set(EvaluationSubmission.__table__.columns.keys()) == {
        "evaluation_id",
        "phase",
        "enrolment_id",
    }
    response = db.session.scalars(sa.select(EvaluationResponse)).one()
    assert response.enrolment_id is None and response.submitted_at is None
    assert len(response.id) == 32 and not response.id.isdigit()  # random, not a counter
    assert "id" not in Answer.__table__.columns  # answers have no counter either
    # A second answer is still refused.
    again = client.post(
        f"/me/evaluations/{cohort.id}/survey", data=_answers(survey, *FULL), follow_redirects=True
    )
    assert "You have already answered." in again.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvaluationResponse)) == 1


def test_anonymity_and_questions_are_fixed_once_answered(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort)
    _user, enrolment = _participant(make, cohort)
    _submit(survey, enrolment, Phase.SURVEY, *FULL)
    login()
    before = _rows()
    url = f"/cohorts/{cohort.id}/evaluations/survey"
    page = client.get(url).text
    assert "the questions can no longer be changed" in page
    added = client.post(f"{url}/questions", data={"kind": "rating", "text": "More?"})
    assert "its questions can no longer be changed" in added.text
    anonymous = client.post(url, data={"anonymous": "y"})
    assert "anonymity can no longer be changed" in anonymous.text
    removed = client.post(f"{url}/delete", follow_redirects=True)
    assert "it can no longer be removed" in removed.text
    moved = client.post(
        f"/evaluation-questions/{survey.questions[0].id}/move/down", follow_redirects=True
    )
    assert "can no longer be changed" in moved.text
    assert _rows() == before


# --------------------------------------------------------------------------- results


def _cohort_with_answers(make: Any) -> tuple[Cohort, Evaluation, Evaluation, list[Enrolment]]:
    cohort = make.cohort(name="Baku ToT 2026")
    survey = _survey(make, cohort)
    test = _open(_test(make, cohort), pre=True)
    people = [
        make.enrolment(cohort, make.person(first_name=f, last_name=last))
        for f, last in (("Ləman", "Əliyeva"), ("Giorgi", "Beridze"), ("Ivan", "Petrov"))
    ]
    make.enrolment(cohort, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)  # not invited
    _submit(survey, people[0], Phase.SURVEY, 5, 4, 4, 3, "0", "1", "=HYPERLINK(1)", "")
    _submit(survey, people[1], Phase.SURVEY, 3, 4, 5, 3, "0", "2", "", "More cases")
    # Test before: Ləman 0/2, Giorgi 1/2, Ivan 2/2.
    _submit(test, people[0], Phase.PRE, "1", "0")
    _submit(test, people[1], Phase.PRE, "0", "0")
    _submit(test, people[2], Phase.PRE, "0", "1")
    _open(test)  # the test after the course opens
    # After: Ləman 2/2 (+100), Giorgi 2/2 (+50); Ivan does not take it (not paired).
    _submit(test, people[0], Phase.POST, "0", "1")
    _submit(test, people[1], Phase.POST, "0", "1")
    return cohort, survey, test, people


def test_results_show_rates_averages_counts_texts_and_paired_gain(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort, survey, test, _people = _cohort_with_answers(make)
    results = services.results(cohort.id)
    s = results[EvaluationKind.SURVEY]
    assert (s.phases[0].responses, s.phases[0].invited, s.phases[0].rate_pct) == (2, 3, 66.7)
    assert s.questions[0].average() == 4.0
    assert s.questions[0].counts[Phase.SURVEY] == [0, 0, 1, 0, 1]
    assert s.questions[5].counts[Phase.SURVEY] == [0, 1, 1]
    assert s.questions[6].texts == ["=HYPERLINK(1)"]
    assert s.rating_average == pytest.approx((5 + 4 + 4 + 3 + 3 + 4 + 5 + 3) / 8, abs=0.01)

    t = results[EvaluationKind.TEST]
    gains = {p.enrolment.person.first_name: p.gain for p in t.scores}
    assert gains == {"Ləman": 100.0, "Giorgi": 50.0, "Ivan": None}
    assert len(t.paired) == 2 and t.mean_gain == 75.0
    assert t.mean_score(Phase.PRE) == 50.0  # everyone who took it: 0, 50, 100
    assert t.questions[0].correct_pct(Phase.PRE) == pytest.approx(66.7)

    login()
    page = client.get(f"/cohorts/{cohort.id}/evaluations/results")
    assert page.status_code == 200
    assert "66.7%" in page.text and "2 / 3" in page.text
    assert "=HYPERLINK(1)" in page.text and "More cases" in page.text
    assert "+100" in page.text and "75" in page.text
    assert "Petrov" in page.text
    assert "Average 4 from 2 answers" in page.text
    # One answer is "answer" (it was "1 answers").
    alone = make.cohort(name="Banjul 2026")
    survey_alone = _survey(make, alone)
    _submit(survey_alone, make.enrolment(alone), Phase.SURVEY, *FULL)
    one = client.get(f"/cohorts/{alone.id}/evaluations/results").text
    assert "Average 5 from 1 answer<" in one


def test_the_results_page_loads_with_a_bounded_number_of_queries(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    cohort, survey, _test_, _people = _cohort_with_answers(make)
    login()
    url = f"/cohorts/{cohort.id}/evaluations/results"
    client.get(url)
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for n in range(6):
        enrolment = make.enrolment(cohort)
        _submit(survey, enrolment, Phase.SURVEY, 2, 2, 2, 2, "1", "1", f"text {n}", "")
    with count_queries() as large:
        page = client.get(url)
    assert "text 5" in page.text
    assert large.count == small.count
    assert large.count <= 20


def test_exports_neutralise_formulas_and_hide_names_of_anonymous_surveys(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort, survey, _test_, _people = _cohort_with_answers(make)
    login()
    response = client.get(f"/cohorts/{cohort.id}/evaluations/survey/results.csv")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Response", "Last name", "First name", "E-mail"]
    assert "'=HYPERLINK(1)" in rows[1] + rows[2]
    assert [r[:2] for r in rows[1:]] == [["1", "Beridze"], ["2", "Əliyeva"]]  # by surname

    xlsx = client.get(f"/cohorts/{cohort.id}/evaluations/test/results.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][-1] == "Gain (points)"
    assert values[1][:2] == ["Beridze", "Giorgi"] and values[1][-1] == 50  # by surname
    assert values[2][:2] == ["Əliyeva", "Ləman"] and values[2][-1] == 100
    assert values[3][0] == "Petrov" and values[3][-1] in ("", None)

    survey.anonymous = True
    db.session.flush()
    anonymous = client.get(f"/cohorts/{cohort.id}/evaluations/survey/results.csv")
    text = anonymous.data.decode("utf-8-sig")
    assert "Last name" not in text and "Əliyeva" not in text
    assert "More cases" in text


# --------------------------------------------------------------------------- completion


def test_the_completion_rule_may_require_the_survey(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort(min_attendance_pct=0)
    survey = _survey(make, cohort)
    user, enrolment = _participant(make, cohort)
    assert eligibility(cohort.id)[enrolment.id].eligible  # not required yet

    survey.required = True
    db.session.flush()
    result = eligibility(cohort.id)[enrolment.id]
    assert not result.eligible
    assert result.reasons == ["the end-of-course survey is not answered"]
    login(user=user)
    assert "you have not answered it yet" in client.get("/me").text

    _submit(survey, enrolment, Phase.SURVEY, *FULL)
    assert eligibility(cohort.id)[enrolment.id].eligible
    assert (
        "The end-of-course survey must be answered: you have answered it." in client.get("/me").text
    )
    login()
    assert (
        "The end-of-course survey answered."
        in client.get(f"/cohorts/{cohort.id}/certificates").text
    )


def test_the_requirement_is_set_on_the_survey_settings(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login()
    cohort = make.cohort()
    survey = services.create_evaluation(cohort, EvaluationKind.SURVEY, "en", actor=None)
    client.post(f"/cohorts/{cohort.id}/evaluations/survey", data={"required": "y"})
    assert survey.required is True
    page = client.get(f"/cohorts/{cohort.id}/evaluations").text
    assert "Required to complete" in page


# --------------------------------------------------------------------------- programmes


def test_programme_summary_aggregates_cohorts_in_the_period(make: Any) -> None:
    cohort, _survey_, _test_, _people = _cohort_with_answers(make)
    other = make.cohort(cohort.programme, start_date=date(2025, 1, 6), end_date=date(2025, 1, 10))
    old = _survey(make, other)
    _submit(old, make.enrolment(other), Phase.SURVEY, 1, 1, 1, 1, "3", "0", "", "")

    summary = services.programme_summary(
        [cohort.programme_id], date(2026, 1, 1), date(2026, 12, 31)
    )
    assert [c.cohort_name for c in summary.cohorts] == ["Baku ToT 2026"]
    assert (summary.survey_responses, summary.survey_invited) == (2, 3)
    assert summary.survey_rate_pct == 66.7
    assert summary.paired == 2 and summary.mean_gain_pct == 75.0
    assert summary.mean_pre_pct == 25.0 and summary.mean_post_pct == 100.0
    overall = summary.ratings[0]
    assert overall.answers == 2

    everything = services.programme_summary([cohort.programme_id])
    assert len(everything.cohorts) == 2 and everything.survey_responses == 3
    first = next(r for r in everything.ratings if r.text.startswith("Overall"))
    assert (first.answers, first.average) == (3, 3.0)  # (5 + 3 + 1) / 3
    assert services.programme_summary([], None, None).cohorts == []


def test_a_too_long_answer_gets_a_message_and_writes_nothing(make: Any) -> None:
    cohort = make.cohort()
    survey = _survey(make, cohort)
    enrolment = make.enrolment(cohort)
    before = _rows()
    with pytest.raises(services.AnswerProblems) as refused:
        _submit(survey, enrolment, Phase.SURVEY, *FULL[:6], "x" * 5000, "")
    assert list(refused.value.problems.values()) == ["Keep your answer under 4000 characters."]
    assert _rows() == before


def test_an_answer_the_text_box_allows_is_accepted_with_its_line_breaks(
    client: FlaskClient, login: Any, make: Any
) -> None:
    """The box says at most 4,000 characters (maxlength), counting a line break as one; the
    browser sends it as CR LF, which is kept as one line break."""
    cohort = make.cohort()
    survey = _survey(make, cohort)
    user, _enrolment = _participant(make, cohort)
    login(user=user)
    url = f"/me/evaluations/{cohort.id}/survey"
    assert re.search(r'<textarea[^>]*maxlength="4000"', client.get(url).text)
    lines = "\r\n".join(["x" * 99] * 40)  # 3,999 characters in the box, 4,038 sent
    done = client.post(url, data=_answers(survey, *FULL[:6], lines, ""), follow_redirects=True)
    assert "Thank you: your answers were recorded." in done.text
    response = db.session.scalars(sa.select(EvaluationResponse)).one()
    assert [a.text for a in response.answers if a.text] == ["\n".join(["x" * 99] * 40)]


def test_the_demo_evaluations_are_loaded_once(make: Any) -> None:
    from trainingmgr.evaluations import demo

    now = _now()
    tot = make.cohort(start_date=date(2026, 1, 5), end_date=date(2026, 1, 9), language="en")
    rollout = make.cohort(start_date=now.date() - timedelta(days=1), end_date=now.date())
    for _ in range(10):
        make.enrolment(tot)
    make.enrolment(rollout)
    ids = {"tot": tot.id, "ro-baku": rollout.id}
    assert demo.load(ids, now) == 3
    assert demo.load(ids, now) == 0  # idempotent
    results = services.results(tot.id)
    test = results[EvaluationKind.TEST]
    assert test.phases[0].responses == 10 and test.paired
    assert test.mean_gain is not None and test.mean_gain > 0
    open_now = services.cohort_evaluations(rollout.id)[EvaluationKind.SURVEY]
    assert open_now.is_open(Phase.SURVEY, now) and open_now.anonymous


def test_the_programme_summary_runs_a_fixed_number_of_queries(
    make: Any, count_queries: Any
) -> None:
    cohort, _survey_, test, _people = _cohort_with_answers(make)
    scores = db.session.scalars(
        sa.select(EvaluationResponse.score).where(EvaluationResponse.evaluation_id == test.id)
    ).all()
    assert sorted(scores) == [0, 1, 2, 2, 2]  # counted when submitted
    with count_queries() as one:
        services.programme_summary([cohort.programme_id])
    for _ in range(3):
        _cohort_with_answers_in(make, cohort.programme)
    with count_queries() as four:
        summary = services.programme_summary([cohort.programme_id])
    assert len(summary.cohorts) == 4 and summary.paired == 8
    assert four.count == one.count <= 9


def _cohort_with_answers_in(make: Any, programme: Any) -> None:
    other = make.cohort(programme)
    test = _open(_test(make, other), pre=True)
    first, second = make.enrolment(other), make.enrolment(other)
    _submit(test, first, Phase.PRE, "1", "0")
    _submit(test, second, Phase.PRE, "0", "0")
    _open(test)
    _submit(test, first, Phase.POST, "0", "1")
    _submit(test, second, Phase.POST, "0", "1")


def test_the_programme_dashboard_and_donor_report_show_the_evaluations(
    client: Any, login: Any, make: Any
) -> None:
    cohort, _survey_, _test_, _people = _cohort_with_answers(make)
    login(Role.COORDINATOR)

    page = client.get("/reports/", query_string={"programme": cohort.programme_id})

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Evaluations by cohort" in text and "Baku ToT 2026" in text
    assert "2 of 3 (66.7%)" in text  # survey responses
    assert "+75" in text  # knowledge gained by the two people tested before and after
    workbook = client.get("/reports/report.xlsx", query_string={"programme": cohort.programme_id})
    assert workbook.status_code == 200
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.data)).sheetnames
    assert any("Evaluations" in name for name in sheets)
