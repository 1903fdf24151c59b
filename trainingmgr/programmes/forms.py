"""Forms for programmes, partners and curriculum modules.

The forms only parse what was typed; the rules (formats, ranges, uniqueness) live in
``trainingmgr.programmes.services`` and come back as messages next to the fields.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import TextInput

from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.core.numbers import amount_text
from trainingmgr.organisation import images
from trainingmgr.programmes import services
from trainingmgr.programmes.models import CertificateLanguage, PartnerRole, ProgrammeKind


class AmountField(DecimalField):
    """An optional decimal typed as text, as the reader's language writes numbers
    (``core.numbers.amount_text``): "1,319,151.36", "1 319 151,36", "1,5" hours.

    A text input, not a number input: browsers empty a number input they cannot parse,
    which would silently drop what was typed. Phones show their decimal keyboard for it.
    """

    widget = TextInput()

    def __init__(self, label: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [Optional()])
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            valuelist = [amount_text(str(valuelist[0]))]
        super().process_formdata(valuelist)


def _code_field(example: str) -> StringField:
    return StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter a code.")), Length(max=services.CODE_MAX)],
        description=_l("Letters A-Z, digits and dashes, for example %(example)s.", example=example),
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )


def _title_field() -> StringField:
    return StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=250)]
    )


class ProgrammeForm(FlaskForm):
    code = _code_field("MMDP-2026")
    title = _title_field()
    kind = SelectField(_l("Kind"), choices=options(ProgrammeKind.choices()))
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})
    start_date = DateField(
        _l("Start date"),
        validators=[Optional()],
        invalid_value_message=_l("Enter a date such as 2026-03-02."),
    )
    end_date = DateField(
        _l("End date"),
        validators=[Optional()],
        invalid_value_message=_l("Enter a date such as 2026-06-30."),
    )
    budget = AmountField(
        _l("Budget"),
        invalid_value_message=_l("Enter an amount such as 1319151.36."),
    )
    currency = StringField(
        _l("Currency"),
        validators=[Optional(), Length(max=3)],
        description=_l("ISO 4217 code, for example EUR, USD or AZN."),
        render_kw={"list": "currency-codes", "autocapitalize": "characters", "maxlength": 3},
    )
    target_countries = StringField(
        _l("Target countries"),
        validators=[Length(max=2000)],
        description=_l("ISO codes or names separated by commas, for example AZ, Georgia, TR."),
    )
    target_regions = StringField(
        _l("Target regions"),
        validators=[Length(max=500)],
        description=_l("Free text, for example South Caucasus, Central Asia."),
    )
    default_min_attendance_pct = IntegerField(
        _l("Minimum attendance (%)"),
        validators=[Optional()],
        invalid_value_message=_l("Enter a whole number from 0 to 100."),
        description=_l("Default completion rule for new cohorts."),
        render_kw={"inputmode": "numeric"},
    )
    default_min_hours = AmountField(
        _l("Minimum hours"),
        invalid_value_message=_l("Enter a number of hours such as 40 or 37.5."),
        description=_l("Default for new cohorts; leave empty for no minimum."),
    )
    default_certificate_language = SelectField(
        _l("Certificate language"), choices=options(CertificateLanguage.choices())
    )

    def to_input(self) -> services.ProgrammeInput:
        return services.ProgrammeInput(
            code=self.code.data or "",
            title=self.title.data or "",
            kind=self.kind.data,
            description=self.description.data or "",
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            budget=self.budget.data,
            currency=self.currency.data,
            target_countries=self.target_countries.data or "",
            target_regions=self.target_regions.data or "",
            default_min_attendance_pct=self.default_min_attendance_pct.data,
            default_min_hours=self.default_min_hours.data,
            default_certificate_language=self.default_certificate_language.data,
        )

    def fill(self, programme: Any) -> None:
        """Show a stored programme (countries as "AZ, GE")."""
        self.process(obj=programme)
        self.target_countries.data = ", ".join(programme.country_codes)


class PartnerForm(FlaskForm):
    name = StringField(
        _l("Organisation"),
        validators=[DataRequired(_l("Enter the name of the organisation.")), Length(max=250)],
    )
    role = SelectField(_l("Role"), choices=options(PartnerRole.choices()))
    funding_share = AmountField(
        _l("Share of funding (%)"),
        invalid_value_message=_l("Enter a percentage such as 94.91."),
        description=_l("Funders only; the shares of all funders add up to at most 100%."),
    )
    european_union = BooleanField(
        _l("This funder is the European Union"),
        description=_l(
            "Certificates then print the EU emblem with “Funded by the European Union”, as "
            "the EU's visibility rules require (no logo needed)."
        ),
    )
    logo = FileField(_l("Logo printed on certificates"), render_kw={"accept": images.ACCEPT})
    remove_logo = BooleanField(_l("Remove the logo"))

    def to_input(self) -> services.PartnerInput:
        """What was entered; a chosen logo file is checked here (``DomainError`` on ``logo``
        when it is not a usable image)."""
        upload = self.logo.data
        logo = None
        if upload is not None and getattr(upload, "filename", ""):
            logo = images.validate_image(upload, "logo")
        return services.PartnerInput(
            name=self.name.data or "",
            role=self.role.data,
            funding_share=self.funding_share.data,
            european_union=bool(self.european_union.data),
            logo=logo,
            remove_logo=bool(self.remove_logo.data),
        )


class ModuleForm(FlaskForm):
    code = _code_field("MIL-01")
    title = _title_field()
    competence_area = StringField(_l("Competence area"), validators=[Length(max=250)])
    hours = AmountField(
        _l("Hours"),
        invalid_value_message=_l("Enter a number of hours such as 6 or 4.5."),
    )
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})

    def to_input(self) -> services.ModuleInput:
        return services.ModuleInput(
            code=self.code.data or "",
            title=self.title.data or "",
            competence_area=self.competence_area.data or "",
            hours=self.hours.data,
            description=self.description.data or "",
        )
