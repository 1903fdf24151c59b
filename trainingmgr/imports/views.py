"""Import pages (upload, preview with column mapping, confirm), the template and exports."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Cohort
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.forms import options
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.scope import managed_programme_ids, require_programme
from trainingmgr.core.views import outcome, run_action
from trainingmgr.extensions import db
from trainingmgr.imports import jobs, services, storage  # noqa: F401  (jobs: registered)
from trainingmgr.imports.forms import PreviewForm, UploadForm
from trainingmgr.imports.mapping import FIELDS
from trainingmgr.imports.models import UploadState
from trainingmgr.imports.parsing import MAX_COLUMNS, Table, read_table
from trainingmgr.imports.validation import Verdict
from trainingmgr.people.services import DirectoryFilter

bp = Blueprint("imports", __name__)

# Room for the multipart envelope and the other form fields around the file itself.
_FORM_OVERHEAD = 64 * 1024


def _max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def _too_large() -> str:
    return _(
        "The file is larger than the upload limit of %(mb)s MB. Remove unused sheets or "
        "columns, or split it into smaller files.",
        mb=current_app.config["MAX_UPLOAD_MB"],
    )


def _target_url(cohort: Cohort | None) -> str:
    """Where the import leads back to: the cohort's page, or the people directory."""
    if cohort is not None:
        return url_for("cohorts.detail", cohort_id=cohort.id)
    return url_for("people.index")


def _upload_url(cohort_id: int | None) -> str:
    if cohort_id is not None:
        return url_for(".cohort_upload", cohort_id=cohort_id)
    return url_for(".people_upload")


# --- upload -------------------------------------------------------------------------------


def _accept(file: Any, cohort: Cohort | None) -> storage.Upload:
    """Keep an uploaded file (DomainError: too large, or unreadable). A small file is read
    now; a large one by the worker."""
    data = file.read(_max_bytes() + 1)
    if len(data) > _max_bytes():
        raise DomainError(_too_large(), "file")
    return storage.accept_upload(
        data,
        file.filename or "",
        user_id=current_user.id,
        cohort_id=cohort.id if cohort is not None else None,
        threshold=int(current_app.config["IMPORT_WORKER_THRESHOLD_KB"]) * 1024,
    )


def _upload(cohort: Cohort | None) -> str | Response:
    form = UploadForm()
    if request.method == "POST" and (request.content_length or 0) > _max_bytes() + _FORM_OVERHEAD:
        form.file.errors = [_too_large()]
    elif form.validate_on_submit():
        done = run_action(lambda: _accept(form.file.data, cohort), show=False)
        if done:
            return redirect(url_for(".preview", token=done.value.token))
        form.file.errors = [done.error.message]
    return render_template(
        "imports/upload.html",
        form=form,
        cohort=cohort,
        back_url=_target_url(cohort),
        max_mb=current_app.config["MAX_UPLOAD_MB"],
    )


@bp.route("/cohorts/<int:cohort_id>/import", methods=["GET", "POST"])
@coordinator_only
def cohort_upload(cohort_id: int) -> str | Response:
    return _upload(db.get_or_404(Cohort, cohort_id))


@bp.route("/people/import", methods=["GET", "POST"])
@coordinator_only
def people_upload() -> str | Response:
    return _upload(None)


# --- preview and confirm ------------------------------------------------------------------


def _load(token: str) -> tuple[storage.Upload, Cohort | None]:
    try:
        upload = storage.load_upload(token, current_user.id)
    except NotFound:
        abort(404)
    cohort = db.get_or_404(Cohort, upload.cohort_id) if upload.cohort_id is not None else None
    if cohort is not None:
        require_programme(cohort.programme_id)  # the uploader may have left the programme
    return upload, cohort


@dataclass
class _Choices:
    """What the coordinator chose on the preview form."""

    mapping: list[str | None] | None = None  # None: recognise the columns again
    sheet: str | None = None
    duplicates: dict[int, str] = field(default_factory=dict)  # row number -> choice
    for_all: str | None = None  # "apply to all possible duplicates"

    def as_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping,
            "sheet": self.sheet,
            "duplicates": {str(k): v for k, v in self.duplicates.items()},
            "for_all": self.for_all,
        }

    @classmethod
    def from_dict(cls, kept: dict[str, Any]) -> _Choices:
        mapping = kept.get("mapping")
        return cls(
            mapping=[m if m in FIELDS else None for m in mapping] if mapping else None,
            sheet=kept.get("sheet"),
            duplicates={int(k): str(v) for k, v in (kept.get("duplicates") or {}).items()},
            for_all=kept.get("for_all"),
        )


