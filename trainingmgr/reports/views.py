"""The programme dashboard, the donor report (XLSX, PDF) and the training-of-trainers cascade.

Coordinators see their programmes, administrators all (``managed_programme_ids``); ids taken
from the query string are checked here, the cohort of the cascade's URL by the scope check.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from trainingmgr.certificates.export import content_disposition
from trainingmgr.core.forms import options
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.scope import managed_programme_ids, require_programme
from trainingmgr.core.views import load_or_404
from trainingmgr.reports import cascade as cascades
from trainingmgr.reports import charts, export, pdf_report, sections, services
from trainingmgr.reports.forms import REPORT_LANGUAGES, ReportFilterForm

bp = Blueprint("reports", __name__, url_prefix="/reports")

# Rows of a breakdown shown on the page (countries and institutions: the largest first);
# the donor reports list them all.
PAGE_ROWS = 25

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> tuple[ReportFilterForm, services.Filters]:
    """The filters from the query string. A programme outside the viewer's scope is 404;
    any other value that does not fit gets a message next to its field and is ignored."""
    form = ReportFilterForm(request.args)
    scope = managed_programme_ids()
    form.programme.choices = options(
        [("", _("All programmes"))]
        + [(p.id, f"{p.code} — {p.title}") for p in services.programme_choices(scope)]
    )
    form.validate()
    programme_id = None if form.programme.errors else form.programme.data
    if programme_id is not None:
        require_programme(programme_id)
    cohorts = services.cohort_choices(scope, programme_id)
    form.cohort.choices = options([("", _("All cohorts")), *cohorts])
    cohort_id = None if form.cohort.errors else form.cohort.data
    if cohort_id is not None and cohort_id not in {cid for cid, _label in cohorts}:
        form.cohort.errors = [_("Choose one of the cohorts of the list.")]
        cohort_id = None
    funders = services.funder_choices(scope)
    form.funder.choices = options([("", _("Any funder")), *((f, f) for f in funders)])
    funder = form.funder.data or ""
    if funder and funder not in funders:
        form.funder.errors = [_("Choose one of the funders of the list.")]
        funder = ""
    start = None if form.start.errors else form.start.data
    end = None if form.end.errors else form.end.data
    if start and end and end < start:
        form.end.errors = [_("The end of the period must not be before its start.")]
        end = None
    if form.lang.data not in {code for code, _label in REPORT_LANGUAGES}:
        form.lang.data = str(get_locale() or "en").split("_")[0]
        if form.lang.data not in {code for code, _label in REPORT_LANGUAGES}:
            form.lang.data = "en"
    return form, services.Filters(programme_id, cohort_id, funder, start, end)


def _selection(dashboard: services.Dashboard) -> sections.Selection:
    scope = managed_programme_ids()
    return sections.Selection(
        dashboard.filters,
        tuple(dashboard.cohort_ids),
        tuple(p.id for p in dashboard.programmes),
        None if scope is None else frozenset(scope),
    )


# The reports' own extra section: the cascades of the trainings of trainers shown.
sections.register(sections.Section("cascades", cascades.cascade_section, position=50))


@bp.route("/")
@coordinator_only
def dashboard() -> str:
    form, filters = _filters()
    data = services.dashboard(filters, managed_programme_ids())
    return render_template(
        "reports/dashboard.html",
        form=form,
        data=data,
        headline=services.headline(data.totals, len(data.cohorts)),
        charts=[(chart, charts.svg(chart)) for chart in charts.dashboard_charts(data)],
        columns=services.columns,
        fmt=services.fmt_value,
        extra=sections.build_all(_selection(data)),
        svg=charts.svg,
        tots=[c for c in data.cohorts if c.programme_kind.value == "training_of_trainers"],
        page_rows=PAGE_ROWS,
    )


_FILES = {"xlsx": XLSX, "pdf": "application/pdf"}


@bp.route("/report.<any(xlsx, pdf):kind>")
@coordinator_only
def report_file(kind: str) -> Response:
    """The donor report of the filtered programmes as a spreadsheet or a PDF, in the
    language chosen on the dashboard."""
    form, filters = _filters()
    with force_locale(form.lang.data):
        data = services.dashboard(filters, managed_programme_ids())
        extra = sections.build_all(_selection(data))
        name = export.file_name(data)
        write = export.xlsx if kind == "xlsx" else pdf_report.pdf
        body = write(data, extra)
    return Response(
        body,
        mimetype=_FILES[kind],
        headers={"Content-Disposition": content_disposition(f"{name}.{kind}")},
    )


@bp.route("/cohorts/<int:cohort_id>/cascade")
@coordinator_only
def cascade(cohort_id: int) -> Any:
    result = load_or_404(cascades.cascade, cohort_id, managed_programme_ids())
    return render_template("reports/cascade.html", result=result, tree=cascades.tree_svg(result))
