"""Production hardening: security headers on every response, the reverse-proxy setting,
``/healthz``, and the gunicorn configuration (read, and served for real)."""

from __future__ import annotations

import os
import re
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request
from flask.testing import FlaskClient

from trainingmgr import create_app
from trainingmgr.accounts.models import Role
from trainingmgr.config import ROOT
from trainingmgr.core.permissions import public

CSP_DIRECTIVES = {
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def fresh_app(tmp_path: Path, **config: Any) -> Flask:
    """An app of its own (routes may still be added to it), on its own SQLite file."""
    settings = {
        "TESTING": True,
        "SECRET_KEY": "ops-test",
        "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ops.sqlite3'}",
        "MAIL_BACKEND": "memory",
    }
    settings.update(config)
    return create_app(settings)


def assert_security_headers(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert {d.strip() for d in csp.split(";")} == CSP_DIRECTIVES
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


# --------------------------------------------------------------------------- headers


def test_every_kind_of_response_carries_the_security_headers(
    client: FlaskClient, login: Any, make: Any
) -> None:
    responses = [
        client.get("/login"),  # a public page
        client.get("/no-such-page"),  # an error page
        client.get("/healthz"),  # JSON
        client.get("/static/css/app.css"),  # a static file
    ]
    programme = make.programme()
    login(Role.COORDINATOR)
    responses += [client.get("/programmes/"), client.get(f"/programmes/{programme.id}")]
    for response in responses:
        assert_security_headers(response)
        # Plain HTTP: no Strict-Transport-Security (browsers would ignore it anyway).
        assert "Strict-Transport-Security" not in response.headers
    assert [r.status_code for r in responses] == [200, 404, 200, 200, 200, 200]


def test_signed_in_pages_are_never_cached_public_ones_may_be(
    client: FlaskClient, login: Any, make: Any
) -> None:
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(Role.COORDINATOR)
    for path in ("/dashboard", "/people/", "/no-such-page"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_hsts_is_sent_over_https(client: FlaskClient) -> None:
    response = client.get("/login", base_url="https://training.example.org")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_production_sends_hsts_and_secure_cookies(tmp_path: Path) -> None:
    app = fresh_app(tmp_path, TRAININGMGR_ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    # Behind a TLS-terminating proxy the request itself may look like plain HTTP.
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    app = fresh_app(tmp_path, TRAININGMGR_ENV="production", HSTS_MAX_AGE=0)
    assert "Strict-Transport-Security" not in app.test_client().get("/healthz").headers


def test_a_view_may_set_its_own_content_security_policy(tmp_path: Path) -> None:
    app = fresh_app(tmp_path)
    sandbox = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"

    @public
    def mail_preview() -> Response:
        response = Response('<p style="color: red">Hello</p>')
        response.headers["Content-Security-Policy"] = sandbox
        return response

    app.add_url_rule("/preview", view_func=mail_preview)
    response = app.test_client().get("/preview")
    assert response.headers["Content-Security-Policy"] == sandbox
    # It may be framed by the app's own pages (its frame-ancestors), so no X-Frame-Options;
    # the other headers are still added.
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_templates_need_no_inline_script_or_style() -> None:
    """The policy forbids inline scripts and styles: app pages (all but e-mails) have none."""
    offences = []
    patterns = {
        "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
        "<style> element": re.compile(r"<style[\s>]", re.I),
        "style attribute": re.compile(r"\sstyle\s*=", re.I),
        "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I),
        "javascript: URL": re.compile(r"javascript:", re.I),
    }
    templates = ROOT / "templates"
    for path in sorted(templates.rglob("*.html")):
        if path.relative_to(templates).parts[0] == "mail":
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in patterns.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offences.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offences == []


# --------------------------------------------------------------------------- reverse proxy


def _echo_app(tmp_path: Path, proxies: int) -> Flask:
    app = fresh_app(tmp_path, TRUSTED_PROXY_COUNT=proxies)

    @public
    def whoami() -> dict[str, Any]:
        return {"addr": request.remote_addr, "url": request.url, "secure": request.is_secure}

    app.add_url_rule("/whoami", view_func=whoami)
    return app


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "training.example.org",
}


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(tmp_path: Path) -> None:
    app = _echo_app(tmp_path, 0)
    response = app.test_client().get("/whoami", headers=FORWARDED)
    assert response.json == {"addr": "127.0.0.1", "url": "http://localhost/whoami", "secure": False}
    assert "Strict-Transport-Security" not in response.headers


def test_forwarded_headers_are_used_behind_a_trusted_proxy(tmp_path: Path) -> None:
    app = _echo_app(tmp_path, 1)
    response = app.test_client().get("/whoami", headers=FORWARDED)
    assert response.json == {
        "addr": "203.0.113.7",
        "url": "https://training.example.org/whoami",
        "secure": True,
    }
    assert "Strict-Transport-Security" in response.headers
    # With one trusted proxy, only the address it appended counts (not one the client forged).
    response = app.test_client().get(
        "/whoami", headers={**FORWARDED, "X-Forwarded-For": "10.6.6.6, 203.0.113.7"}
    )
    assert response.json["addr"] == "203.0.113.7"


# --------------------------------------------------------------------------- /healthz


def test_healthz_answers_ok_without_a_cookie(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.head("/healthz").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:secret@127.0.0.1:1/nothing",  # nothing listens on port 1
        "sqlite:////nonexistent-folder/trainingmgr.sqlite3",  # cannot be opened
    ],
    ids=["closed-port", "unopenable-file"],
)
def test_healthz_answers_503_when_the_database_does_not(
    tmp_path: Path, url: str, caplog: Any
) -> None:
    app = fresh_app(tmp_path, SQLALCHEMY_DATABASE_URI=url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}
    assert "secret" not in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers
    assert "the database did not answer" in caplog.text


# --------------------------------------------------------------------------- gunicorn


def gunicorn_settings(monkeypatch: Any, **env: str) -> dict[str, Any]:
    for name in (
        "WEB_CONCURRENCY",
        "GUNICORN_BIND",
        "HOST",
        "PORT",
        "FORWARDED_ALLOW_IPS",
        "GUNICORN_THREADS",
        "GUNICORN_ACCESS_LOG",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_PRELOAD",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_defaults(monkeypatch: Any) -> None:
    conf = gunicorn_settings(monkeypatch)
    assert conf["workers"] == min(2 * (os.cpu_count() or 1) + 1, 8)
    assert 1 <= conf["workers"] <= 8
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["forwarded_allow_ips"] == "127.0.0.1"
    assert conf["preload_app"] is True and callable(conf["post_fork"])
    # Workers are not replaced every few seconds under load (2,000 requests were 2.6 s).
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (50_000, 5_000)
    assert conf["accesslog"] == "-" and "%(U)s" in conf["access_log_format"]
    assert conf["timeout"] == 60 and conf["worker_class"] == "sync"
    assert conf["wsgi_app"] == "app:app"


def test_gunicorn_settings_come_from_the_environment(monkeypatch: Any) -> None:
    conf = gunicorn_settings(
        monkeypatch,
        WEB_CONCURRENCY="3",
        GUNICORN_BIND="0.0.0.0:9000",
        FORWARDED_ALLOW_IPS="10.0.0.2",
        GUNICORN_THREADS="4",
        GUNICORN_ACCESS_LOG="",
        GUNICORN_MAX_REQUESTS="1000",
        GUNICORN_PRELOAD="no",
    )
    assert conf["workers"] == 3 and conf["bind"] == ["0.0.0.0:9000"]
    assert (conf["max_requests"], conf["preload_app"]) == (1000, False)
    assert conf["forwarded_allow_ips"] == "10.0.0.2"
    assert (conf["threads"], conf["worker_class"]) == (4, "gthread")
    assert conf["accesslog"] is None
    assert gunicorn_settings(monkeypatch, PORT="8080")["bind"] == ["127.0.0.1:8080"]
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="many")


def test_each_forked_worker_gets_its_own_database_connections(app: Any, monkeypatch: Any) -> None:
    """With preload_app, workers are forked from a master whose app may hold pooled
    connections: post_fork gives each worker a new pool (the master's stay open for it)."""
    from types import SimpleNamespace

    from trainingmgr.extensions import db

    post_fork = gunicorn_settings(monkeypatch)["post_fork"]
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        inherited = engine.pool
        pooled = inherited.checkedin()
        post_fork(SimpleNamespace(app=SimpleNamespace(callable=app)), None)
        assert engine.pool is not inherited  # the worker's own, empty pool
        assert pooled >= 1 and inherited.checkedin() == pooled  # the master's are not closed
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), None)  # not preloaded


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_the_app_with_this_configuration(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "TRAININGMGR_ENV": "production",
        "SECRET_KEY": "gunicorn-test-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
                    status, headers, body = r.status, r.headers, r.read()
                break
            except OSError:  # not listening yet, or the worker is still starting
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert status == 200 and b'"status":"ok"' in body
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers.get("Set-Cookie") is None
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Booting worker" in output
    assert 'GET /healthz HTTP/1.1" 200' in output  # the access log, without query strings


def test_check_production_lists_what_is_missing(app: Flask, db_session: Any) -> None:
    result = app.test_cli_runner().invoke(args=["check-production"])
    assert result.exit_code != 0
    for setting in ("TRAININGMGR_ENV", "DATABASE_URL", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND"):
        assert f"missing  {setting}" in result.output


def test_check_production_passes_when_everything_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    app = fresh_app(
        tmp_path,
        TRAININGMGR_ENV="production",
        SECRET_KEY="s" * 40,
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://app@db.internal/trainingmgr",
        BASE_URL="https://training.example.org",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        MAIL_BACKEND="smtp",
        MAIL_SERVER="smtp.example.org",
        MAIL_DEFAULT_SENDER="Training Centre <training@example.org>",
    )
    from trainingmgr.ops.checks import production_findings
    from trainingmgr.organisation import services as organisation

    # The database named above does not exist here: the organisation settings are read as
    # never saved (two-factor sign-in then required for administrators, the default).
    monkeypatch.setattr(organisation, "stored_settings", lambda: None)
    with app.app_context():
        assert production_findings() == []
