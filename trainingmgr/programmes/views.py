"""Programmes, partners and funders, and curricula: the coordinator's screens."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pycountry
from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_currency, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.core.forms import FlaskForm
from trainingmgr.core.permissions import coordinator_only
from trainingmgr.core.scope import can_manage_programme, managed_programme_ids
from trainingmgr.core.views import load_or_404, run_action, submit
from trainingmgr.extensions import db
from trainingmgr.organisation import images
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation import views as organisation_views
from trainingmgr.programmes import services
from trainingmgr.programmes.forms import ModuleForm, PartnerForm, ProgrammeForm
from trainingmgr.programmes.models import Module, Programme, ProgrammePartner, ProgrammeStatus

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

T = TypeVar("T")

STATUS_FILTERS = {
    "active": ProgrammeStatus.ACTIVE,
    "archived": ProgrammeStatus.ARCHIVED,
    "all": None,
}


@bp.context_processor
def _formatting() -> dict[str, Any]:
    def money(amount: Decimal | None, currency: str | None) -> str:
        if amount is None:
            return ""
        return format_currency(amount, currency) if currency else format_decimal(amount)

    return {"money": money, "number": format_decimal}


# --------------------------------------------------------------------------- helpers


def _programme(programme_id: int) -> Programme:
    return db.get_or_404(Programme, programme_id)


def _owned(model: type[T], programme_id: int, item_id: int) -> T:
    """A partner or module of the programme named in the URL; 404 for another's."""
    item = db.get_or_404(model, item_id)
    if item.programme_id != programme_id:  # type: ignore[attr-defined]
        abort(404)
    return item


def _partner(programme_id: int, partner_id: int) -> ProgrammePartner:
    return _owned(ProgrammePartner, programme_id, partner_id)


def _module(programme_id: int, module_id: int) -> Module:
    return _owned(Module, programme_id, module_id)


def _to_detail(programme_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for("programmes.detail", programme_id=programme_id, _anchor=anchor))


def _item_action(
    programme_id: int, anchor: str, action: Callable[[], Any], success: str = ""
) -> Response:
    """A partner's or a module's POST action (move, retire, delete...): back to ``anchor`` on
    the programme's page once done, to its top with the message when refused."""
    return _to_detail(programme_id, anchor if run_action(action, success) else None)


def _item_form(
    form: FlaskForm,
    action: Callable[[], Any],
    success: str,
    template: str,
    anchor: str,
    *,
    programme: Programme,
    another: str | None = None,
    **context: Any,
) -> str | Response:
    """A partner's or a module's form page.

    Once saved, back to ``anchor`` on the programme's page, or to ``another`` blank form
    when the coordinator asked for one; otherwise the form again, with its errors.
    """
    if submit(form, action, success):
        if another and request.form.get("next") == "another":
            return redirect(url_for(another, programme_id=programme.id))
        return _to_detail(programme.id, anchor)
    return render_template(template, form=form, programme=programme, **context)


# --------------------------------------------------------------------------- programmes


@bp.route("/")
@coordinator_only
def index() -> str:
    shown = request.args.get("status", "active")
    if shown not in STATUS_FILTERS:
        shown = "active"
    return render_template(
        "programmes/index.html",
        rows=services.list_programmes(STATUS_FILTERS[shown], managed_programme_ids()),
        shown=shown,
    )


def _currencies() -> list[Any]:
    return sorted(pycountry.currencies, key=lambda c: c.alpha_3)


@bp.route("/new", methods=["GET", "POST"])
@coordinator_only
def create() -> str | Response:
    form = ProgrammeForm()
    if request.method == "GET":
        form.default_certificate_language.data = organisation.default_certificate_language()
    created = submit(
        form,
        lambda: services.create_programme(form.to_input(), actor=current_user),
        _("Programme created. Add its curriculum modules and partners next."),
        check=lambda: services.check_programme(form.to_input()),
    )
    if created:
        return _to_detail(created.value.id)
    return render_template(
        "programmes/form.html", form=form, programme=None, currencies=_currencies()
    )


