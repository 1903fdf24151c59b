"""Fixtures for the browser tests.

- ``live_server``: the app (with CSRF protection on, as in production) served by werkzeug on
  127.0.0.1 at a free port, in a background thread, on the suite's database.
- ``page`` (a desktop window) and ``phone_page`` (360 x 740, touch): Playwright pages in
  Debian's Chromium (/usr/bin/chromium; never a downloaded browser), with ``base_url`` set
  to the live server, so ``page.goto("/login")`` works.
- ``account(role)``: a committed user the browser can sign in as (password
  ``tests.factories.PASSWORD``).

Data for browser tests must be committed (``committed_db``, which the page fixtures use and
which empties every table afterwards): the server reads it through its own connections.
The pytest-playwright plugin is disabled (``-p no:playwright`` in pyproject.toml): its
fixtures would download browsers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from tests import factories
from tests.e2e.mailbox import mailbox  # noqa: F401  (a fixture: the SMTP server of the browser tests)
from trainingmgr import create_app
from trainingmgr.accounts.models import Role, User
from trainingmgr.extensions import db, limiter

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/e2e/ is a browser test (``-m "not e2e"`` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_app(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A second app on the suite's database (whose tables ``app`` created), CSRF on."""
    served = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "e2e-secret-key",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("e2e-instance")),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": True,
            "BASE_URL": "http://127.0.0.1",
            "MAIL_BACKEND": "memory",
        }
    )
    yield served
    with served.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    server: BaseWSGIServer = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    live_app.config["BASE_URL"] = url  # links and QR codes point at this server
    try:
        yield LiveServer(url=url, app=live_app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests use Debian's Chromium. "
            "Install it with: apt-get install -y chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def _open_page(
    browser: Any, server: LiveServer, locale: str = "en-GB", **context_args: Any
) -> Iterator[Any]:
    """A page in a fresh context (no cookies); fails the test if the page raised JS errors."""
    limiter.reset()  # sign-in rate limits count per test, as with the test client
    context = browser.new_context(base_url=server.url, locale=locale, **context_args)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    js_errors: list[str] = []
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert js_errors == [], f"JavaScript errors in the page: {js_errors}"


@pytest.fixture
def page(chromium: Any, live_server: LiveServer, committed_db: Any) -> Iterator[Any]:
    """A desktop-sized browser page on the live server."""
    yield from _open_page(chromium, live_server, viewport=DESKTOP)


@pytest.fixture
def phone_page(chromium: Any, live_server: LiveServer, committed_db: Any) -> Iterator[Any]:
    """A phone-sized (360 x 740) touch-screen browser page on the live server."""
    yield from _open_page(
        chromium,
        live_server,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def account(committed_db: Any) -> Callable[..., User]:
    """``account(Role.TRAINER, email=...)``: a committed user to sign in as. A coordinator
    coordinates every programme that exists when the account is made (or ``programmes=``)."""

    def _account(role: Role | str = Role.COORDINATOR, **kw: Any) -> User:
        user = factories.user(Role(role), **kw)
        if Role(role) == Role.COORDINATOR and "programmes" not in kw:
            factories.assign_every_programme(user)  # the ones the test made so far
        committed_db.commit()
        return user

    return _account
