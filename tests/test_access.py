"""Who may open which page: every route of the app, for every role, plus what each home
page shows to whom.

The matrix is data-driven: routes added later are covered by the generic tests, which read
each view's declared access rule (``view.access``) and check that the app enforces it.
"""

from __future__ import annotations

import re
import sys
import types
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Blueprint, Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    Rule,
    UUIDConverter,
)

import trainingmgr
from trainingmgr import create_app
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.core.permissions import allowed, public, undeclared_endpoints
from trainingmgr.programmes.models import ProgrammeStatus

ROLES: list[Role | None] = [None, Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT]
ROLE_IDS = ["anonymous", "admin", "coordinator", "trainer", "participant"]

# The pages of issue 2 and who may open them; everyone else signed in gets 403.
EXPECTED: dict[str, set[Role]] = {
    "home.dashboard": {Role.ADMIN, Role.COORDINATOR},
    "home.trainer": {Role.TRAINER},
    "home.participant": {Role.PARTICIPANT},
}
HOMES = {
    Role.ADMIN: "/dashboard",
    Role.COORDINATOR: "/dashboard",
    Role.TRAINER: "/trainer",
    Role.PARTICIPANT: "/me",
}
NOT_ALLOWED = "Your account does not have access to this page."
# A number no test creates an object with: URLs built with it name nothing.
MISSING_ID = 987_654_321


def sign_in_as(login: Any, role: Role | None, client: FlaskClient) -> None:
    if role is None:
        with client.session_transaction() as sess:
            sess.clear()
    else:
        login(role)


def assert_sent_to_login(response: Any, where: str) -> None:
    assert response.status_code == 302, f"{where}: {response.status_code}"
    assert response.headers["Location"].startswith("/login"), where


# ---------------------------------------------------------------------------------------
# Issue 2's pages, role by role


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_issue_2_pages_by_role(
    app: Flask, client: FlaskClient, login: Any, endpoint: str, role: Role | None
) -> None:
    sign_in_as(login, role, client)
    with app.test_request_context():
        url = url_for(endpoint)
    response = client.get(url)
    if role is None:
        assert_sent_to_login(response, url)
    elif role in EXPECTED[endpoint]:
        assert response.status_code == 200
        assert "<h1" in response.text
    else:
        assert response.status_code == 403
        assert NOT_ALLOWED in response.text
        assert "Traceback" not in response.text


@pytest.mark.parametrize("role", ROLES, ids=ROLE_IDS)
def test_root_sends_each_role_to_its_home(
    client: FlaskClient, login: Any, role: Role | None
) -> None:
    sign_in_as(login, role, client)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == (HOMES[role] if role else "/login")


def test_trainer_who_is_also_a_participant_uses_both_homes(client: FlaskClient, login: Any) -> None:
    login(roles=[Role.TRAINER, Role.PARTICIPANT])
    assert client.get("/").headers["Location"] == "/trainer"
    assert client.get("/trainer").status_code == 200
    assert client.get("/me").status_code == 200
    assert client.get("/dashboard").status_code == 403


def test_sign_in_page_is_public_and_sign_out_needs_an_account(
    client: FlaskClient, login: Any
) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text
    assert_sent_to_login(client.post("/logout"), "/logout")
    for role in Role:
        login(role)
        response = client.post("/logout")
        assert response.headers["Location"] == "/login", role
        assert_sent_to_login(client.get(HOMES[role]), f"{role} after sign-out")


# ---------------------------------------------------------------------------------------
# Every route, including those added after issue 2


def _routes(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _argument_value(rule: Rule, name: str) -> Any:
    converter = rule._converters[name]
    if isinstance(converter, IntegerConverter):
        return MISSING_ID
    if isinstance(converter, FloatConverter):
        return float(MISSING_ID)
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=MISSING_ID)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "no-such-thing"


def _url(app: Flask, rule: Rule) -> str:
    values = {name: _argument_value(rule, name) for name in rule._converters}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def _access(app: Flask, rule: Rule) -> Any:
    return app.view_functions[rule.endpoint].access


def _call(client: FlaskClient, method: str, url: str) -> Any:
    return client.open(url, method=method, headers={"Accept": "text/html"})


def test_every_endpoint_declares_an_access_rule(app: Flask) -> None:
    assert undeclared_endpoints(app) == []
    for rule in _routes(app):
        access = _access(app, rule)
        assert access == "public" or (access and set(access) <= set(Role)), rule.endpoint