@bp.route("/<int:programme_id>")
@coordinator_only
def detail(programme_id: int) -> str:
    overview = load_or_404(services.programme_overview, programme_id)
    certificate: dict[str, Any] = {"manage_certificate": can_manage_programme(programme_id)}
    if certificate["manage_certificate"]:
        own, defaults = organisation.own_and_default_signatories(programme_id)
        certificate.update(
            signatories=own,
            default_signatories=[] if own else defaults,
            max_signatories=organisation.MAX_SIGNATORIES,
            image_limits=images.limits_text(),
        )
    return render_template(
        "programmes/detail.html",
        o=overview,
        programme=overview.programme,
        **certificate,
    )


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
@coordinator_only
def edit(programme_id: int) -> str | Response:
    programme = _programme(programme_id)
    form = ProgrammeForm()
    if request.method == "GET":
        form.fill(programme)
    if submit(
        form,
        lambda: services.update_programme(programme, form.to_input(), actor=current_user),
        _("Programme saved."),
        check=lambda: services.check_programme(form.to_input(), programme),
    ):
        return _to_detail(programme.id)
    return render_template(
        "programmes/form.html", form=form, programme=programme, currencies=_currencies()
    )


@bp.route("/<int:programme_id>/archive", methods=["POST"])
@coordinator_only
def archive(programme_id: int) -> Response:
    programme = _programme(programme_id)
    run_action(
        lambda: services.set_archived(programme, True, actor=current_user),
        _(
            "%(code)s is archived. It no longer appears among the active programmes.",
            code=programme.code,
        ),
    )
    return _to_detail(programme.id)


@bp.route("/<int:programme_id>/unarchive", methods=["POST"])
@coordinator_only
def unarchive(programme_id: int) -> Response:
    programme = _programme(programme_id)
    run_action(
        lambda: services.set_archived(programme, False, actor=current_user),
        _("%(code)s is active again.", code=programme.code),
    )
    return _to_detail(programme.id)


@bp.route("/<int:programme_id>/delete", methods=["POST"])
@coordinator_only
def delete(programme_id: int) -> Response:
    programme = _programme(programme_id)
    if run_action(
        lambda: services.delete_programme(programme, actor=current_user),
        _("%(code)s was deleted.", code=programme.code),
    ):
        return redirect(url_for("programmes.index"))
    return _to_detail(programme_id)


# --------------------------------------------------------------------------- partners


@bp.route("/<int:programme_id>/partners/new", methods=["GET", "POST"])
@coordinator_only
def partner_new(programme_id: int) -> str | Response:
    programme = _programme(programme_id)
    form = PartnerForm()
    return _item_form(
        form,
        lambda: services.add_partner(programme, form.to_input(), actor=current_user),
        _("%(name)s added.", name=(form.name.data or "").strip()),
        "programmes/partner_form.html",
        "partners",
        programme=programme,
        partner=None,
        image_limits=images.limits_text(),
    )


