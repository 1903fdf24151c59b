"""Forms of the accounts pages. The rules (who may give which role, the last administrator,
one person per account) live in ``admin.services``; the forms only read the input."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from trainingmgr.accounts.models import Role
from trainingmgr.core.forms import FlaskForm, email_field, options
from trainingmgr.programmes.models import Programme


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes. Choices are not checked against the list shown: the
    service says clearly what may not be chosen."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


def role_options(roles: list[Role]) -> list[Any]:
    return options((r.value, r.label) for r in roles)


def programme_options(programmes: list[Programme]) -> list[Any]:
    return options((p.id, f"{p.code} · {p.title}") for p in programmes)


class AccountForm(FlaskForm):
    roles = CheckboxesField(_l("Roles"), choices=[], coerce=str)
    programmes = CheckboxesField(
        _l("Programmes coordinated"),
        choices=[],
        coerce=int,
        description=_l("Only for coordinators: the programmes they manage."),
    )


class InviteForm(FlaskForm):
    email = email_field(
        _l("Enter the e-mail address to invite."), render_kw={"autocomplete": "off"}
    )
    first_name = StringField(
        _l("First name"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    last_name = StringField(
        _l("Last name"),
        validators=[Optional(), Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    roles = CheckboxesField(_l("Role"), choices=[], coerce=str)
    programmes = CheckboxesField(_l("Programmes"), choices=[], coerce=int)


class PersonLinkForm(FlaskForm):
    person_id = IntegerField(
        _l("Person record (number)"),
        validators=[Optional(), NumberRange(min=1, max=2_000_000_000)],
    )


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A POST button's form: only the CSRF token."""
