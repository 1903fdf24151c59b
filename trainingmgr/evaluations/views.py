"""Evaluation pages: the coordinator's editor and results, the participant's answer form.

Coordinator routes take the cohort's id or a question's id (``question_id``, declared in
``core.scope.SCOPED_ARGUMENTS``), both checked against the programme scope before the view
runs. The participant's form takes a cohort id and a phase only: ``services.answer_sheet``
looks for the signed-in person's own enrolment there and answers 404 when there is none.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts.models import Role
from trainingmgr.cohorts.models import Cohort
from trainingmgr.cohorts.services import load_cohort
from trainingmgr.core.errors import NotFound
from trainingmgr.core.permissions import coordinator_only, roles_required
from trainingmgr.core.views import actor, load_or_404, outcome, run_action
from trainingmgr.evaluations import forms, services
from trainingmgr.evaluations.defaults import template_language
from trainingmgr.evaluations.models import Evaluation, EvaluationKind, Phase, Question
from trainingmgr.evaluations.report_section import evaluation_section
from trainingmgr.imports import services as sheets
from trainingmgr.portal.forms import ConfirmForm
from trainingmgr.reports import sections

bp = Blueprint("evaluations", __name__)

KINDS = "any(survey, test)"


def _cohort(cohort_id: int) -> Cohort:
    return load_or_404(load_cohort, cohort_id)


def _evaluation(cohort: Cohort, kind: str) -> Evaluation:
    return load_or_404(services.get_evaluation, cohort.id, EvaluationKind(kind))


def _question(question_id: int) -> Question:
    return load_or_404(services.get_question, question_id)


def _editor(evaluation: Evaluation) -> Response:
    return redirect(
        url_for(".edit", cohort_id=evaluation.cohort_id, kind=evaluation.kind.value) + "#questions"
    )


def _settings_form(cohort: Cohort, evaluation: Evaluation) -> forms.SettingsForm:
    """The settings with the windows in the cohort's zone (the form's values when posted)."""
    local = {
        name: value.astimezone(cohort.tz).replace(tzinfo=None) if value else None
        for name, value in services.settings_of(evaluation).items()
        if name.endswith("_at")
    }
    return forms.SettingsForm(
        data={**local, "anonymous": evaluation.anonymous, "required": evaluation.required},
        test=evaluation.kind == EvaluationKind.TEST,
    )


def _editor_page(
    cohort: Cohort,
    evaluation: Evaluation,
    settings_form: forms.SettingsForm | None = None,
    question_form: forms.QuestionForm | None = None,
) -> str:
    is_test = evaluation.kind == EvaluationKind.TEST
    return render_template(
        "evaluations/edit.html",
        cohort=cohort,
        evaluation=evaluation,
        settings_form=settings_form or _settings_form(cohort, evaluation),
        question_form=question_form or forms.QuestionForm(test=is_test, formdata=None),
        action_form=ConfirmForm(),
        locked=services.is_answered(evaluation),
        is_test=is_test,
    )


# --------------------------------------------------------------------------- coordinators


@bp.route("/cohorts/<int:cohort_id>/evaluations")
@coordinator_only
def cohort(cohort_id: int) -> str:
    """The cohort's survey and test, how many answered, and a way to add either."""
    cohort = _cohort(cohort_id)
    evaluations = services.cohort_evaluations(cohort.id)
    return render_template(
        "evaluations/cohort.html",
        cohort=cohort,
        evaluations=evaluations,
        counts=services.answer_counts([e.id for e in evaluations.values()]),
        create_form=forms.CreateSurveyForm(data={"template": template_language(cohort.language)}),
        action_form=ConfirmForm(),
        kinds=EvaluationKind,
    )


@bp.route(f"/cohorts/<int:cohort_id>/evaluations/<{KINDS}:kind>/create", methods=["POST"])
@coordinator_only
def create(cohort_id: int, kind: str) -> Response:
    cohort = _cohort(cohort_id)
    form = forms.CreateSurveyForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the templates offered."), "danger")
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    template = (form.template.data or None) if kind == EvaluationKind.SURVEY else None
    done = run_action(
        lambda: services.create_evaluation(cohort, EvaluationKind(kind), template, actor=actor()),
        _("The survey was added.") if kind == "survey" else _("The test was added."),
    )
    if not done:
        return redirect(url_for(".cohort", cohort_id=cohort.id))
    return _editor(done.value)


@bp.route(f"/cohorts/<int:cohort_id>/evaluations/<{KINDS}:kind>", methods=["GET", "POST"])
@coordinator_only
def edit(cohort_id: int, kind: str) -> str | Response:
    """The settings (windows in the cohort's zone, anonymity, requirement; saved here) and
    the questions (each changed by its own form)."""
    cohort = _cohort(cohort_id)
    evaluation = _evaluation(cohort, kind)
    form = _settings_form(cohort, evaluation)
    if request.method == "POST":
        form = forms.SettingsForm(test=evaluation.kind == EvaluationKind.TEST)
        if form.validate() and run_action(
            lambda: services.update_settings(evaluation, form.to_input(), actor=actor()),
            _("The settings were saved."),
            form=form,
        ):
            return redirect(url_for(".edit", cohort_id=cohort.id, kind=kind))
    return _editor_page(cohort, evaluation, settings_form=form)


@bp.route(f"/cohorts/<int:cohort_id>/evaluations/<{KINDS}:kind>/delete", methods=["POST"])
@coordinator_only
def delete(cohort_id: int, kind: str) -> Response:
    cohort = _cohort(cohort_id)
    evaluation = _evaluation(cohort, kind)
    run_action(
        lambda: services.delete_evaluation(evaluation, actor=actor()),
        _("The survey was removed.") if kind == "survey" else _("The test was removed."),
    )
    return redirect(url_for(".cohort", cohort_id=cohort.id))


