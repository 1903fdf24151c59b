"""Sign-in and password forms. The password policy itself is ``accounts.passwords``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from trainingmgr.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from trainingmgr.core.forms import FlaskForm, email_field


def _email_field() -> EmailField:
    return email_field(
        _l("Enter your e-mail address."),
        render_kw={"autocomplete": "username", "autofocus": True},
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class PasswordResetRequestForm(FlaskForm):
    email = _email_field()


NEW_PASSWORD_HELP = _l(
    "At least %(n)s characters. A few unrelated words make a good password; "
    "very common passwords are refused.",
    n=MIN_PASSWORD_LENGTH,
)


class NewPasswordForm(FlaskForm):
    """Choose a password (invitation, reset link): typed twice."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={
            "autocomplete": "new-password",
            "minlength": MIN_PASSWORD_LENGTH,
            "autofocus": True,
        },
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the password a second time.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=500)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.password.render_kw = {**self.password.render_kw, "autofocus": False}


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Type the code.")), Length(max=40)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )
