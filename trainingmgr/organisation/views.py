"""The organisation's settings page, and logos and signatories for it and for programmes.

Logo and signatory screens are written once and served twice (``owner_route``): under
``/admin/organisation`` for the organisation's defaults (administrators) and under
``/programmes/<id>`` for a programme's own (coordinators of that programme). Views receive
``programme_id`` (None for the organisation) and use ``owner_url`` to link back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from trainingmgr.accounts.models import Role
from trainingmgr.core.permissions import coordinator_only, public, roles_required
from trainingmgr.core.scope import require_programme
from trainingmgr.core.timefmt import current_timezones
from trainingmgr.core.views import run_action, submit
from trainingmgr.extensions import db
from trainingmgr.organisation import fonts, images, services
from trainingmgr.organisation.forms import (
    FontForm,
    LogoForm,
    SettingsForm,
    SignatoryForm,
    uploaded_image,
)
from trainingmgr.organisation.models import OrganisationSettings, Signatory
from trainingmgr.programmes.models import Programme

bp = Blueprint("organisation", __name__)

ORG_PREFIX = "/admin/organisation"
PROGRAMME_PREFIX = "/programmes/<int:programme_id>"
admin_only = roles_required(Role.ADMIN)


def owner_route(
    rule: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    org_access: Callable[[Any], Any] = admin_only,
    org_rule: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve ``view(programme_id, **kw)`` for the organisation and for programmes.

    ``organisation.<name>`` answers at ``/admin/organisation<rule>`` (or ``org_rule``) with
    ``org_access``; ``organisation.programme_<name>`` at ``/programmes/<id><rule>``, for
    coordinators of that programme (404 for others and for a programme that does not exist).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        name = view.__name__

        def for_organisation(**kwargs: Any) -> Any:
            return view(None, **kwargs)

        def for_programme(programme_id: int, **kwargs: Any) -> Any:
            require_programme(programme_id)
            if db.session.get(Programme, programme_id) is None:
                abort(404)
            return view(programme_id, **kwargs)

        for_organisation.__name__ = name
        for_programme.__name__ = f"programme_{name}"
        bp.add_url_rule(
            org_rule or ORG_PREFIX + rule,
            name,
            org_access(for_organisation),
            methods=list(methods),
        )
        bp.add_url_rule(
            PROGRAMME_PREFIX + rule,
            f"programme_{name}",
            coordinator_only(for_programme),
            methods=list(methods),
        )
        return view

    return decorator


@bp.app_template_global()
def owner_url(name: str, programme_id: int | None, **values: Any) -> str:
    """The URL of ``organisation.<name>`` for the organisation or for a programme."""
    if programme_id is None:
        return url_for(f"organisation.{name}", **values)
    return url_for(f"organisation.programme_{name}", programme_id=programme_id, **values)


def _back(programme_id: int | None, anchor: str | None) -> Response:
    """Back to the owner's page: at ``anchor``, or at the top (where a refusal is shown)."""
    if programme_id is None:
        return redirect(url_for("organisation.settings", _anchor=anchor))
    return redirect(url_for("programmes.detail", programme_id=programme_id, _anchor=anchor))


@bp.app_template_global()
def image_version(data: bytes | None) -> str:
    """A short hash of an image, put in its URL: a new image gets a new URL."""
    return hashlib.sha256(data or b"").hexdigest()[:16]


def image_response(
    data: bytes | None, mimetype: str | None, *, private: bool, immutable: bool = False
) -> Response:
    if not data or mimetype not in (images.PNG, images.JPEG):
        abort(404)
    response = Response(data, mimetype=mimetype)
    response.set_etag(hashlib.sha256(data).hexdigest())
    if private:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    if immutable:  # the URL names this very image (``image_version``)
        response.cache_control.max_age = 31536000
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


def _zones() -> list[str]:
    return list(current_timezones())


# --------------------------------------------------------------------------- settings


@bp.route(ORG_PREFIX, methods=["GET", "POST"])
@admin_only
def settings() -> str | Response:
    current = services.get_settings()
    form = SettingsForm(obj=current)
    if request.method == "GET":  # the policy in force, defaults included
        form.two_factor_admins.data, form.two_factor_coordinators.data = (
            services.two_factor_policy()
        )
    if submit(
        form,
        lambda: services.update_settings(form.to_input(), actor=current_user),
        _("Organisation settings saved."),
    ):
        return redirect(url_for("organisation.settings"))
    return render_template(
        "organisation/settings.html",
        form=form,
        settings=current,
        signatories=services.own_signatories(None),
        max_signatories=services.MAX_SIGNATORIES,
        image_limits=images.limits_text(),
        font_limits=fonts.limits_text(),
        font_form=FontForm(),
        zones=_zones(),
    )


# --------------------------------------------------------------------------- fallback font


def _font_uploaded(font: fonts.CheckedFont) -> str:
    covered = ", ".join(
        _("%(script)s: %(n)d", script=script, n=n) for script, n in font.scripts.items()
    )
    return _(
        "Certificate font %(name)s uploaded (%(n)d characters%(scripts)s). Names with "
        "letters it has can now be issued.",
        name=font.name,
        n=font.characters,
        scripts=f"; {covered}" if covered else "",
    )