def _posted_choices() -> _Choices:
    chosen = _Choices(sheet=request.form.get("sheet") or None)
    try:
        columns = min(int(request.form.get("columns", "0")), MAX_COLUMNS)
    except ValueError:
        columns = 0
    if columns and (request.form.get("mapped_sheet") or None) == chosen.sheet:
        chosen.mapping = [
            value if value in FIELDS else None
            for value in (request.form.get(f"map-{i}", "") for i in range(columns))
        ]
    for key, value in request.form.items():
        if key.startswith("dup-") and key[4:].isdigit():
            chosen.duplicates[int(key[4:])] = value
    if request.form.get("apply_all"):
        chosen.duplicates, chosen.for_all = {}, request.form.get("dup_all") or services.SKIP
    return chosen


def _table(upload: storage.Upload, sheet: str | None) -> Table:
    """The table read at the upload, or the sheet asked for (read now, and kept)."""
    table = upload.table
    if table is None or (sheet and sheet != table.sheet):
        table = read_table(upload.data, upload.filename, sheet)
        storage.keep_table(upload.token, table)
        db.session.commit()
    return table


def _render_preview(
    upload: storage.Upload, cohort: Cohort | None, form: PreviewForm, chosen: _Choices
) -> str | Response:
    built = outcome(
        lambda: services.build_preview(
            _table(upload, chosen.sheet),
            upload.filename,
            cohort=cohort,
            mapping=chosen.mapping,
            programme_ids=managed_programme_ids(),
            choices=chosen.duplicates,
            choice_for_all=chosen.for_all,
            cleaned=upload.cleaned,
        )
    )
    if not built:
        flash(built.error.message, "danger")
        return redirect(_upload_url(upload.cohort_id))
    preview = built.value
    if preview.cleaned_now and not preview.problems:
        storage.keep_cleaned(upload.token, preview.packed_cleaned())  # for the confirmation
        db.session.commit()
    form.sheet.choices = options((name, name) for name in preview.table.sheets)
    form.sheet.data = preview.table.sheet
    form.mapped_sheet.data = preview.table.sheet or ""
    form.signature.data = preview.signature
    return render_template(
        "imports/preview.html",
        form=form,
        preview=preview,
        upload=upload,
        cohort=cohort,
        fields=FIELDS,
        Verdict=Verdict,
        upload_url=_upload_url(upload.cohort_id),
        back_url=_target_url(cohort),
    )


def _not_ready(upload: storage.Upload, cohort: Cohort | None) -> str | Response | None:
    """The page for an upload that cannot be previewed (being read, unreadable, imported)."""
    if upload.waiting:
        return render_template(
            "imports/reading.html", upload=upload, cohort=cohort, back_url=_target_url(cohort)
        )
    if upload.state is UploadState.FAILED:
        flash(upload.message or "", "danger")
        return redirect(_upload_url(upload.cohort_id))
    if upload.state is UploadState.IMPORTED:
        # Back or reload after the import: say what was done, where it was done.
        flash(_("This file was already imported. %(summary)s", summary=upload.message), "info")
        return redirect(_target_url(cohort))
    return None


def _expired(exc: DomainError) -> Response:
    flash(exc.message, "warning")
    return redirect(url_for(".people_upload"))


def _opened(
    view: Callable[[str, storage.Upload, Cohort | None], str | Response],
) -> Callable[[str], str | Response]:
    """``view(token, upload, cohort)`` for an upload that can be previewed or confirmed;
    otherwise the page that says why not (expired, being read, unreadable, imported)."""

    @wraps(view)
    def opened(token: str) -> str | Response:
        loaded = outcome(lambda: _load(token))
        if not loaded:
            return _expired(loaded.error)
        upload, cohort = loaded.value
        waiting = _not_ready(upload, cohort)
        return view(token, upload, cohort) if waiting is None else waiting

    return opened


