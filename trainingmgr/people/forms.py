"""Forms of the people directory. Rules (valid e-mail, unique e-mail, known country) live in
``people.services``; the forms only bound lengths and offer choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.core.urls import LARGEST_ID
from trainingmgr.people.models import FIELD_LABELS, Sex
from trainingmgr.people.services import PersonData


class PersonForm(FlaskForm):
    first_name = StringField(FIELD_LABELS["first_name"], validators=[Length(max=120)])
    last_name = StringField(FIELD_LABELS["last_name"], validators=[Length(max=120)])
    name_latin = StringField(
        FIELD_LABELS["name_latin"],
        validators=[Optional(), Length(max=250)],
        description=_l("Only if the name is written in another script, e.g. Ivan Petrov."),
    )
    email = EmailField(
        FIELD_LABELS["email"],
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    sex = SelectField(FIELD_LABELS["sex"], choices=[], validators=[Optional()])
    country = StringField(
        FIELD_LABELS["country"],
        validators=[Optional(), Length(max=100)],
        description=_l("A country name or its ISO code, e.g. Azerbaijan or AZ."),
        render_kw={"list": "country-names", "autocomplete": "off"},
    )
    organisation = StringField(
        FIELD_LABELS["organisation"], validators=[Optional(), Length(max=250)]
    )
    position = StringField(FIELD_LABELS["position"], validators=[Optional(), Length(max=250)])
    phone = StringField(
        FIELD_LABELS["phone"], validators=[Optional(), Length(max=50)], render_kw={"type": "tel"}
    )
    notes = TextAreaField(
        FIELD_LABELS["notes"], validators=[Optional(), Length(max=5000)], render_kw={"rows": 3}
    )

    # "Add a person" only: one token per form shown, so that the same form sent twice (Back,
    # then Save again) adds one person; and the answer to the likely-duplicates warning.
    form_token = HiddenField()
    not_duplicate = BooleanField(_l("This is another person: add them anyway"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.sex.choices = options([("", _l("Not recorded")), *Sex.choices()])

    def to_data(self) -> PersonData:
        return PersonData(**{name: self[name].data for name in PersonData.__dataclass_fields__})


class MergeForm(FlaskForm):
    """Which record to keep and which duplicate to merge into it: read from the query
    string to preview, then posted to confirm."""

    keep = IntegerField(
        _l("Record to keep (number)"),
        validators=[
            DataRequired(_l("Choose the record to keep.")),
            NumberRange(min=1, max=LARGEST_ID),
        ],
    )
    duplicate = IntegerField(
        _l("Duplicate to merge into it (number)"),
        validators=[
            DataRequired(_l("Choose the duplicate record.")),
            NumberRange(min=1, max=LARGEST_ID),
        ],
    )