@bp.route(ORG_PREFIX + "/font", methods=["POST"])
@admin_only
def font_upload() -> Response:
    """Upload the certificates' fallback font (for scripts no shipped font has)."""
    form = FontForm()
    if not form.validate_on_submit():
        for message in form.font.errors:
            flash(str(message), "danger")
        return _back(None, "certificate-font")

    def upload() -> fonts.CheckedFont:
        font = fonts.validate_font(form.font.data, "font")
        services.set_fallback_font(font, actor=current_user)
        return font

    run_action(upload, _font_uploaded)
    return _back(None, "certificate-font")


@bp.route(ORG_PREFIX + "/font/remove", methods=["POST"])
@admin_only
def font_remove() -> Response:
    run_action(
        lambda: services.remove_fallback_font(actor=current_user), _("Certificate font removed.")
    )
    return _back(None, "certificate-font")


# --------------------------------------------------------------------------- logos


@owner_route("/logo/<version>", org_access=public, org_rule="/organisation/logo/<version>")
def logo(programme_id: int | None, version: str) -> Response:
    """The logo image (the organisation's is public: it may appear on public pages).

    Its URL carries ``image_version``: it may be cached for good; an outdated version
    redirects to the current one.
    """
    if programme_id is None:
        owner: Any = db.session.get(OrganisationSettings, 1)
    else:
        owner = db.session.get(Programme, programme_id)
    if owner is None or not owner.logo:
        abort(404)
    current = image_version(owner.logo)
    if version != current:
        return redirect(owner_url("logo", programme_id, version=current))
    return image_response(
        owner.logo, owner.logo_mimetype, private=programme_id is not None, immutable=True
    )


@owner_route("/logo/upload", methods=("POST",))
def logo_upload(programme_id: int | None) -> Response:
    form = LogoForm()
    if not form.validate_on_submit():
        for message in form.logo.errors:
            flash(str(message), "danger")
        return _back(programme_id, None)

    def upload() -> None:
        content, mimetype = images.validate_image(form.logo.data, "logo")
        services.set_logo(services.logo_owner(programme_id), content, mimetype, actor=current_user)

    ok = run_action(upload, _("Logo uploaded."))
    return _back(programme_id, "logo" if ok else None)


@owner_route("/logo/remove", methods=("POST",))
def logo_remove(programme_id: int | None) -> Response:
    ok = run_action(
        lambda: services.remove_logo(services.logo_owner(programme_id), actor=current_user),
        _("Logo removed."),
    )
    return _back(programme_id, "logo" if ok else None)


# --------------------------------------------------------------------------- signatories


def _signatory(programme_id: int | None, signatory_id: int) -> Signatory:
    """The owner's signatory; 404 for another owner's."""
    signatory = db.session.get(Signatory, signatory_id)
    if signatory is None or signatory.programme_id != programme_id:
        abort(404)
    return signatory


def _signatory_page(
    programme_id: int | None, form: SignatoryForm, signatory: Signatory | None
) -> str:
    return render_template(
        "organisation/signatory_form.html",
        form=form,
        signatory=signatory,
        programme_id=programme_id,
        programme=db.session.get(Programme, programme_id) if programme_id else None,
        image_limits=images.limits_text(),
    )


def _save_signatory(
    programme_id: int | None, form: SignatoryForm, signatory: Signatory | None
) -> str | Response:
    if signatory is None:

        def action() -> Any:
            return services.add_signatory(
                programme_id, form.to_input(), uploaded_image(form.signature), actor=current_user
            )

        message = _("%(name)s added.", name=(form.name.data or "").strip())
    else:

        def action() -> Any:
            return services.update_signatory(
                signatory,
                form.to_input(),
                uploaded_image(form.signature),
                form.remove_signature.data,
                actor=current_user,
            )

        message = _("Signatory saved.")
    if submit(form, action, message):
        return _back(programme_id, "signatories")
    return _signatory_page(programme_id, form, signatory)


@owner_route("/signatories/new", methods=("GET", "POST"))
def signatory_new(programme_id: int | None) -> str | Response:
    return _save_signatory(programme_id, SignatoryForm(), None)


@owner_route("/signatories/<int:signatory_id>/edit", methods=("GET", "POST"))
def signatory_edit(programme_id: int | None, signatory_id: int) -> str | Response:
    signatory = _signatory(programme_id, signatory_id)
    return _save_signatory(programme_id, SignatoryForm(obj=signatory), signatory)


@owner_route("/signatories/<int:signatory_id>/move", methods=("POST",))
def signatory_move(programme_id: int | None, signatory_id: int) -> Response:
    signatory = _signatory(programme_id, signatory_id)
    ok = run_action(
        lambda: services.move_signatory(
            signatory, request.form.get("direction", ""), actor=current_user
        ),
        "",
    )
    return _back(programme_id, "signatories" if ok else None)


@owner_route("/signatories/<int:signatory_id>/delete", methods=("POST",))
def signatory_delete(programme_id: int | None, signatory_id: int) -> Response:
    signatory = _signatory(programme_id, signatory_id)
    name = signatory.name
    ok = run_action(
        lambda: services.remove_signatory(signatory, actor=current_user),
        _("%(name)s removed.", name=name),
    )
    return _back(programme_id, "signatories" if ok else None)


@owner_route("/signatories/<int:signatory_id>/signature")
def signature(programme_id: int | None, signatory_id: int) -> Response:
    """A signature image: the organisation's defaults for administrators, a programme's for
    its coordinators (never public)."""
    signatory = _signatory(programme_id, signatory_id)
    return image_response(signatory.signature, signatory.signature_mimetype, private=True)
