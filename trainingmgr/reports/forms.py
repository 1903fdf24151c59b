"""The dashboard's filters (a GET form: no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from trainingmgr.cohorts.forms import int_or_none
from trainingmgr.core.forms import options

REPORT_LANGUAGES = [("en", _l("English")), ("ru", _l("Russian")), ("az", _l("Azerbaijani"))]


class ReportFilterForm(Form):
    programme = SelectField(_l("Programme"), coerce=int_or_none, choices=[], validate_choice=False)
    cohort = SelectField(_l("Cohort"), coerce=int_or_none, choices=[], validate_choice=False)
    funder = SelectField(_l("Funder"), choices=[], validate_choice=False, default="")
    start = DateField(_l("Cohorts starting from"), validators=[Optional()])
    end = DateField(_l("to"), validators=[Optional()])
    lang = SelectField(
        _l("Language of the report"), choices=options(REPORT_LANGUAGES), validate_choice=False
    )
