"""Every page of every role, on a 360 px phone, in English, Russian and Azerbaijani (issue 19):
nothing scrolls sideways, and axe-core finds no serious or critical accessibility problem.

The pages are found as a person finds them: from each demo account's home page (and the
sign-in page for anonymous visitors), following the links of each page, one page per
endpoint. axe-core is vendored in ``tests/vendor/axe-core`` and injected by the test; the
app never serves it and nothing is fetched from the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from werkzeug.exceptions import HTTPException

from tests.conftest import empty_all_tables
from tests.e2e import screenshot
from tests.e2e.conftest import PHONE, LiveServer, _open_page
from trainingmgr import demo
from trainingmgr.accounts.models import User
from trainingmgr.certificates.models import Certificate
from trainingmgr.core.permissions import allowed
from trainingmgr.extensions import db

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
LANGUAGES = ["en", "ru", "az"]
ACCOUNTS = {
    "anonymous": None,
    "admin": "admin@example.org",
    "coordinator": demo.COORDINATOR_EMAIL,
    "trainer": demo.TRAINER_EMAIL,
    "participant": demo.PARTICIPANT_EMAIL,
}
HOME = {
    "anonymous": "/login",
    "admin": "/dashboard",
    "coordinator": "/dashboard",
    "trainer": "/trainer",
    "participant": "/me",
}
# Endpoints that are not pages (files, images, pages that end the sign-in) or that change
# something when opened.
NOT_PAGES = (
    "static",
    "accounts.logout",
    "reports.report_file",  # the donor report as XLSX or PDF
)
NOT_PAGE_WORDS = ("download", "export", "pdf", "csv", "xlsx", "ics", "calendar", "qr", "logo")
# Pages no link leads to (reached from an e-mail, a QR code or a redirect); every other page a
# role may open must be reached by the walk, so that a broken link cannot shrink it.
NOT_LINKED = {
    "accounts.accept_invitation",  # e-mailed links
    "accounts.password_reset",
    "portal.use_link",
    "accounts.second_factor",  # during a sign-in with two factors
    "attendance.checkin",  # the QR code's links
    "attendance.checkin_code",
    "attendance.checked_in",
    "imports.preview",  # after an upload
    "mail.outbox_html",  # shown in a frame of the page that links them
    "mail.preview_html",
    "organisation.signature",  # images
    "organisation.programme_signature",
    "certificates.cohort_zip",  # a file
    "portal.feed",  # a calendar feed
    "verification.certificate_json",
    "credentials.credential",  # JSON documents: a signed credential, did.json, a status list
    "credentials.did_document",
    "credentials.status_list",
    "ops.healthz",
    # Not linked from the demo's data: a programme signatory, an issued certificate's
    # revoke and reissue pages are opened by the walk only when the demo has them.
    "organisation.programme_signatory_edit",
    "certificates.reissue",
    "certificates.revoke",
    "evaluations.answer",
    "mail.outbox_detail",  # the first coordinator's programmes have no message in the outbox
}
# WCAG 2.1 A and AA rules (and axe's best practices), serious and critical findings only.
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""
OVERFLOW = """() => {
  const doc = document.documentElement;
  // A phone browser zooms out to fit a page that is too wide, which widens innerWidth:
  // the layout width (clientWidth) is the phone's.
  const width = Math.min(window.innerWidth, doc.clientWidth);
  if (doc.scrollWidth <= width) return null;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.table-responsive')) continue;
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (typeof el.className === 'string' && el.className ? '.' + el.className : ''));
    }
  }
  return {width: doc.scrollWidth, culprits: out.slice(0, 5)};
}"""


@pytest.fixture(scope="module")
def demo_site(app: Flask) -> Iterator[None]:
    """The demo data, committed once for the whole module (and emptied afterwards)."""
    with app.app_context():
        empty_all_tables()
        demo.load()
        db.session.remove()
        yield
        db.session.remove()
        empty_all_tables()


@dataclass
class Walk:
    visited: dict[str, str] = field(default_factory=dict)  # endpoint -> url
    problems: list[str] = field(default_factory=list)


def _endpoint(app: Flask, url: str) -> str | None:
    parts = urlsplit(url)
    try:
        endpoint, _args = app.url_map.bind("127.0.0.1").match(parts.path, method="GET")
    except HTTPException:
        return None
    return str(endpoint)


def _is_page(endpoint: str) -> bool:
    if endpoint in NOT_PAGES:
        return False
    return not any(word in endpoint.lower() for word in NOT_PAGE_WORDS)


def _reachable(app: Flask, email: str | None) -> set[str]:
    """The page endpoints this account may open (the walk must reach them all)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email)) if email else None
        endpoints = set()
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or not _is_page(rule.endpoint):
                continue
            access = app.view_functions[rule.endpoint].access
            if user is None and access == "public":
                endpoints.add(rule.endpoint)
            elif user is not None and access != "public" and allowed(user, access):
                endpoints.add(rule.endpoint)  # public pages: the anonymous walk
        db.session.remove()
    return endpoints - NOT_LINKED


