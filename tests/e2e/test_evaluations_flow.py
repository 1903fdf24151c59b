"""Evaluations in the browser (issue 20): a participant answers the end-of-course survey on a
360 px phone from their home page, once; the coordinator's editor and the results page on a
desktop and a phone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in, wider_than_window
from trainingmgr.accounts.models import Role, User
from trainingmgr.evaluations import services
from trainingmgr.evaluations.models import EvaluationKind, Phase, QuestionKind

pytestmark = pytest.mark.e2e


@dataclass
class Course:
    cohort_id: int
    coordinator: User
    participant: User


@pytest.fixture
def course(committed_db: Any, make: Any, account: Any) -> Course:
    """A roll-out in Baku ending today: its survey (the default one, anonymous) is open,
    and its knowledge test has been taken before the course by two people."""
    now = datetime.now(UTC).replace(microsecond=0)
    programme = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    cohort = make.cohort(
        programme,
        name="MMDP roll-out Baku 2026",
        timezone="Asia/Baku",
        start_date=(now - timedelta(days=4)).date(),
        end_date=now.date(),
    )
    survey = services.create_evaluation(cohort, EvaluationKind.SURVEY, "en", actor=None)
    survey.anonymous = True
    survey.opens_at, survey.closes_at = now - timedelta(hours=2), now + timedelta(days=7)
    test = services.create_evaluation(cohort, EvaluationKind.TEST, actor=None)
    for text, options, correct in (
        (
            "Which instrument defines who is a refugee?",
            ["The 1951 Refugee Convention", "The Schengen Borders Code", "The Palermo Protocol"],
            1,
        ),
        ("Readmission agreements concern…", ["Visa fees", "The return of irregular migrants"], 2),
    ):
        services.add_question(
            test, services.QuestionInput(QuestionKind.CHOICE, text, options, correct), actor=None
        )
    test.pre_opens_at, test.pre_closes_at = now - timedelta(days=5), now - timedelta(days=4)
    test.opens_at, test.closes_at = now - timedelta(hours=1), now + timedelta(days=7)
    others = [
        make.enrolment(cohort, make.person(first_name=f, last_name=last))
        for f, last in (("Giorgi", "Beridze"), ("Ivan", "Petrov"))
    ]
    for enrolment, pre, post in zip(
        others, (("1", "0"), ("0", "0")), (("0", "1"), ("0", "1")), strict=True
    ):
        for phase, values in ((Phase.PRE, pre), (Phase.POST, post)):
            test_sheet = services.AnswerSheet(cohort, test, phase, enrolment)
            services.submit(
                test_sheet, {f"q{q.id}": v for q, v in zip(test.questions, values, strict=True)}
            )
        sheet = services.AnswerSheet(cohort, survey, Phase.SURVEY, enrolment)
        services.submit(
            sheet,
            {
                f"q{q.id}": v
                for q, v in zip(
                    survey.questions,
                    (4, 5, 5, 3, "0", "1", "The case studies from the region", ""),
                    strict=True,
                )
            },
        )
    person = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    make.enrolment(cohort, person)
    committed_db.commit()
    coordinator = account(Role.COORDINATOR, email="coordinator@example.org")
    participant = account(Role.PARTICIPANT, email="leman@example.org", person=person)
    return Course(cohort.id, coordinator, participant)


def test_a_participant_answers_the_survey_on_a_phone(phone_page: Any, course: Course) -> None:
    page = phone_page
    sign_in(page, "leman@example.org")
    page.goto("/me")
    link = page.get_by_role("link", name="Answer the end-of-course survey")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", name="End-of-course survey")).to_be_visible()
    expect(page.get_by_test_id("anonymous-note")).to_be_visible()

    # Sending with a required question left empty keeps what was given and says what is left.
    page.get_by_test_id("q-1").get_by_text("5", exact=True).click()
    page.get_by_test_id("send-answers").click()
    expect(page.get_by_text("Some questions still need an answer")).to_be_visible()
    expect(page.get_by_test_id("q-1").get_by_role("radio", name="5")).to_be_checked()
    expect(page.get_by_role("group", name="2. How relevant was the content")).to_be_visible()
    expect(page.get_by_text("Answer this question.").first).to_be_visible()

    for n, value in ((2, "4"), (3, "5"), (4, "3")):
        page.get_by_test_id(f"q-{n}").get_by_text(value, exact=True).click()
    page.get_by_label("Yes, often").check()
    page.get_by_label("About right").check()
    page.get_by_test_id("q-7").locator("textarea").fill("Working through real cases together")
    screenshot(page, "evaluation-answer-phone")
    assert overflow_px(page) == 0, wider_than_window(page)
    page.get_by_test_id("send-answers").click()

    expect(page.get_by_text("Thank you: your answers were recorded.")).to_be_visible()
    expect(page.get_by_role("link", name="Answer the end-of-course survey")).to_have_count(0)
    expect(page.get_by_role("link", name="Take the test after the course")).to_be_visible()
    screenshot(page, "evaluation-home-phone")
    # Once only: the form's address now leads back home with a word why.
    page.goto(f"/me/evaluations/{course.cohort_id}/survey")
    expect(page.get_by_text("You have already answered. Thank you!")).to_be_visible()


@pytest.mark.parametrize("device", ["page", "phone_page"])
def test_the_coordinator_edits_questions_and_reads_the_results(
    request: pytest.FixtureRequest, course: Course, device: str
) -> None:
    page = request.getfixturevalue(device)
    name = "desktop" if device == "page" else "phone"
    sign_in(page, "coordinator@example.org")
    page.goto(f"/cohorts/{course.cohort_id}")
    page.get_by_test_id("evaluations-link").click()
    expect(page.get_by_role("heading", name="Evaluations")).to_be_visible()
    screenshot(page, f"evaluation-cohort-{name}")
    page.get_by_test_id("edit-test").click()
    expect(page.get_by_test_id("locked")).to_be_visible()  # answers were received
    screenshot(page, f"evaluation-editor-test-{name}")

    page.goto(f"/cohorts/{course.cohort_id}/evaluations/results")
    expect(page.get_by_test_id("survey-rate")).to_have_text("66.7%")
    expect(page.get_by_test_id("test-gain")).to_have_text("75")
    expect(page.get_by_text("The case studies from the region").first).to_be_visible()
    screenshot(page, f"evaluation-results-{name}")
    assert overflow_px(page) == 0, wider_than_window(page)


def test_a_coordinator_builds_a_survey_from_the_template(
    page: Any, make: Any, account: Any, committed_db: Any
) -> None:
    cohort = make.cohort(make.programme(code="RTCM"), name="RTCM Tbilisi 2026", language="az")
    committed_db.commit()
    account(Role.COORDINATOR, email="coordinator@example.org")
    sign_in(page, "coordinator@example.org")
    page.goto(f"/cohorts/{cohort.id}/evaluations")
    expect(page.get_by_label("Start from")).to_have_value("az")
    page.get_by_test_id("create-survey").click()
    expect(page.get_by_test_id("question-1")).to_contain_text(
        "Ümumilikdə kursdan nə dərəcədə razısınız?"
    )
    page.get_by_label("Opens").fill("2026-03-13T14:00")
    page.get_by_label("Closes").fill("2026-03-20T18:00")
    page.get_by_test_id("save-settings").click()
    expect(page.get_by_text("The settings were saved.")).to_be_visible()
    expect(page.get_by_label("Opens")).to_have_value("2026-03-13T14:00")
    page.get_by_label("Kind of question").select_option("rating")
    page.get_by_label("Question", exact=True).fill("Təlim materialları faydalı idimi?")
    page.get_by_role("button", name="Add the question").click()
    expect(page.get_by_text("The question was added.")).to_be_visible()
    expect(page.get_by_test_id("question-9")).to_contain_text("Təlim materialları")
    screenshot(page, "evaluation-editor-survey-desktop")