@bp.route(f"/cohorts/<int:cohort_id>/evaluations/<{KINDS}:kind>/questions", methods=["POST"])
@coordinator_only
def add_question(cohort_id: int, kind: str) -> str | Response:
    cohort = _cohort(cohort_id)
    evaluation = _evaluation(cohort, kind)
    form = forms.QuestionForm(test=evaluation.kind == EvaluationKind.TEST)
    if form.validate() and run_action(
        lambda: services.add_question(evaluation, form.to_input(), actor=actor()),
        _("The question was added."),
        form=form,
    ):
        return _editor(evaluation)
    return _editor_page(cohort, evaluation, question_form=form)


@bp.route("/evaluation-questions/<int:question_id>", methods=["GET", "POST"])
@coordinator_only
def edit_question(question_id: int) -> str | Response:
    question = _question(question_id)
    evaluation = question.evaluation
    cohort = _cohort(evaluation.cohort_id)
    is_test = evaluation.kind == EvaluationKind.TEST
    if request.method == "POST":
        form = forms.QuestionForm(test=is_test)
        if form.validate() and run_action(
            lambda: services.update_question(question, form.to_input(), actor=actor()),
            _("The question was saved."),
            form=form,
        ):
            return _editor(evaluation)
    else:
        form = forms.QuestionForm.for_question(question, test=is_test)
    return render_template(
        "evaluations/question.html",
        cohort=cohort,
        evaluation=evaluation,
        question=question,
        form=form,
        is_test=is_test,
    )


@bp.route(
    "/evaluation-questions/<int:question_id>/move/<any(up, down):direction>", methods=["POST"]
)
@coordinator_only
def move_question(question_id: int, direction: str) -> Response:
    question = _question(question_id)
    run_action(
        lambda: services.move_question(question, -1 if direction == "up" else 1, actor=actor()), ""
    )
    return _editor(question.evaluation)


@bp.route("/evaluation-questions/<int:question_id>/delete", methods=["POST"])
@coordinator_only
def delete_question(question_id: int) -> Response:
    question = _question(question_id)
    evaluation = question.evaluation
    run_action(
        lambda: services.delete_question(question, actor=actor()), _("The question was removed.")
    )
    return _editor(evaluation)


@bp.route("/cohorts/<int:cohort_id>/evaluations/results")
@coordinator_only
def results(cohort_id: int) -> str:
    """Response rates, answers per question, free text and the paired test scores."""
    cohort = _cohort(cohort_id)
    return render_template(
        "evaluations/results.html",
        cohort=cohort,
        results=services.results(cohort.id),
        kinds=EvaluationKind,
        phases=Phase,
        format_decimal=format_decimal,
    )


@bp.route(f"/cohorts/<int:cohort_id>/evaluations/<{KINDS}:kind>/results.<fmt>")
@coordinator_only
def export(cohort_id: int, kind: str, fmt: str) -> Response:
    """The survey's responses or the test's scores as CSV or XLSX (formula-like text made
    plain text by the export helpers)."""
    cohort = _cohort(cohort_id)
    if fmt not in sheets.WRITERS:
        abort(404)
    result = services.results(cohort.id).get(EvaluationKind(kind))
    if result is None:
        abort(404)
    sheet = (
        services.survey_sheet(cohort, result)
        if kind == EvaluationKind.SURVEY
        else services.test_sheet(cohort, result)
    )
    response = send_file(
        io.BytesIO(sheets.render(sheet, fmt)),
        mimetype=sheets.MIME_TYPES[fmt],
        as_attachment=True,
        download_name=sheets.download_name(f"{cohort.name} {kind}", fmt),
    )
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    return response


# --------------------------------------------------------------------------- participants


@bp.route("/me/evaluations/<int:cohort_id>/<any(survey, pre, post):phase>", methods=["GET", "POST"])
@roles_required(Role.PARTICIPANT)
def answer(cohort_id: int, phase: str) -> str | Response:
    """The participant answers their cohort's survey or test, once, while it is open."""
    found = outcome(lambda: services.answer_sheet(current_user.person_id, cohort_id, Phase(phase)))
    if not found:
        if isinstance(found.error, NotFound):
            abort(404)
        flash(found.error.message, "info")  # answered already, or not open
        return redirect(url_for("home.participant"))
    sheet = found.value
    questions = sheet.evaluation.questions
    form = forms.answer_form(questions)
    if request.method == "POST" and not form.validate():
        flash(_("The form has expired: please send your answers again."), "danger")
    elif request.method == "POST":
        values = {name: request.form.get(name) for name in (f"q{q.id}" for q in questions)}
        done = run_action(
            lambda: services.submit(sheet, values),
            _("Thank you: your answers were recorded."),
            show=False,
        )
        if done or not isinstance(done.error, services.AnswerProblems):
            if not done:  # answered meanwhile (another tab)
                flash(done.error.message, "info")
            return redirect(url_for("home.participant"))
        flash(done.error.message, "danger")
        for name, message in done.error.problems.items():
            form[name].errors = [*form[name].errors, message]
    return render_template(
        "evaluations/answer.html",
        sheet=sheet,
        cohort=sheet.cohort,
        evaluation=sheet.evaluation,
        phase=sheet.phase,
        form=form,
        kinds=EvaluationKind,
    )


sections.register(sections.Section("evaluations", evaluation_section, position=10))