def test_anonymous_users_are_sent_to_sign_in_on_every_non_public_route(
    app: Flask, client: FlaskClient
) -> None:
    failures = []
    for rule in _routes(app):
        url = _url(app, rule)
        for method in _methods(rule):
            response = _call(client, method, url)
            if _access(app, rule) == "public":
                if response.status_code >= 500:
                    failures.append(f"{method} {url}: {response.status_code}")
                continue
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.startswith("/login"):
                failures.append(f"{method} {url}: {response.status_code} {location}")
    assert failures == []


@pytest.mark.parametrize("role", ROLES[1:], ids=ROLE_IDS[1:])
def test_every_route_refuses_the_roles_it_does_not_allow(
    app: Flask, client: FlaskClient, login: Any, role: Role
) -> None:
    user = login(role)
    failures = []
    checked = 0
    for rule in _routes(app):
        access = _access(app, rule)
        if access == "public" or allowed(user, access):
            continue
        url = _url(app, rule)
        for method in _methods(rule):
            checked += 1
            response = _call(client, method, url)
            if response.status_code != 403 or NOT_ALLOWED not in response.text:
                failures.append(f"{method} {url}: {response.status_code}")
    assert failures == []
    assert checked > 0  # every role is refused somewhere (at least one other role's home)


@pytest.mark.parametrize("role", ROLES[1:], ids=ROLE_IDS[1:])
def test_every_page_opens_for_the_roles_it_allows(
    app: Flask, client: FlaskClient, login: Any, role: Role
) -> None:
    """GET pages without arguments open (or redirect); a URL naming an object that does not
    exist gets the friendly 404 page, never a 500."""
    user = login(role)
    failures = []
    for rule in _routes(app):
        access = _access(app, rule)
        if "GET" not in _methods(rule) or not (access == "public" or allowed(user, access)):
            continue
        url = _url(app, rule)
        response = _call(client, "GET", url)
        converters = list(rule._converters.values())
        if not converters:
            ok = response.status_code in (200, 302, 303)
        elif all(isinstance(c, IntegerConverter) for c in converters):
            ok = response.status_code == 404 and "Page not found" in response.text
        else:
            ok = response.status_code < 500
        if not ok:
            failures.append(f"GET {url}: {response.status_code}")
    assert failures == []


# ---------------------------------------------------------------------------------------
# A view without an access rule stops the app from starting


def test_a_plain_view_is_reported_as_undeclared() -> None:
    app = Flask(__name__)

    @app.route("/open-door")
    def open_door() -> str:
        return "anyone"

    @app.route("/hello")
    @public
    def hello() -> str:
        return "hello"

    assert undeclared_endpoints(app) == ["open_door"]


def _add_domain(monkeypatch: pytest.MonkeyPatch, name: str, bp: Blueprint) -> None:
    """Make ``trainingmgr.<name>.views`` importable with ``bp`` and list it in DOMAINS."""
    views = types.ModuleType(f"trainingmgr.{name}.views")
    views.bp = bp  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, f"trainingmgr.{name}", types.ModuleType(name))
    monkeypatch.setitem(sys.modules, f"trainingmgr.{name}.views", views)
    monkeypatch.setattr(trainingmgr, "DOMAINS", (*trainingmgr.DOMAINS, name))


def test_create_app_refuses_to_start_with_an_unguarded_view(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = {
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }
    guarded = Blueprint("zz_guarded", __name__)

    @guarded.route("/zz-guarded")
    @public
    def closed_door() -> str:
        return "fine"

    _add_domain(monkeypatch, "zz_guarded", guarded)
    assert "zz_guarded.closed_door" in create_app(config).view_functions

    unguarded = Blueprint("zz_unguarded", __name__)

    @unguarded.route("/zz-unguarded")
    def open_door() -> str:
        return "anyone"

    _add_domain(monkeypatch, "zz_unguarded", unguarded)
    with pytest.raises(RuntimeError, match="views without an access rule: zz_unguarded.open_door"):
        create_app(config)


# ---------------------------------------------------------------------------------------
# Navigation shows only what the role may use


def _nav(html: str) -> str:
    match = re.search(r"<nav\b.*?</nav>", html, re.S)
    assert match, "the page has a navigation bar"
    return match.group(0)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.ADMIN, ["Dashboard"], ["My training", "My sessions"]),
        (Role.COORDINATOR, ["Dashboard"], ["My training", "My sessions"]),
        (Role.TRAINER, ["My sessions"], ["Dashboard", "My training"]),
        (Role.PARTICIPANT, ["My training"], ["Dashboard", "My sessions"]),
    ],
)
def test_navigation_shows_only_what_the_role_may_use(
    app: Flask, client: FlaskClient, login: Any, role: Role, shown: list[str], hidden: list[str]
) -> None:
    login(role)
    nav = _nav(client.get(HOMES[role]).text)
    for label in shown:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert label not in nav
    # Every link in the navigation opens for this role.
    for href in re.findall(r'class="nav-link[^"]*"[^>]*href="([^"]+)"', nav):
        assert client.get(href).status_code == 200, href
    assert "Sign out" in nav


