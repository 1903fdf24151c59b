"""Forms of the portal: asking for a sign-in link, and the profile."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from trainingmgr.core.forms import FlaskForm, email_field, grouped_options, options


class RequestLinkForm(FlaskForm):
    email = email_field(
        _l("Enter your e-mail address."),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "email", "autofocus": True, "inputmode": "email"},
    )


class ConfirmForm(FlaskForm):
    """A button only (with its CSRF token)."""


class ProfileForm(FlaskForm):
    timezone = SelectField(
        _l("Time zone"), invalid_choice_message=_l("Choose a time zone from the list.")
    )
    locale = SelectField(
        _l("Language"), invalid_choice_message=_l("Choose a language from the list.")
    )

    def __init__(
        self,
        *args: Any,
        zones: dict[str, list[tuple[str, str, str]]],
        languages: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = [
            *options([("", _l("Each cohort's own time zone"))]),
            *grouped_options(zones),
        ]
        self.locale.choices = options([("", _l("The language of my browser")), *languages.items()])
