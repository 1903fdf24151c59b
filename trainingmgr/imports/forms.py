"""Forms of the import pages. The column mapping and the rows to include are read from the
request by the view: their number depends on the file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField

from trainingmgr.core.forms import FlaskForm

ACCEPT = (
    ".csv,.txt,.xlsx,text/csv,text/plain,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)


class UploadForm(FlaskForm):
    file = FileField(
        _l("Spreadsheet (CSV or Excel .xlsx)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={"accept": ACCEPT},
    )


class PreviewForm(FlaskForm):
    sheet = SelectField(_l("Sheet"), choices=[], validate_choice=False)
    # The sheet the posted column mapping belongs to: another sheet is mapped afresh.
    mapped_sheet = HiddenField()
    # The preview the coordinator saw: confirming a stale preview is refused.
    signature = HiddenField()
    exclude_errors = BooleanField(_l("Exclude the rows with errors and import the others"))