def _verification_pages(app: Flask) -> list[str]:
    """A valid certificate's public page (what its QR code opens)."""
    with app.app_context():
        code = db.session.scalar(
            db.select(Certificate.verification_code).order_by(Certificate.id).limit(1)
        )
        db.session.remove()
    assert code, "the demo issues certificates"
    return [f"/verify/{code}"]


def _links(page: Any, origin: str) -> list[str]:
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]'), a => a.href)")
    return [h.split("#")[0] for h in hrefs if h.startswith(origin)]


def _set_language(app: Flask, email: str | None, language: str) -> None:
    if email is None:
        return
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == email))
        assert user is not None, email
        user.locale = language
        db.session.commit()
        db.session.remove()


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(demo.PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").first.click()


def _check(page: Any, name: str, walk: Walk, *, axe: bool) -> None:
    overflow = page.evaluate(OVERFLOW)
    if overflow:
        walk.problems.append(f"{name}: {overflow['width']} px wide: {overflow['culprits']}")
        screenshot(page, "overflow-" + name.replace("/", "_").replace(" ", "_")[:80])
    if axe:
        if not page.evaluate("() => typeof axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(AXE_RUN):
            walk.problems.append(f"{name}: axe {json.dumps(violation, ensure_ascii=False)}")


def _walk(page: Any, app: Flask, origin: str, start: list[str], label: str, *, axe: bool) -> Walk:
    walk = Walk()
    queue = [origin + path for path in start]
    while queue:
        url = queue.pop(0)
        endpoint = _endpoint(app, url)
        if endpoint is None or endpoint in walk.visited or not _is_page(endpoint):
            continue
        walk.visited[endpoint] = url
        try:
            response = page.goto(url)
        except PlaywrightError as error:  # a file download is not a page
            if "Download is starting" in str(error):
                continue
            raise
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status >= 500:
            walk.problems.append(f"{label} {url}: HTTP {response.status}")
            continue
        _check(page, f"{label} {urlsplit(url).path}", walk, axe=axe)
        queue.extend(_links(page, origin))
    return walk


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_fits_a_phone_and_passes_axe(
    chromium: Any,
    live_server: LiveServer,
    live_app: Flask,
    demo_site: None,
    role: str,
    language: str,
) -> None:
    email = ACCOUNTS[role]
    _set_language(live_app, email, language)
    pages = _open_page(
        chromium,
        live_server,
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,  # lets the test inject axe-core; the app's own pages are unchanged
        locale={"en": "en-GB", "ru": "ru-RU", "az": "az-AZ"}[language],
    )
    page = next(pages)
    try:
        if email:
            _sign_in(page, email)
        start = [HOME[role]] + (_verification_pages(live_app) if email is None else [])
        walk = _walk(page, live_app, live_server.url, start, f"{role}/{language}", axe=True)
    except BaseException:
        pages.close()
        raise
    next(pages, None)  # closes the page and checks that it raised no JavaScript error
    assert walk.problems == [], "\n".join(walk.problems)
    missing = sorted(_reachable(live_app, email) - set(walk.visited))
    assert not missing, f"pages the walk did not reach: {missing}"
