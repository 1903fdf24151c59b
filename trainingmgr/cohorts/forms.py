"""Forms for cohorts and sessions. They parse input; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from trainingmgr.cohorts import schedule, services
from trainingmgr.cohorts.models import CohortStatus, DeliveryMode
from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.core.labels import label_for
from trainingmgr.core.urls import database_id
from trainingmgr.programmes.models import CertificateLanguage


def int_or_none(value: Any) -> int | None:
    """A select's id (None when none is chosen); ValueError (the field's error) for anything
    that is not an id a table can hold."""
    if value in (None, "", "None"):
        return None
    number = database_id(value)
    if number is None:
        raise ValueError(value)
    return number


class CohortForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[InputRequired(_l("Enter a name for the cohort.")), Length(max=200)]
    )
    start_date = DateField(
        _l("Start date"), validators=[InputRequired(_l("Enter the start date."))]
    )
    end_date = DateField(_l("End date"), validators=[InputRequired(_l("Enter the end date."))])
    timezone = StringField(
        _l("Time zone"),
        validators=[InputRequired(_l("Choose the cohort's time zone.")), Length(max=64)],
        render_kw={"list": "timezones", "autocomplete": "off", "spellcheck": "false"},
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=250)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=120)])
    country = StringField(
        _l("Country (ISO code)"),
        validators=[Optional(), Length(max=2, message=_l("Use the two-letter ISO code."))],
        render_kw={"maxlength": 2, "autocapitalize": "characters", "size": 4},
    )
    delivery_mode = SelectField(_l("Delivery mode"), choices=options(DeliveryMode.choices()))
    online_url = URLField(_l("Online link"), validators=[Optional(), Length(max=500)])
    capacity = IntegerField(
        _l("Capacity"), validators=[Optional()], render_kw={"min": 1, "inputmode": "numeric"}
    )
    language = SelectField(
        _l("Language of instruction"),
        choices=options((code, label_for(code)) for code in services.LANGUAGES),
    )
    certificate_language = SelectField(
        _l("Certificate language"), choices=options(CertificateLanguage.choices())
    )
    min_attendance_pct = IntegerField(
        _l("Minimum attendance (%)"), validators=[Optional()], render_kw={"min": 0, "max": 100}
    )
    min_hours = DecimalField(
        _l("Minimum hours"), places=2, validators=[Optional()], render_kw={"min": 0, "step": "0.5"}
    )
    required_module_ids = SelectMultipleField(
        _l("Required modules"), coerce=int, choices=[], validate_choice=False
    )
    late_grace_minutes = IntegerField(
        _l("Late grace (minutes)"),
        default=15,
        validators=[InputRequired(_l("Enter the late grace in minutes (0 for none)."))],
        render_kw={"min": 0, "max": 600},
    )
    parent_cohort_id = SelectField(
        _l("Parent training of trainers"), coerce=int_or_none, choices=[], validate_choice=False
    )
    auto_fill_waitlist = BooleanField(_l("Fill free seats from the waitlist automatically"))

    def to_input(self) -> services.CohortInput:
        return services.CohortInput(
            name=self.name.data or "",
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            timezone=self.timezone.data or "",
            venue=self.venue.data or "",
            city=self.city.data or "",
            country=self.country.data or None,
            delivery_mode=DeliveryMode(self.delivery_mode.data),
            online_url=self.online_url.data or None,
            capacity=self.capacity.data,
            language=self.language.data,
            certificate_language=CertificateLanguage(self.certificate_language.data),
            min_attendance_pct=self.min_attendance_pct.data,
            min_hours=self.min_hours.data,
            required_module_ids=list(self.required_module_ids.data or []),
            late_grace_minutes=self.late_grace_minutes.data,
            parent_cohort_id=self.parent_cohort_id.data,
            auto_fill_waitlist=bool(self.auto_fill_waitlist.data),
        )


class _SessionFieldsForm(FlaskForm):
    """Fields a single session and a series share."""

    start_time = TimeField(
        _l("Start time"), validators=[InputRequired(_l("Enter the start time."))]
    )
    end_time = TimeField(_l("End time"), validators=[InputRequired(_l("Enter the end time."))])
    module_id = SelectField(_l("Module"), coerce=int_or_none, choices=[], validate_choice=False)
    title = StringField(_l("Title"), validators=[Optional(), Length(max=250)])
    mode = SelectField(_l("Mode"), choices=options(DeliveryMode.choices()))
    location = StringField(_l("Room or location"), validators=[Optional(), Length(max=250)])
    online_url = URLField(_l("Online link"), validators=[Optional(), Length(max=500)])
    trainer_ids = SelectMultipleField(
        _l("Trainers"),
        coerce=int,
        choices=[],
        validate_choice=False,
    )
    # The fingerprint of the warnings shown, and the "Save anyway" button that confirms them.
    acknowledged = HiddenField()
    confirm = BooleanField(_l("Save anyway"))

    def details(self) -> dict[str, Any]:
        return {
            "module_id": self.module_id.data,
            "title": self.title.data or "",
            "mode": DeliveryMode(self.mode.data),
            "location": self.location.data or "",
            "online_url": self.online_url.data or None,
            "trainer_ids": list(self.trainer_ids.data or []),
        }

    def acknowledged_digest(self) -> str | None:
        return self.acknowledged.data if self.confirm.data else None


class SessionForm(_SessionFieldsForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date of the session."))])
    # A move is saved once the coordinator has seen who will be told: ``notice_for`` holds
    # the new times they saw the notice for.
    notice_for = HiddenField()
    tell = BooleanField(_l("Tell them by e-mail"), default=True)

    def to_input(self) -> schedule.SessionInput:
        return schedule.SessionInput(
            day=self.day.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            **self.details(),
        )


class CancelSessionForm(FlaskForm):
    tell = BooleanField(_l("Tell them by e-mail"), default=True)
    records_confirmed = BooleanField(
        _l("Cancel it anyway: the attendance recorded is kept, and no longer counts.")
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SeriesForm(_SessionFieldsForm):
    start_date = DateField(
        _l("First date"), validators=[InputRequired(_l("Enter the first date of the series."))]
    )
    end_date = DateField(
        _l("Last date"), validators=[InputRequired(_l("Enter the last date of the series."))]
    )
    weekdays = MultiCheckboxField(_l("On"), coerce=int, choices=[], validate_choice=False)
    interval_weeks = IntegerField(
        _l("Every … weeks"),
        default=1,
        validators=[InputRequired(_l("Enter how often the series repeats, in weeks."))],
        render_kw={"min": 1, "max": 52},
    )

    def to_input(self) -> schedule.SeriesInput:
        return schedule.SeriesInput(
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            weekdays=list(self.weekdays.data or []),
            interval_weeks=self.interval_weeks.data,
            start_time=self.start_time.data,
            end_time=self.end_time.data,
            **self.details(),
        )


class CohortFilterForm(Form):
    """The filters of the cohort list (a GET form: no CSRF token)."""

    programme_id = SelectField(
        _l("Programme"), coerce=int_or_none, choices=[], validate_choice=False
    )
    status = SelectField(
        _l("Status"),
        choices=options([("", _l("Not archived")), ("all", _l("All")), *CohortStatus.choices()]),
        default="",
    )
    period = SelectField(
        _l("Period"),
        choices=options(
            [
                ("", _l("Any time")),
                ("current", _l("Under way")),
                ("upcoming", _l("Upcoming")),
                ("past", _l("Ended")),
            ]
        ),
        default="",
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
