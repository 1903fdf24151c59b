"""The audit trail page (``/audit``) and its CSV export (``/audit.csv``), for administrators
(every event) and coordinators (events of their programmes). Read-only: nothing in the
application edits or deletes an event."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import current_user

from trainingmgr.audit import queries
from trainingmgr.audit import services as audit
from trainingmgr.core.pagination import page_args, paginate
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.timefmt import fmt_zone
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

bp = Blueprint("audit", __name__)


@bp.route("/audit")
@coordinator_only
def index() -> str:
    flt = queries.AuditFilter.from_args(request.args)
    tz = queries.reader_timezone(actor=current_user)
    page, per_page = page_args(request.args)
    result = paginate(
        queries.events_query(flt, tz, actor=current_user),
        page,
        per_page,
        scalars=False,
        count_limit=queries.COUNT_LIMIT,
    )
    return render_template(
        "audit/index.html",
        filters=flt,
        result=result,
        rows=queries.event_rows(result.items, tz),
        tz=tz,
        zone=fmt_zone(tz),
        programmes=queries.programme_options(actor=current_user),
        actions=queries.action_options(),
        object_types=queries.object_type_options(),
    )


@bp.route("/audit.csv")
@coordinator_only
def export() -> Response:
    flt = queries.AuditFilter.from_args(request.args)
    tz = queries.reader_timezone(actor=current_user)
    audit.record(
        "audit.export",
        actor=current_user,
        object_type="audit_events",
        changes={"filters": flt.as_args()},
        summary="CSV export of the audit trail",
        ip=request.remote_addr,
    )
    db.session.commit()
    query = queries.events_query(flt, tz, actor=current_user)
    name = f"audit-trail-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(queries.csv_lines(query, tz)),
        mimetype="text/csv",  # Werkzeug adds the charset
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
