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
from trainingmgr.people.models import Sex
from trainingmgr.people.services import PersonData

# Labels of a person's fields, also used where fields are listed (the merge preview).
LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "name_latin": _l("Name in Latin letters"),
    "email": _l("E-mail"),
    "sex": _l("Sex"),
    "country": _l("Country"),
    "organisation": _l("Organisation"),
    "position": _l("Position"),
    "phone": _l("Phone"),
    "notes": _l("Notes"),
}


class PersonForm(FlaskForm):
    first_name = StringField(LABELS["first_name"], validators=[Length(max=120)])
    last_name = StringField(LABELS["last_name"], validators=[Length(max=120)])
    name_latin = StringField(
        LABELS["name_latin"],
        validators=[Optional(), Length(max=250)],
        description=_l("Only if the name is written in another script, e.g. Ivan Petrov."),
    )
    email = EmailField(
        LABELS["email"], validators=[Optional(), Length(max=254)], render_kw={"autocomplete": "off"}
    )
    sex = SelectField(LABELS["sex"], choices=[], validators=[Optional()])
    country = StringField(
        LABELS["country"],
        validators=[Optional(), Length(max=100)],
        description=_l("A country name or its ISO code, e.g. Azerbaijan or AZ."),
        render_kw={"list": "country-names", "autocomplete": "off"},
    )
    organisation = StringField(LABELS["organisation"], validators=[Optional(), Length(max=250)])
    position = StringField(LABELS["position"], validators=[Optional(), Length(max=250)])
    phone = StringField(
        LABELS["phone"], validators=[Optional(), Length(max=50)], render_kw={"type": "tel"}
    )
    notes = TextAreaField(
        LABELS["notes"], validators=[Optional(), Length(max=5000)], render_kw={"rows": 3}
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
        validators=[DataRequired(_l("Choose the record to keep.")), NumberRange(min=1)],
    )
    duplicate = IntegerField(
        _l("Duplicate to merge into it (number)"),
        validators=[DataRequired(_l("Choose the duplicate record.")), NumberRange(min=1)],
    )
