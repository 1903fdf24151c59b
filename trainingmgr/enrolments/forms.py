"""Forms for enrolling people and changing their enrolment status.

The forms only parse what was sent; the rules (capacity, waitlist, allowed status changes)
live in ``trainingmgr.enrolments.services``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, Optional, ValidationError

from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.core.forms import FlaskForm, email_field, options

CREATE_CHOICES = [
    (EnrolmentStatus.ENROLLED.value, _l("Enrolled (on the waitlist when the cohort is full)")),
    (EnrolmentStatus.APPLIED.value, _l("Applied (not yet accepted; takes no seat)")),
]


class BackForm(FlaskForm):
    """A POST from a roster, which may sit on another page: ``next`` is where to go back."""

    next = HiddenField()


class EnrolForm(BackForm):
    """Enrol the people ticked in the search results."""

    person_ids = SelectMultipleField(
        _l("People"),
        coerce=int,
        validate_choice=False,
        invalid_value_message=_l("The people ticked could not be read: search again."),
    )
    status = SelectField(
        _l("Enrol as"), choices=options(CREATE_CHOICES), default=CREATE_CHOICES[0][0]
    )
    q = HiddenField()

    def validate_person_ids(self, field: SelectMultipleField) -> None:
        if not field.data and not field.process_errors:
            raise ValidationError(_l("Tick at least one person in the search results."))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class EnrolByEmailForm(BackForm):
    """Enrol one person found by their e-mail address."""

    email = email_field(
        _l("Enter the person's e-mail address."),
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    as_status = SelectField(
        _l("Enrol as"), choices=options(CREATE_CHOICES), default=CREATE_CHOICES[0][0]
    )


class StatusForm(BackForm):
    status = SelectField(
        _l("New status"),
        choices=options(EnrolmentStatus.choices()),
        validators=[DataRequired(_l("Choose a status."))],
    )


class PromoteForm(BackForm):
    # Empty: the first on the waitlist.
    enrolment_id = IntegerField(validators=[Optional()])


class MoveForm(BackForm):
    direction = SelectField(choices=options([("up", _l("Up")), ("down", _l("Down"))]))

    @property
    def step(self) -> int:
        return -1 if self.direction.data == "up" else 1


def first_error(form: Any) -> str:
    """The first validation message of ``form``, for a flash."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(_l("The form could not be read. Reload the page and try again."))
