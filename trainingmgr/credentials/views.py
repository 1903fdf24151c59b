"""Credentials on the web: ``/.well-known/did.json``, the status lists, a certificate's Open
Badges credential, checking a pasted credential (public), and the signing keys page
(administrators, under the organisation's settings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from trainingmgr.accounts.models import Role
from trainingmgr.certificates import services as certificates
from trainingmgr.core.permissions import public, roles_required
from trainingmgr.core.views import attempt, load_or_404
from trainingmgr.credentials import did, keys, services
from trainingmgr.credentials.forms import CheckCredentialForm, GenerateKeyForm, UploadKeyForm
from trainingmgr.organisation.services import get_settings
from trainingmgr.verification.views import verification_limit

bp = Blueprint("credentials", __name__)
admin_only = roles_required(Role.ADMIN)
JSON_LD = "application/ld+json"


def _json(data: Any, *, max_age: int = 60, filename: str | None = None) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype=JSON_LD)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/.well-known/did.json")
@public
def did_document() -> Response:
    return _json(services.did_document(), max_age=300)


@bp.errorhandler(keys.UnreadableKey)
def unreadable_key(exc: keys.UnreadableKey) -> tuple[Response, int]:
    """The stored key cannot be decrypted (the secret changed): say so, not a 500."""
    response = Response(json.dumps({"error": exc.message}), mimetype="application/json")
    return response, 503


@bp.route("/credentials/status/<int:number>")
@public
def status_list(number: int) -> Response:
    return _json(load_or_404(services.status_list, number))


@bp.route("/verify/<code>/credential.json")
@verification_limit
@public
def credential(code: str) -> Response:
    certificate = certificates.find_by_code(code)
    document = services.credential(certificate) if certificate is not None else None
    if document is None:
        abort(404)
    assert certificate is not None
    return _json(document, filename=f"{certificate.serial}.json")


@bp.route("/verify/credential", methods=["GET", "POST"])
@verification_limit
@public
def check() -> str | tuple[str, int]:
    form = CheckCredentialForm()
    result = None
    if form.validate_on_submit():
        upload = form.file.data
        text = upload.read(services.MAX_CREDENTIAL_BYTES + 1) if upload else b""
        text = text or (form.credential.data or "").strip()
        if not text:
            form.credential.errors = [_("Paste a credential or choose its file.")]
        else:
            result = services.check(text)
    status = 200 if result is None or result.ok else 422
    return render_template("credentials/check.html", form=form, result=result), status


def _per_request(name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per request (pages list many certificates: bounded queries)."""
    if name not in g:
        setattr(g, name, compute())
    return getattr(g, name)


@bp.app_template_global()
def linkedin_url(certificate: Any) -> str:
    organisation = _per_request("_credentials_org", lambda: get_settings().name)
    return services.linkedin_url(certificate, organisation)


@bp.app_template_global()
def credential_available() -> bool:
    """Whether Open Badges credentials can be downloaded (a signing key is set up)."""
    return _per_request("_credentials_key", lambda: keys.current_key() is not None)


# --------------------------------------------------------------------------- signing keys


def _keys_page(generate: GenerateKeyForm, upload: UploadKeyForm) -> str:
    return render_template(
        "credentials/keys.html",
        keys=keys.all_keys(),
        generate=generate,
        upload=upload,
        did=did.issuer_did(),
    )


@bp.route("/admin/organisation/signing")
@admin_only
def signing_keys() -> str:
    generate = GenerateKeyForm(data={"name": get_settings().name})
    return _keys_page(generate, UploadKeyForm())


@bp.route("/admin/organisation/signing/generate", methods=["POST"])
@admin_only
def generate_key() -> str | Response:
    form = GenerateKeyForm()
    if form.validate_on_submit() and attempt(
        lambda: keys.generate(form.name.data, actor=current_user), form
    ):
        flash(
            _("A new signing key was set up: certificates issued from now on are signed with it."),
            "success",
        )
        return redirect(url_for("credentials.signing_keys"))
    return _keys_page(form, UploadKeyForm())


@bp.route("/admin/organisation/signing/upload", methods=["POST"])
@admin_only
def upload_key() -> str | Response:
    form = UploadKeyForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(keys.MAX_PKCS12_BYTES + 1) if upload else b""
        if attempt(lambda: keys.upload_pkcs12(data, form.password.data, actor=current_user), form):
            flash(
                _(
                    "The PKCS#12 key was set up: certificates issued from now on are signed "
                    "with it."
                ),
                "success",
            )
            return redirect(url_for("credentials.signing_keys"))
    generate = GenerateKeyForm(data={"name": get_settings().name})
    return _keys_page(generate, form)