@bp.route("/<int:programme_id>/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@coordinator_only
def partner_edit(programme_id: int, partner_id: int) -> str | Response:
    partner = _partner(programme_id, partner_id)
    form = PartnerForm(obj=partner)
    return _item_form(
        form,
        lambda: services.update_partner(partner, form.to_input(), actor=current_user),
        _("Partner saved."),
        "programmes/partner_form.html",
        "partners",
        programme=partner.programme,
        partner=partner,
        image_limits=images.limits_text(),
    )


@bp.route("/<int:programme_id>/partners/<int:partner_id>/logo/<version>")
@coordinator_only
def partner_logo(programme_id: int, partner_id: int, version: str) -> Response:
    """A funder's logo (for the programme's coordinators); its URL names the image."""
    partner = _partner(programme_id, partner_id)
    if not partner.logo or partner.logo_mimetype not in (images.PNG, images.JPEG):
        abort(404)
    current = organisation_views.image_version(partner.logo)
    if version != current:
        return redirect(
            url_for(
                "programmes.partner_logo",
                programme_id=programme_id,
                partner_id=partner_id,
                version=current,
            )
        )
    return organisation_views.image_response(
        partner.logo, partner.logo_mimetype, private=True, immutable=True
    )


@bp.route("/<int:programme_id>/partners/<int:partner_id>/delete", methods=["POST"])
@coordinator_only
def partner_delete(programme_id: int, partner_id: int) -> Response:
    partner = _partner(programme_id, partner_id)
    return _item_action(
        programme_id,
        "partners",
        lambda: services.remove_partner(partner, actor=current_user),
        _("%(name)s removed.", name=partner.name),
    )


@bp.route("/<int:programme_id>/partners/<int:partner_id>/move", methods=["POST"])
@coordinator_only
def partner_move(programme_id: int, partner_id: int) -> Response:
    partner = _partner(programme_id, partner_id)
    return _item_action(
        programme_id,
        "partners",
        lambda: services.move_partner(
            partner, request.form.get("direction", ""), actor=current_user
        ),
        "",
    )


# --------------------------------------------------------------------------- modules


@bp.route("/<int:programme_id>/modules/new", methods=["GET", "POST"])
@coordinator_only
def module_new(programme_id: int) -> str | Response:
    programme = _programme(programme_id)
    form = ModuleForm()
    return _item_form(
        form,
        lambda: services.add_module(programme, form.to_input(), actor=current_user),
        _("Module %(code)s added.", code=(form.code.data or "").strip().upper()),
        "programmes/module_form.html",
        "curriculum",
        another="programmes.module_new",
        programme=programme,
        module=None,
    )


@bp.route("/<int:programme_id>/modules/<int:module_id>/edit", methods=["GET", "POST"])
@coordinator_only
def module_edit(programme_id: int, module_id: int) -> str | Response:
    module = _module(programme_id, module_id)
    form = ModuleForm(obj=module)
    return _item_form(
        form,
        lambda: services.update_module(module, form.to_input(), actor=current_user),
        _("Module saved."),
        "programmes/module_form.html",
        "curriculum",
        programme=module.programme,
        module=module,
    )


@bp.route("/<int:programme_id>/modules/<int:module_id>/move", methods=["POST"])
@coordinator_only
def module_move(programme_id: int, module_id: int) -> Response:
    module = _module(programme_id, module_id)
    return _item_action(
        programme_id,
        "curriculum",
        lambda: services.move_module(module, request.form.get("direction", ""), actor=current_user),
        "",
    )


@bp.route("/<int:programme_id>/modules/<int:module_id>/retire", methods=["POST"])
@coordinator_only
def module_retire(programme_id: int, module_id: int) -> Response:
    module = _module(programme_id, module_id)
    return _item_action(
        programme_id,
        "curriculum",
        lambda: services.set_retired(module, True, actor=current_user),
        _(
            "%(code)s is retired: it stays on past sessions and is offered no more.",
            code=module.code,
        ),
    )


@bp.route("/<int:programme_id>/modules/<int:module_id>/unretire", methods=["POST"])
@coordinator_only
def module_unretire(programme_id: int, module_id: int) -> Response:
    module = _module(programme_id, module_id)
    return _item_action(
        programme_id,
        "curriculum",
        lambda: services.set_retired(module, False, actor=current_user),
        _("%(code)s is back in the curriculum.", code=module.code),
    )


@bp.route("/<int:programme_id>/modules/<int:module_id>/delete", methods=["POST"])
@coordinator_only
def module_delete(programme_id: int, module_id: int) -> Response:
    module = _module(programme_id, module_id)
    return _item_action(
        programme_id,
        "curriculum",
        lambda: services.delete_module(module, actor=current_user),
        _("Module %(code)s deleted.", code=module.code),
    )
