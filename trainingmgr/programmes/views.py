"""Programmes, partners and funders, and curricula: the coordinator's screens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from flask_babel import lazy_gettext as _l
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


def _to_detail(programme_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for("programmes.detail", programme_id=programme_id, _anchor=anchor))


def _item_action(
    programme_id: int, anchor: str, action: Callable[[], Any], success: str = ""
) -> Response:
    """A partner's or a module's POST action (move, retire, delete...): back to ``anchor`` on
    the programme's page once done, to its top with the message when refused."""
    return _to_detail(programme_id, anchor if run_action(action, success) else None)


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


def _switch(rule: str, on: str, off: str, flag: str) -> Callable[[T], T]:
    """One POST view for ``rule + on`` and ``rule + off``, told which by ``flag``."""

    def route(view: T) -> T:
        bp.route(rule + on, methods=["POST"], defaults={flag: True})(view)  # type: ignore[type-var]
        return bp.route(rule + off, methods=["POST"], defaults={flag: False})(view)  # type: ignore[type-var]

    return route


_ARCHIVED = {
    True: _l("%(code)s is archived. It no longer appears among the active programmes."),
    False: _l("%(code)s is active again."),
}


@_switch("/<int:programme_id>/", "archive", "unarchive", "archived")
@coordinator_only
def archiving(programme_id: int, archived: bool) -> Response:
    """Archive a programme (out of the active list) or make it active again."""
    programme = _programme(programme_id)
    done = _ARCHIVED[archived] % {"code": programme.code}
    run_action(lambda: services.set_archived(programme, archived, actor=current_user), done)
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


# --------------------------------------------------------------------------- partners and modules


@dataclass(frozen=True)
class _Items:
    """One kind of item listed on a programme's page (its partners, its modules).

    Adding, editing, moving and deleting one work alike for each kind: ``_item_views``
    registers the views ``<kind>_new``, ``<kind>_edit``, ``<kind>_move`` and ``<kind>_delete``
    at ``/<programme_id>/<kind>s/...``, with the item's id as ``<kind>_id``. They call the
    services ``add_<kind>``, ``update_<kind>``, ``move_<kind>`` and ``delete_<kind>`` and
    show the form ``programmes/<kind>_form.html``.
    """

    kind: str  # "partner"
    anchor: str  # where the list stands on the programme's page
    model: type[Any]
    form: type[FlaskForm]
    added: Callable[[Any], str]  # the message once added, given the form
    saved: Callable[[], str]
    deleted: Callable[[Any], str]  # the message once deleted, given the item
    another: bool = False  # whether the form offers to add another after this one
    context: Callable[[], dict[str, Any]] = dict  # more for the form's template

    def service(self, verb: str) -> Callable[..., Any]:
        return getattr(services, f"{verb}_{self.kind}")  # type: ignore[no-any-return]

    def load(self, programme_id: int, ids: dict[str, int]) -> Any:
        return _owned(self.model, programme_id, ids[f"{self.kind}_id"])

    def form_page(
        self, form: FlaskForm, action: Callable[[], Any], success: str, **context: Any
    ) -> str | Response:
        """The item's form. Once saved, back to the list on the programme's page, or to a
        blank form when the coordinator asked for another; otherwise the form again, with
        its errors."""
        programme = context["programme"]
        if submit(form, action, success):
            if self.another and request.form.get("next") == "another":
                return redirect(url_for(f"programmes.{self.kind}_new", programme_id=programme.id))
            return _to_detail(programme.id, self.anchor)
        template = f"programmes/{self.kind}_form.html"
        return render_template(template, form=form, **context, **self.context())


def _item_views(items: _Items) -> None:
    """Register the add, edit, move and delete views of one kind of item."""
    base = f"/<int:programme_id>/{items.kind}s"
    one = f"{base}/<int:{items.kind}_id>"

    def new(programme_id: int) -> str | Response:
        programme = _programme(programme_id)
        form = items.form()
        return items.form_page(
            form,
            lambda: items.service("add")(programme, form.to_input(), actor=current_user),
            items.added(form),
            programme=programme,
            **{items.kind: None},
        )

    def edit(programme_id: int, **ids: int) -> str | Response:
        item = items.load(programme_id, ids)
        form = items.form(obj=item)
        return items.form_page(
            form,
            lambda: items.service("update")(item, form.to_input(), actor=current_user),
            items.saved(),
            programme=item.programme,
            **{items.kind: item},
        )

    def move(programme_id: int, **ids: int) -> Response:
        item = items.load(programme_id, ids)
        direction = request.form.get("direction", "")
        return _item_action(
            programme_id,
            items.anchor,
            lambda: items.service("move")(item, direction, actor=current_user),
        )

    def delete(programme_id: int, **ids: int) -> Response:
        item = items.load(programme_id, ids)
        return _item_action(
            programme_id,
            items.anchor,
            lambda: items.service("delete")(item, actor=current_user),
            items.deleted(item),
        )

    for rule, view, methods in (
        (f"{base}/new", new, ["GET", "POST"]),
        (f"{one}/edit", edit, ["GET", "POST"]),
        (f"{one}/move", move, ["POST"]),
        (f"{one}/delete", delete, ["POST"]),
    ):
        endpoint = f"{items.kind}_{view.__name__}"
        bp.add_url_rule(rule, endpoint, coordinator_only(view), methods=methods)


PARTNERS = _Items(
    kind="partner",
    anchor="partners",
    model=ProgrammePartner,
    form=PartnerForm,
    context=lambda: {"image_limits": images.limits_text()},
    added=lambda form: _("%(name)s added.", name=(form.name.data or "").strip()),
    saved=lambda: _("Partner saved."),
    deleted=lambda partner: _("%(name)s removed.", name=partner.name),
)
MODULES = _Items(
    kind="module",
    anchor="curriculum",
    model=Module,
    form=ModuleForm,
    another=True,
    added=lambda form: _("Module %(code)s added.", code=(form.code.data or "").strip().upper()),
    saved=lambda: _("Module saved."),
    deleted=lambda module: _("Module %(code)s deleted.", code=module.code),
)
for _items in (PARTNERS, MODULES):
    _item_views(_items)


@bp.route("/<int:programme_id>/partners/<int:partner_id>/logo/<version>")
@coordinator_only
def partner_logo(programme_id: int, partner_id: int, version: str) -> Response:
    """A funder's logo (for the programme's coordinators); its URL names the image."""
    partner = _owned(ProgrammePartner, programme_id, partner_id)
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


_RETIRED = {
    True: _l("%(code)s is retired: it stays on past sessions and is offered no more."),
    False: _l("%(code)s is back in the curriculum."),
}


@_switch("/<int:programme_id>/modules/<int:module_id>/", "retire", "unretire", "retired")
@coordinator_only
def module_retirement(programme_id: int, module_id: int, retired: bool) -> Response:
    """Retire a module (kept on past sessions, offered no more) or bring it back."""
    module = _owned(Module, programme_id, module_id)
    return _item_action(
        programme_id,
        MODULES.anchor,
        lambda: services.set_retired(module, retired, actor=current_user),
        _RETIRED[retired] % {"code": module.code},
    )
