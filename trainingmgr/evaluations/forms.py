"""Forms of evaluations. They parse input; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.evaluations import services
from trainingmgr.evaluations.defaults import TEMPLATE_LANGUAGES
from trainingmgr.evaluations.models import RATING_SCALE, Question, QuestionKind

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


class CreateSurveyForm(FlaskForm):
    template = SelectField(_l("Start from"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from trainingmgr.core.labels import label_for

        self.template.choices = options(
            [
                *[
                    (code, _l("The default survey in %(language)s", language=label_for(code)))
                    for code in TEMPLATE_LANGUAGES
                ],
                ("", _l("No questions (write your own)")),
            ]
        )


def _when(label: Any) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=LOCAL_FORMAT, validators=[Optional()])


class SettingsForm(FlaskForm):
    opens_at = _when(_l("Opens"))
    closes_at = _when(_l("Closes"))
    pre_opens_at = _when(_l("Test before the course opens"))
    pre_closes_at = _when(_l("Test before the course closes"))
    anonymous = BooleanField(_l("Anonymous: answers are kept without the person's name"))
    required = BooleanField(_l("Completing the course requires answering the survey"))

    def __init__(self, *args: Any, test: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if test:
            self.opens_at.label.text = _l("Test after the course opens")
            self.closes_at.label.text = _l("Test after the course closes")

    def to_input(self) -> services.SettingsInput:
        return services.SettingsInput(
            opens_at=self.opens_at.data,
            closes_at=self.closes_at.data,
            pre_opens_at=self.pre_opens_at.data,
            pre_closes_at=self.pre_closes_at.data,
            anonymous=bool(self.anonymous.data),
            required=bool(self.required.data),
        )


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind of question"), choices=options(QuestionKind.choices()))
    text = StringField(
        _l("Question"),
        validators=[
            InputRequired(_l("Write the question.")),
            Length(max=services.QUESTION_MAX_CHARS),
        ],
    )
    options = TextAreaField(
        _l("Options, one per line"), validators=[Optional()], render_kw={"rows": 4}
    )
    correct = IntegerField(
        _l("Number of the correct option"),
        validators=[Optional(), NumberRange(min=1, max=services.MAX_OPTIONS)],
        render_kw={"min": 1, "max": services.MAX_OPTIONS, "inputmode": "numeric"},
    )
    required = BooleanField(_l("An answer is required"), default=True)

    def __init__(self, *args: Any, test: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if test:
            self.kind.choices = options([(QuestionKind.CHOICE.value, QuestionKind.CHOICE.label)])

    @classmethod
    def for_question(cls, question: Question, **kwargs: Any) -> QuestionForm:
        return cls(
            data={
                "kind": question.kind.value,
                "text": question.text,
                "options": "\n".join(question.options or []),
                "correct": question.correct + 1 if question.correct is not None else None,
                "required": question.required,
            },
            **kwargs,
        )

    def to_input(self) -> services.QuestionInput:
        return services.QuestionInput(
            kind=QuestionKind(self.kind.data),
            text=self.text.data or "",
            options=(self.options.data or "").splitlines(),
            correct=self.correct.data,
            required=bool(self.required.data),
        )


def answer_form(questions: list[Question], formdata: Any = None) -> FlaskForm:
    """A form with one field per question (``q<id>``), built for these questions.

    Fields only parse (the form itself checks its CSRF token): what is required and valid is
    checked by ``services.submit``, which names the field of each problem.
    """

    class AnswerForm(FlaskForm):
        pass

    for q in questions:
        name = f"q{q.id}"
        if q.kind == QuestionKind.RATING:
            field: Any = RadioField(
                q.text,
                choices=options((str(v), str(v)) for v in RATING_SCALE),
                validate_choice=False,
            )
        elif q.kind == QuestionKind.CHOICE:
            field = RadioField(
                q.text,
                choices=options((str(i), o) for i, o in enumerate(q.options or [])),
                validate_choice=False,
            )
        else:
            field = TextAreaField(
                q.text, render_kw={"rows": 3, "maxlength": services.ANSWER_MAX_CHARS}
            )
        setattr(AnswerForm, name, field)
    return AnswerForm(formdata=formdata) if formdata is not None else AnswerForm()
