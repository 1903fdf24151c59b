"""Forms: setting up a signing key (administrators) and checking a credential (anyone)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import Length

from trainingmgr.core.forms import FlaskForm


class GenerateKeyForm(FlaskForm):
    name = StringField(
        _l("Name shown in the signature"),
        validators=[Length(max=200)],
        description=_l("Usually the organisation's name, as in “Digitally signed by …”."),
    )


class UploadKeyForm(FlaskForm):
    file = FileField(_l("PKCS#12 file (.p12, .pfx)"), render_kw={"accept": ".p12,.pfx"})
    password = PasswordField(_l("Password of the file"), render_kw={"autocomplete": "off"})


class CheckCredentialForm(FlaskForm):
    credential = TextAreaField(
        _l("Paste the credential (JSON)"),
        render_kw={"rows": 8, "spellcheck": "false", "class": "font-monospace"},
    )
    file = FileField(_l("or upload the file"), render_kw={"accept": ".json,application/json"})
