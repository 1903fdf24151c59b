"""Public certificate verification: ``/verify`` (type a code), ``/verify/<code>`` (HTML) and
``/verify/<code>.json``.

- Codes are accepted as typed (spaces, dashes and case ignored; I and L read as 1, O as 0):
  a code in a non-canonical form is redirected (301) to its canonical address.
- Rate limit: 30 requests a minute and 300 an hour per IP address, shared by the three
  addresses (so that codes cannot be guessed in bulk); over it, 429 (the friendly error page,
  or JSON for ``.json``).
- Caching: a found certificate may be cached for at most 60 seconds (``max-age=60``), so a
  revocation or a reissue shows within a minute while a burst of scans of the same QR code is
  still served from caches; ``private`` when the visitor is signed in (the page then shows
  their name in the navigation). A code that is not found is not stored (``no-store``). The
  pages carry ``X-Robots-Tag: noindex``: holders' names are not for search engines.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.core.permissions import public
from trainingmgr.credentials import services as credentials
from trainingmgr.extensions import limiter
from trainingmgr.verification import services
from trainingmgr.verification.forms import VerifyForm

bp = Blueprint("verification", __name__)

MAX_AGE = 60  # seconds a found certificate's page may be cached
verification_limit = limiter.shared_limit("30/minute;300/hour", scope="verification")


def _cache(response: Response, *, found: bool) -> Response:
    if found:
        visibility = "private" if current_user.is_authenticated else "public"
        response.headers["Cache-Control"] = f"{visibility}, max-age={MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/verify")
@verification_limit
@public
def index() -> str | Response | tuple[str, int]:
    form = VerifyForm(request.args)
    if "code" not in request.args:
        return render_template("verification/index.html", form=form)
    typed = (form.code.data or "").strip()
    code = services.canonical_code(typed)
    if code is not None:
        return redirect(url_for("verification.certificate", code=code))
    if not typed:
        form.code.errors = [_("Type the code printed on the certificate, under the QR code.")]
    else:
        form.code.errors = [
            _(
                "“%(typed)s” is not a verification code. A code has 16 letters and digits "
                "in four groups, like 7KQ4-9XM2-HT8D-3VWR: check it and try again.",
                typed=typed[:40],
            )
        ]
    return render_template("verification/index.html", form=form), 400


def _not_found(typed: str) -> Response:
    form = VerifyForm(data={"code": typed[:40]})
    response = make_response(render_template("verification/not_found.html", form=form), 404)
    return _cache(response, found=False)


@bp.route("/verify/<code>")
@verification_limit
@public
def certificate(code: str) -> Response:
    canonical = services.canonical_code(code)
    if canonical is None:
        return _not_found(code)
    if canonical != code:
        return redirect(url_for("verification.certificate", code=canonical), 301)
    item = services.lookup(canonical)
    if item is None:
        return _not_found(code)
    # Issue 21: how the PDF is signed and whether an Open Badges credential is offered.
    signed = credentials.signature(canonical)
    page = render_template("verification/certificate.html", item=item, signed=signed)
    return _cache(make_response(page), found=True)


@bp.route("/verify/<code>.json")
@verification_limit
@public
def certificate_json(code: str) -> Response:
    canonical = services.canonical_code(code)
    if canonical is not None and canonical != code:
        return redirect(url_for("verification.certificate_json", code=canonical), 301)
    item = services.lookup(canonical) if canonical is not None else None
    if item is None:
        return _cache(make_response(jsonify(status="not_found"), 404), found=False)
    return _cache(make_response(jsonify(services.as_json(item))), found=True)
