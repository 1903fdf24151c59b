"""Forms for the organisation's settings, logos and signatories.

Uploaded images are checked by ``trainingmgr.organisation.images`` (in the views, through
``image_or_error``), so the message about a bad file sits next to its field.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from trainingmgr.core.forms import FlaskForm, options
from trainingmgr.organisation import fonts, images, services
from trainingmgr.programmes.models import CertificateLanguage


def _file_field(label: Any, required: bool) -> FileField:
    validators = [FileRequired(_l("Choose a PNG or JPEG file."))] if required else []
    return FileField(label, validators=validators, render_kw={"accept": images.ACCEPT})


def uploaded_image(field: FileField) -> tuple[bytes, str] | None:
    """The checked image of a file field, None when no file was chosen.

    A bad file raises ``DomainError`` on the field (``run_action`` shows it there).
    """
    upload = field.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return images.validate_image(upload, field.name)


class SettingsForm(FlaskForm):
    name = StringField(
        _l("Organisation name"),
        validators=[DataRequired(_l("Enter the organisation's name."))],
        description=_l("Shown on certificates and in e-mails."),
        render_kw={"maxlength": services.NAME_MAX},
    )
    default_certificate_language = SelectField(
        _l("Default certificate language"),
        choices=options(CertificateLanguage.choices()),
        description=_l("Proposed for new programmes; each programme and cohort can change it."),
    )
    default_timezone = StringField(
        _l("Default time zone"),
        validators=[DataRequired(_l("Choose a time zone.")), Length(max=64)],
        description=_l("Proposed for new cohorts, for example Europe/Amsterdam or Asia/Baku."),
        render_kw={"list": "timezones", "autocomplete": "off", "spellcheck": "false"},
    )
    two_factor_admins = BooleanField(
        _l("Require two-factor sign-in for administrators"),
        description=_l("An authenticator app's code after the password. Recommended."),
    )
    two_factor_coordinators = BooleanField(
        _l("Require two-factor sign-in for coordinators"),
        description=_l("They set it up at their next sign-in."),
    )

    def to_input(self) -> services.SettingsInput:
        return services.SettingsInput(
            name=self.name.data or "",
            default_certificate_language=self.default_certificate_language.data,
            default_timezone=self.default_timezone.data or "",
            two_factor_admins=bool(self.two_factor_admins.data),
            two_factor_coordinators=bool(self.two_factor_coordinators.data),
        )


class FontForm(FlaskForm):
    font = FileField(
        _l("Font file"),
        validators=[FileRequired(_l("Choose a font file."))],
        render_kw={"accept": fonts.ACCEPT},
    )


class LogoForm(FlaskForm):
    logo = _file_field(_l("Logo"), required=True)


class SignatoryForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Enter the name of the person who signs."))],
        description=_l("As printed under the signature, for example Dr. Anna Petrova."),
        render_kw={"maxlength": services.SIGNATORY_NAME_MAX},
    )
    title = StringField(
        _l("Title"),
        description=_l("For example Programme Director."),
        render_kw={"maxlength": services.SIGNATORY_TITLE_MAX},
    )
    signature = _file_field(_l("Signature image"), required=False)
    remove_signature = BooleanField(_l("Remove the signature image"))

    def to_input(self) -> services.SignatoryInput:
        return services.SignatoryInput(name=self.name.data or "", title=self.title.data or "")