@bp.route("/import/<token>", methods=["GET", "POST"])
@coordinator_only
@_opened
def preview(token: str, upload: storage.Upload, cohort: Cohort | None) -> str | Response:
    if request.method == "POST":
        # Kept, then shown by a GET: Back and reload show the same choices, never a
        # "resubmit the form?" prompt.
        storage.keep_choices(token, _posted_choices().as_dict())
        db.session.commit()
        return redirect(url_for(".preview", token=token))
    return _render_preview(upload, cohort, PreviewForm(), _Choices.from_dict(upload.choices))


def _refused(token: str, chosen: _Choices, message: str) -> Response:
    """Nothing imported: back to the preview (a GET, with the choices kept), saying why."""
    db.session.rollback()
    storage.keep_choices(token, chosen.as_dict())
    db.session.commit()
    flash(message, "danger")
    return redirect(url_for(".preview", token=token))


@bp.route("/import/<token>/confirm", methods=["POST"])
@coordinator_only
@_opened
def confirm(token: str, upload: storage.Upload, cohort: Cohort | None) -> str | Response:
    chosen = _posted_choices()
    done = run_action(lambda: _import(token, upload, cohort, chosen), show=False)
    if not done:
        return _refused(token, chosen, done.error.message)
    summary = done.value
    flash(summary.message(), "info" if summary.nothing else "success")
    return redirect(_target_url(cohort))


def _import(
    token: str, upload: storage.Upload, cohort: Cohort | None, chosen: _Choices
) -> services.ImportSummary:
    """The import and the upload marked imported, in one transaction (the caller commits).
    Someone changing the same people meanwhile makes a unique constraint refuse it: that is
    said in words (DomainError), and nothing is imported."""
    form = PreviewForm()
    try:
        summary = services.confirm_import(
            _table(upload, chosen.sheet),
            upload.filename,
            actor=current_user,
            cohort=cohort,
            mapping=chosen.mapping,
            choices=chosen.duplicates,
            include=[int(v) for v in request.form.getlist("include") if v.isdigit()],
            exclude_errors=bool(form.exclude_errors.data),
            signature=form.signature.data or None,
            programme_ids=managed_programme_ids(),
            cleaned=upload.cleaned,
        )
        storage.mark_imported(token, summary.message())
        db.session.flush()
    except IntegrityError:
        raise DomainError(
            _(
                "Someone changed the same people while this import ran, so nothing was "
                "imported. Check the preview again, then confirm."
            )
        ) from None
    return summary


# --- template and exports -----------------------------------------------------------------


def _download(sheet: services.Sheet, fmt: str, title: str) -> Response:
    if fmt not in services.WRITERS:
        abort(404)
    response = send_file(
        io.BytesIO(services.render(sheet, fmt)),
        mimetype=services.MIME_TYPES[fmt],
        as_attachment=True,
        download_name=services.download_name(title, fmt),
    )
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    return response


def _stream(sheet: services.Sheet, fmt: str, title: str) -> Response:
    """A download sent as it is written, its rows read as it goes: flat memory, and bytes
    flowing from the start whatever the number of rows."""
    name = services.download_name(title, fmt)
    response = Response(
        stream_with_context(services.CHUNK_WRITERS[fmt](sheet)),
        mimetype=services.MIME_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    return response


@bp.route("/import/template.<fmt>")
@coordinator_only
def template(fmt: str) -> Response:
    return _download(services.template_sheet(), fmt, "participants-template")


def _record_export(what: str, count: int, cohort: Cohort | None = None) -> None:
    audit.record(
        "people.export",
        actor=current_user,
        **services.audit_target(cohort),
        changes={"what": what, "rows": count, "query": request.query_string.decode()[:500]},
        summary=f"{what}: {count} rows",
    )
    db.session.commit()


@bp.route("/cohorts/<int:cohort_id>/roster.<fmt>")
@coordinator_only
def roster_export(cohort_id: int, fmt: str) -> Response:
    if fmt not in services.WRITERS:
        abort(404)
    cohort = db.get_or_404(Cohort, cohort_id)
    sheet = services.roster_sheet(cohort)
    _record_export(f"roster.{fmt}", sheet.count or 0, cohort)
    return _download(sheet, fmt, f"{cohort.name} roster")


@bp.route("/people/export.<fmt>")
@coordinator_only
def people_export(fmt: str) -> Response:
    if fmt not in services.WRITERS:
        abort(404)
    sheet = services.people_sheet(DirectoryFilter.from_args(request.args), managed_programme_ids())
    _record_export(f"people.{fmt}", sheet.count or 0)
    return _stream(sheet, fmt, "people")
