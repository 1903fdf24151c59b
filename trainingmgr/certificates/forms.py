"""Forms of the coordinator's certificate screens (CSRF comes with ``FlaskForm``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from trainingmgr.core.forms import FlaskForm

REASON_MAX = 1000
PUBLIC_NOTE_MAX = 300


class IssueForm(FlaskForm):
    """Issue to one participant. The reason is needed only when the completion rule does not
    find them eligible: the service decides, and its refusal shows next to the field."""

    override_reason = TextAreaField(
        _l("Why is the certificate issued anyway?"),
        validators=[Optional(), Length(max=REASON_MAX)],
        render_kw={"rows": 3},
    )
    # Asked (and required by the service) only before the cohort's end date.
    confirm_before_end = BooleanField(_l("Issue before the cohort ends"))


class ReasonForm(FlaskForm):
    """Revoke or reissue a certificate: a written reason is required (it is audited)."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Write the reason.")), Length(max=REASON_MAX)],
        render_kw={"rows": 3},
    )


class RevokeForm(ReasonForm):
    """Revoke: the reason stays internal; an optional note is shown on the public page."""

    public_note = TextAreaField(
        _l("Public note (optional)"),
        validators=[Optional(), Length(max=PUBLIC_NOTE_MAX)],
        render_kw={"rows": 2},
    )
