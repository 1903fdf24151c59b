"""Security headers on every response, and trusting a reverse proxy's forwarded headers.

``init_app`` is called by ``create_app``. The Content-Security-Policy allows no inline
script or style: pages load their JavaScript and CSS from ``/static``. A view that needs
another policy (an HTML e-mail preview in a sandbox, for example) sets its own
``Content-Security-Policy`` header on its response; it is then left as it is, and decides
about framing too (no X-Frame-Options is added: its ``frame-ancestors`` applies). The other
headers are likewise only added when the response does not already carry them.
"""

from __future__ import annotations

from flask import Flask, request, session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _uses_https(app: Flask) -> bool:
    if request.is_secure:
        return True
    return (
        app.config.get("TRAININGMGR_ENV") == "production"
        and app.config.get("PREFERRED_URL_SCHEME") == "https"
    )


def init_app(app: Flask) -> None:
    """Add the headers to every response; trust ``TRUSTED_PROXY_COUNT`` proxies (if any)."""
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=proxies,
            x_proto=proxies,
            x_host=proxies,
            x_port=proxies,
            x_prefix=proxies,
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        if "Content-Security-Policy" in response.headers:
            # The view's own policy decides about framing too (its frame-ancestors).
            headers = {k: v for k, v in HEADERS.items() if k != "X-Frame-Options"}
        else:
            headers = HEADERS
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if (
            "_user_id" in session
            and request.endpoint != "static"
            and "Cache-Control" not in response.headers  # a view's own choice stands
        ):
            # A signed-in page (names, attendance, e-mail addresses) must not stay in the
            # browser's cache or a proxy's after signing out, for the next user of the computer.
            response.headers["Cache-Control"] = "no-store"
        max_age = int(app.config.get("HSTS_MAX_AGE") or 0)
        if max_age > 0 and _uses_https(app):
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={max_age}; includeSubDomains"
            )
        return response
