"""The form where a verification code is typed (sent with GET, so no CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField

from trainingmgr.core.forms import FlaskForm


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(
        _l("Verification code"),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "placeholder": "XXXX-XXXX-XXXX-XXXX",
            "inputmode": "text",
        },
    )