def test_signed_out_visitors_see_no_navigation_items(client: FlaskClient) -> None:
    nav = _nav(client.get("/login").text)
    assert "nav-link" not in nav
    assert "Sign out" not in nav


# ---------------------------------------------------------------------------------------
# Home pages with data: each role sees its own


def _text(html: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', html, re.S)
    assert match, f"no element with data-testid={testid}"
    return match.group(0)


def _rows(html: str) -> list[str]:
    return [_text(r) for r in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


def _today() -> date:
    return datetime.now(UTC).date()


def _soon(days: int, hour: int = 5) -> datetime:
    day = _today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def test_dashboard_lists_programmes_cohorts_and_next_sessions(
    client: FlaskClient, login: Any, make: Any
) -> None:
    mmdp = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    make.programme(code="OLD", title="An archived programme", status=ProgrammeStatus.ARCHIVED)
    today = _today()
    current = make.cohort(
        programme=mmdp,
        name="MMDP 2026",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=60),
        capacity=25,
        city="Maastricht",
        timezone="Europe/Amsterdam",
    )
    finished = make.cohort(
        programme=mmdp,
        name="MMDP 2019",
        start_date=date(2019, 9, 2),
        end_date=date(2019, 11, 29),
    )
    twice = make.person()
    make.enrolment(cohort=current, person=twice)
    make.enrolment(cohort=finished, person=twice, status=EnrolmentStatus.COMPLETED)
    make.enrolment(cohort=current)
    make.enrolment(cohort=current, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    make.enrolment(cohort=current, status=EnrolmentStatus.WITHDRAWN)
    make.session(cohort=current, title="Migration law", starts_at=_soon(1), ends_at=_soon(1, 8))
    make.session(cohort=current, title="Already over", starts_at=_soon(-2), ends_at=_soon(-2, 8))
    make.session(
        cohort=current,
        title="Called off",
        starts_at=_soon(2),
        ends_at=_soon(2, 8),
        status=SessionStatus.CANCELLED,
    )
    login(Role.COORDINATOR)
    html = client.get("/dashboard").text

    # Programmes: two cohorts; two distinct participants (waitlisted and withdrawn do not count).
    assert _rows(_section(html, "programmes"))[1:] == [
        "MMDP Migration Management Diploma Programme Workshop 2 2"
    ]
    cohorts = _rows(_section(html, "cohorts"))[1:]
    assert len(cohorts) == 1  # the 2019 cohort is over
    assert "MMDP 2026" in cohorts[0]
    assert "Maastricht" in cohorts[0]
    assert "2 / 25 +1 waitlisted 2" in cohorts[0]  # enrolled / capacity, waitlist, sessions
    sessions = _text(_section(html, "next-sessions"))
    assert "Migration law" in sessions
    assert "Already over" not in sessions
    assert "Called off" not in sessions


def test_trainer_home_lists_only_their_own_sessions(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.TRAINER)
    other = make.person(first_name="Şükrü", last_name="Yılmaz")
    cohort = make.cohort(timezone="Asia/Baku")
    mine = make.session(cohort=cohort, title="Readmission", starts_at=_soon(2), ends_at=_soon(2, 8))
    mine.trainers.append(me.person)
    past = make.session(cohort=cohort, title="Smuggling", starts_at=_soon(-3), ends_at=_soon(-3, 8))
    past.trainers.append(me.person)
    theirs = make.session(cohort=cohort, title="Not mine", starts_at=_soon(2), ends_at=_soon(2, 8))
    theirs.trainers.append(other)
    theirs_past = make.session(
        cohort=cohort, title="Not mine either", starts_at=_soon(-3), ends_at=_soon(-3, 8)
    )
    theirs_past.trainers.append(other)
    make.enrolment(cohort=cohort)  # nobody's attendance recorded yet for the past sessions

    html = client.get("/trainer").text
    upcoming = _text(_section(html, "upcoming-sessions"))
    assert "Readmission" in upcoming
    assert "09:00–12:00" in upcoming  # 05:00 UTC in Baku
    assert "Smuggling" in _text(_section(html, "past-sessions"))
    assert "Not mine" not in html
    assert "Yılmaz" not in html


def test_trainer_without_a_person_record_is_told_so(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    user.person = None
    db_session.flush()
    login(user=user)
    make.session(title="Somebody's session", starts_at=_soon(1), ends_at=_soon(1, 8))
    html = client.get("/trainer").text
    assert "not linked to a trainer record" in html
    assert "You have no upcoming sessions." in html
    assert "Somebody" not in html


def test_participant_home_shows_own_schedule_in_the_cohort_time_zone(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT)
    baku = make.cohort(name="RTCM roll-out Baku", timezone="Asia/Baku")
    enrolment = make.enrolment(cohort=baku, person=me.person)
    first = make.session(
        cohort=baku,
        title="Global Compact for Migration",
        starts_at=datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    )
    make.session(
        cohort=baku,
        title="Legal mobility",
        starts_at=datetime(2026, 3, 3, 10, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 3, 12, 0, tzinfo=UTC),
    )
    make.attendance(first, enrolment, AttendanceStatus.LATE)
    # Someone else's cohort, and a cohort this participant withdrew from.
    make.session(title="Another cohort's session")
    left = make.cohort(name="Withdrawn cohort")
    make.enrolment(cohort=left, person=me.person, status=EnrolmentStatus.WITHDRAWN)

    html = client.get("/me").text
    card = _text(_section(html, f"cohort-{baku.id}"))
    assert "RTCM roll-out Baku" in card
    assert "Times are shown in Asia/Baku." in card
    rows = [
        _text(r)
        for r in re.findall(r"<li[^>]*>(.*?)</li>", _section(html, f"schedule-{baku.id}"), re.S)
    ]
    assert len(rows) == 2
    assert "09:00–12:30" in rows[0] and "Global Compact for Migration" in rows[0]
    assert rows[0].endswith("Late")
    assert "14:00–16:00" in rows[1] and rows[1].endswith("Not recorded")
    assert "Another cohort" not in html
    assert "Withdrawn cohort" not in html


def test_participant_without_enrolments_is_told_so(client: FlaskClient, login: Any) -> None:
    login(Role.PARTICIPANT)
    assert "You are not enrolled in any cohort yet." in client.get("/me").text


# ---------------------------------------------------------------------------------------
# Home pages load with a bounded number of queries


def _populate(make: Any, n: int, trainer: Any, participant: Any) -> None:
    """``n`` programmes, each with a current cohort and an upcoming session led by
    ``trainer`` and attended by ``participant``."""
    for i in range(n):
        cohort = make.cohort(
            start_date=_today() - timedelta(days=1), end_date=_today() + timedelta(days=30)
        )
        session = make.session(cohort=cohort, starts_at=_soon(1 + i % 5), ends_at=_soon(2 + i % 5))
        session.trainers.append(trainer)
        enrolment = make.enrolment(cohort=cohort, person=participant)
        make.enrolment(cohort=cohort)
        make.attendance(session, enrolment)


@pytest.mark.parametrize(
    ("role", "url"),
    [(Role.COORDINATOR, "/dashboard"), (Role.TRAINER, "/trainer"), (Role.PARTICIPANT, "/me")],
)
def test_home_pages_load_with_a_bounded_number_of_queries(
    client: FlaskClient, login: Any, make: Any, count_queries: Any, role: Role, url: str
) -> None:
    user = login(role)
    trainer = user.person if role == Role.TRAINER else make.person()
    participant = user.person if role == Role.PARTICIPANT else make.person()
    counts = []
    for n in (3, 57):  # 3, then 60 of everything
        _populate(make, n, trainer, participant)
        with count_queries() as q:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1], counts
