"""Programme scope (issue 9): a coordinator sees and changes only their programmes.

The route matrix covers every coordinator-level route of the app, including routes added
later: each is called by a coordinator of programme Alpha with Alpha's ids (it opens) and
with Bravo's ids (404, nothing written), and by an administrator with Bravo's ids (it opens).
A route whose URL takes an argument this file does not know fails
``test_every_coordinator_route_argument_is_declared`` until the argument is declared:
in ``trainingmgr.core.scope.SCOPED_ARGUMENTS`` when it names an object of a programme, or
in ``NOT_IDS`` below (with why) when it does not.

Lists, pickers, exports and searches are tested one by one after the matrix.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, Rule

from trainingmgr import create_app, demo
from trainingmgr.accounts.models import Role, User
from trainingmgr.certificates import services as certificates
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Session
from trainingmgr.core import scope
from trainingmgr.evaluations import services as evaluations
from trainingmgr.evaluations.models import EvaluationKind
from trainingmgr.extensions import db
from trainingmgr.imports import storage
from trainingmgr.organisation.models import Signatory
from trainingmgr.people.models import Person
from trainingmgr.programmes import services as programmes
from trainingmgr.programmes.models import Programme


def _preview_key() -> str:
    from trainingmgr.mail import previews

    return next(iter(previews.PREVIEWS))


# URL arguments that name no object of a programme: why they need no scope check, and a
# value that works (None: the fixture gives one per programme).
NOT_IDS: dict[str, tuple[str, Callable[[], str] | None]] = {
    "fmt": ("a file format (csv, xlsx, ...): names no object", lambda: "csv"),
    "token": (
        "an import upload: usable only by its uploader, and imports.views._load checks the "
        "programme of the upload's cohort (tested below)",
        None,
    ),
    "key": ("the kind of an e-mail message, previewed with made-up data", _preview_key),
    "locale": ("a language", lambda: "en"),
    "version": ("the version (hash) of an image; outdated ones redirect", lambda: "0"),
    "kind": ("the kind of a cohort's evaluation (survey, test)", lambda: "survey"),
    "direction": ("where a question moves (up, down)", lambda: "down"),
}


@cache
def _listing_app() -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="scope-routes-"),
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "MAIL_BACKEND": "memory",
        }
    )


@cache
def coordinator_rules() -> list[tuple[str, str]]:
    """(endpoint, method) of every route a coordinator may use, read when tests are collected."""
    app = _listing_app()
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if rule.endpoint == "static" or not scope.is_coordinator_level(getattr(view, "access", 0)):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method))
    return sorted(set(found))


@cache
def matrix_rules() -> list[tuple[str, str]]:
    """Every coordinator page (GET), and every other request whose URL names an object:
    a POST without one (create a programme, a person...) reaches no other programme's data
    through its URL (what its form may name is tested one by one below)."""
    app = _listing_app()
    return [
        (endpoint, method)
        for endpoint, method in coordinator_rules()
        if method == "GET" or set(_arguments(app, endpoint)) & set(scope.SCOPED_ARGUMENTS)
    ]


# --------------------------------------------------------------------------- two programmes

# A 1 x 1 PNG: programmes and their funders have a logo and signatories a signature.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class Side:
    """One programme with one of everything, and the words that give its pages away."""

    programme: Programme
    partner_id: int
    module_id: int
    cohort: Cohort
    session: Session
    person: Person  # enrolled here only
    enrolment: Enrolment
    trainer: Person  # teaches here; enrolled nowhere (trainers are shared by programmes)
    certificate_id: int
    signatory_id: int
    token: str
    marker: str
    question_id: int

    def argument(self, name: str) -> Any:
        values = {
            "programme_id": self.programme.id,
            "partner_id": self.partner_id,
            "module_id": self.module_id,
            "cohort_id": self.cohort.id,
            "session_id": self.session.id,
            "enrolment_id": self.enrolment.id,
            "person_id": self.person.id,
            "certificate_id": self.certificate_id,
            "signatory_id": self.signatory_id,
            "token": self.token,
            "question_id": self.question_id,
        }
        if name in values:
            return values[name]
        value = NOT_IDS[name][1]
        if value is None:
            raise KeyError(name)
        return value()


@dataclass
class World:
    alpha: Side
    bravo: Side
    free: Person  # enrolled nowhere: in every coordinator's scope
    coordinator: User  # of Alpha only


def _side(make: Any, code: str, marker: str, uploader: User) -> Side:
    programme = make.programme(
        code=code, title=f"{marker} programme", logo=PNG, logo_mimetype="image/png"
    )
    partner = programmes.add_partner(
        programme,
        programmes.PartnerInput(f"{marker} Univ", "funder", logo=(PNG, "image/png")),
        actor=None,
    )
    module = make.module(programme, title=f"{marker} module")
    cohort = make.cohort(programme, name=f"{marker} cohort", start_date=date(2026, 3, 2))
    session = make.session(cohort, title=f"{marker} session", module=module)
    trainer = make.person(first_name="Trainer", last_name=f"Coach{code[0]}")
    session.trainers.append(trainer)
    person = make.person(first_name=f"{marker}person", last_name="Participant")
    enrolment = make.enrolment(cohort, person)
    make.attendance(session, enrolment)
    certificate = certificates.issue(
        enrolment, override_reason="For the scope test", actor=uploader
    )
    signatory = Signatory(
        programme_id=programme.id,
        position=1,
        name=f"{marker} Signatory",
        signature=PNG,
        signature_mimetype="image/png",
    )
    db.session.add(signatory)
    db.session.flush()
    csv_file = f"first_name,last_name,email\nNew,{marker}import,new.{code}@example.org\n"
    upload = storage.save_upload(
        csv_file.encode(), f"{code}.csv", user_id=uploader.id, cohort_id=cohort.id
    )
    survey = evaluations.create_evaluation(cohort, EvaluationKind.SURVEY, "en", actor=uploader)
    evaluations.create_evaluation(cohort, EvaluationKind.TEST, actor=uploader)
    return Side(
        programme,
        partner.id,
        module.id,
        cohort,
        session,
        person,
        enrolment,
        trainer,
        certificate.id,
        signatory.id,
        upload.token,
        marker,
        survey.questions[0].id,
    )


@pytest.fixture
def world(make: Any, login: Any, db_session: Any) -> World:
    coordinator = make.user(Role.COORDINATOR, display_name="Alpha Coordinator")
    alpha = _side(make, "ALPHA", "Alpha", coordinator)
    bravo = _side(make, "BRAVO", "Bravo", coordinator)
    coordinator.programmes.append(alpha.programme)
    free = make.person(first_name="Unenrolled", last_name="Newcomer")
    db_session.flush()
    login(user=coordinator)
    return World(alpha, bravo, free, coordinator)


def _rule(app: Flask, endpoint: str) -> Rule:
    return next(iter(app.url_map.iter_rules(endpoint)))


def _arguments(app: Flask, endpoint: str) -> list[str]:
    """The arguments in the URL's path (not the rule's defaults)."""
    return list(_rule(app, endpoint)._converters)


def _url(app: Flask, endpoint: str, side: Side) -> str:
    rule = _rule(app, endpoint)
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = side.argument(name)
    with app.test_request_context():
        return url_for(endpoint, **values)


def _scoped(app: Flask, endpoint: str) -> bool:
    return bool(set(_arguments(app, endpoint)) & set(scope.SCOPED_ARGUMENTS))


def database_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing written" is compared with."""
    rows = {}
    for table in db.metadata.sorted_tables:
        query = sa.select(table).order_by(*(list(table.primary_key) or list(table.columns)))
        rows[table.name] = [tuple(r) for r in db.session.execute(query)]
    return rows


# --------------------------------------------------------------------------- the matrix


def test_every_coordinator_route_argument_is_declared(app: Flask) -> None:
    known = set(scope.SCOPED_ARGUMENTS) | set(NOT_IDS)
    undeclared = sorted(
        f"{endpoint}: <{name}>"
        for endpoint, _method in coordinator_rules()
        for name in _arguments(app, endpoint)
        if name not in known
    )
    assert undeclared == [], (
        "Coordinator routes take URL arguments that the programme scope does not know. "
        "Declare each in trainingmgr.core.scope.SCOPED_ARGUMENTS (an id of something that "
        "belongs to a programme, with how to find its programme) or in NOT_IDS in "
        f"tests/test_scope.py (with why it needs no check): {undeclared}"
    )
    assert len(coordinator_rules()) > 40  # the app's routes were found


def test_the_fixture_has_a_value_for_every_scoped_argument(world: World) -> None:
    for name in scope.SCOPED_ARGUMENTS:
        assert world.alpha.argument(name) != world.bravo.argument(name), name


@pytest.mark.parametrize(("endpoint", "method"), matrix_rules())
def test_route_by_role_and_programme(
    app: Flask,
    client: FlaskClient,
    login: Any,
    world: World,
    endpoint: str,
    method: str,
) -> None:
    """Alpha's coordinator: Alpha's ids open, Bravo's are 404 and write nothing; pages without
    ids show nothing of Bravo. An administrator opens Bravo's."""
    alpha, bravo = _url(app, endpoint, world.alpha), _url(app, endpoint, world.bravo)
    scoped = _scoped(app, endpoint)
    if method == "GET":
        own = client.get(alpha)
        assert own.status_code in (200, 302), f"GET {alpha}: {own.status_code}"
        if own.status_code == 200 and own.mimetype == "text/html":
            assert world.bravo.marker not in own.text, f"GET {alpha} shows Bravo's data"
        if scoped:
            other = client.get(bravo)
            assert other.status_code in (403, 404), f"GET {bravo}: {other.status_code}"
            assert world.bravo.marker not in other.text
            login(Role.ADMIN)
            assert client.get(bravo).status_code in (200, 302), f"admin: GET {bravo}"
        return
    before = database_rows()
    response = client.open(bravo, method=method, data={})
    assert response.status_code in (403, 404), f"{method} {bravo}: {response.status_code}"
    assert database_rows() == before, f"{method} {bravo} wrote something"
    # With Alpha's ids the same request passes the scope check (it may still be refused for
    # the empty form, but not as "not found").
    assert client.open(alpha, method=method, data={}).status_code not in (403, 404), alpha


# --------------------------------------------------------------------------- the check itself


def test_the_check_adds_a_bounded_number_of_queries(
    app: Flask,
    client: FlaskClient,
    login: Any,
    make: Any,
    world: World,
    count_queries: Any,
    db_session: Any,
) -> None:
    arguments = {
        name: world.alpha.argument(name)
        for name in scope.SCOPED_ARGUMENTS
        if name != "programme_id"
    }
    ids = {world.alpha.programme.id}
    with count_queries() as q:
        assert not scope.outside_scope(arguments, ids)
    assert q.count == 1  # one query for every argument at once
    with count_queries() as q:
        assert scope.outside_scope({**arguments, "cohort_id": world.bravo.cohort.id}, ids)
    assert q.count == 1

    page = f"/cohorts/{world.alpha.cohort.id}"

    def count() -> int:
        db_session.expire_all()
        with count_queries() as q:
            assert client.get(page).status_code == 200
        return q.count

    few = count()
    for n in range(25):  # many more programmes, the user coordinating them all
        world.coordinator.programmes.append(make.programme(code=f"MORE{n}"))
    db_session.flush()
    assert count() == few
    login(Role.ADMIN)
    # The scope costs at most two queries: the user's programmes and the check.
    assert few - count() <= 2
    with count_queries() as q:  # and nothing at all for static files
        assert client.get("/static/js/app.js").status_code == 200
    assert q.count == 0


def test_administrators_and_other_roles_are_not_limited(
    app: Flask, client: FlaskClient, login: Any, world: World
) -> None:
    bravo = world.bravo
    login(Role.ADMIN)
    assert client.get(f"/cohorts/{bravo.cohort.id}").status_code == 200
    assert client.get(f"/people/{bravo.person.id}").status_code == 200
    # A trainer of Bravo's session is refused coordinator pages with 403 (not a 404 that
    # would come from the scope check), and records attendance in their own session.
    login(user=make_trainer(world.bravo.trainer))
    assert client.get(f"/cohorts/{bravo.cohort.id}").status_code == 403
    assert client.get(f"/sessions/{bravo.session.id}/attendance").status_code == 200


def make_trainer(person: Person) -> User:
    from tests import factories

    return factories.user(Role.TRAINER, person=person)


def test_a_coordinator_who_also_trains_records_attendance_where_they_teach(
    client: FlaskClient, login: Any, make: Any, world: World
) -> None:
    """Coordinator of Alpha and trainer of one of Bravo's sessions: that session's roster
    opens (as its trainer); Bravo's other sessions and Bravo's coordinator pages do not."""
    both = make.user(
        roles=[Role.COORDINATOR, Role.TRAINER],
        person=world.bravo.trainer,
        programmes=[world.alpha.programme],
    )
    login(user=both)
    other = make.session(world.bravo.cohort, title="Bravo other session")
    assert client.get(f"/sessions/{world.bravo.session.id}/attendance").status_code == 200
    assert client.get(f"/sessions/{other.id}/attendance").status_code in (403, 404)
    assert client.get(f"/sessions/{other.id}/checkin-screen").status_code in (403, 404)
    assert client.get(f"/cohorts/{world.bravo.cohort.id}/attendance").status_code == 200
    assert client.get(f"/cohorts/{world.bravo.cohort.id}").status_code == 404
    assert client.get(f"/sessions/{world.alpha.session.id}/attendance").status_code == 200
    third = make.cohort(name="Charlie cohort")
    assert client.get(f"/cohorts/{third.id}/attendance").status_code in (403, 404)


def test_a_coordinator_of_no_programme_sees_nothing(
    client: FlaskClient, login: Any, world: World
) -> None:
    login(Role.COORDINATOR, programmes=[])
    dashboard = client.get("/dashboard").text
    assert "Alpha" not in dashboard and "Bravo" not in dashboard
    assert "You do not coordinate any active programme." in dashboard
    assert "Alpha" not in client.get("/programmes/?status=all").text
    assert "Alpha cohort" not in client.get("/cohorts/?status=all").text
    assert client.get(f"/cohorts/{world.alpha.cohort.id}").status_code == 404
    people = client.get("/people/").text
    assert "Unenrolled" in people  # someone enrolled nowhere is reachable by everyone
    assert "Alphaperson" not in people


def test_the_programmes_loaded_with_the_sign_in_follow_a_change_of_assignment(
    app: Flask, world: World, make: Any
) -> None:
    """The sign-in loads the coordinator's programme ids with the user; a programme given or
    taken away later in the same request counts at once (no stale scope)."""
    from trainingmgr.accounts import sessions

    coordinator = make.user(role=Role.COORDINATOR)
    coordinator.programmes.append(world.alpha.programme)
    db.session.flush()
    with app.test_request_context():
        key = sessions.start(coordinator)
        db.session.expire_all()
        user = sessions.resolve(key)
        assert user is not None
        assert scope.managed_programme_ids(user) == {world.alpha.programme.id}
        user.programmes.append(world.bravo.programme)
        assert scope.managed_programme_ids(user) == {
            world.alpha.programme.id,
            world.bravo.programme.id,
        }
        user.programmes.remove(world.alpha.programme)
        assert scope.managed_programme_ids(user) == {world.bravo.programme.id}
        assert not scope.can_manage_programme(world.alpha.programme.id, user)


# --------------------------------------------------------------------------- lists


def test_dashboard_shows_only_the_coordinators_programmes(
    client: FlaskClient, world: World, make: Any
) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    for side in (world.alpha, world.bravo):
        side.cohort.end_date = date.today() + timedelta(days=30)
        make.session(side.cohort, title=f"{side.marker} next", starts_at=soon)
    html = client.get("/dashboard").text
    assert "Alpha programme" in html and "Alpha cohort" in html and "Alpha next" in html
    assert "Bravo" not in html


def test_programme_and_cohort_lists_show_only_the_coordinators_programmes(
    client: FlaskClient, world: World
) -> None:
    html = client.get("/programmes/?status=all").text
    assert "ALPHA" in html and "BRAVO" not in html
    cohorts = client.get("/cohorts/?status=all").text
    assert "Alpha cohort" in cohorts and "Bravo" not in cohorts  # list and programme filter
    filtered = client.get(f"/cohorts/?status=all&programme_id={world.bravo.programme.id}").text
    assert "Bravo cohort" not in filtered
    choose = client.get("/cohorts/new").text
    assert "ALPHA" in choose and "BRAVO" not in choose


def test_a_coordinator_adds_cohorts_only_to_their_programmes(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    form = {
        "name": "New cohort",
        "start_date": "2026-10-05",
        "end_date": "2026-10-06",
        "timezone": "Asia/Baku",
        "venue": "Regional Training Centre",
        "city": "Ganja",
        "country": "AZ",
        "delivery_mode": "in_person",
        "online_url": "",
        "capacity": "25",
        "language": "az",
        "certificate_language": "en+az",
        "min_attendance_pct": "80",
        "min_hours": "12",
        "late_grace_minutes": "10",
        "parent_cohort_id": "",
    }
    bravo = f"/cohorts/new?programme_id={world.bravo.programme.id}"
    assert client.get(bravo).status_code == 404
    assert client.post(bravo, data=form).status_code == 404
    alpha = f"/cohorts/new?programme_id={world.alpha.programme.id}"
    page = client.get(alpha).text
    assert "Alpha cohort" in page and "Bravo cohort" not in page  # parent choices
    refused = client.post(alpha, data={**form, "parent_cohort_id": world.bravo.cohort.id})
    assert refused.status_code == 200
    assert "Choose a cohort from the list." in refused.text
    count = sa.select(sa.func.count()).select_from(Cohort).where(Cohort.name == "New cohort")
    assert db_session.scalar(count) == 0
    assert client.post(alpha, data=form).status_code == 302
    assert db_session.scalar(count) == 1


def test_creating_a_programme_makes_its_creator_its_coordinator(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    response = client.post(
        "/programmes/new",
        data={
            "code": "charlie",
            "title": "Charlie programme",
            "kind": "workshop",
            "default_certificate_language": "en",
        },
    )
    assert response.status_code == 302
    programme = db_session.scalar(sa.select(Programme).where(Programme.code == "CHARLIE"))
    assert programme in world.coordinator.programmes
    assert client.get(f"/programmes/{programme.id}").status_code == 200
    assert "CHARLIE" in client.get("/programmes/").text


def test_people_directory_and_export_show_the_people_in_scope(
    client: FlaskClient, world: World, make: Any
) -> None:
    both = make.person(first_name="Twice", last_name="Enrolled")
    make.enrolment(world.alpha.cohort, both)
    make.enrolment(world.bravo.cohort, both)
    html = client.get("/people/").text
    for name in ("Alphaperson", "Unenrolled", "Twice", "CoachA", "CoachB"):
        assert name in html, name
    assert "Bravoperson" not in html
    rows = list(csv.reader(io.StringIO(client.get("/people/export.csv").data.decode("utf-8-sig"))))
    names = {row[0] for row in rows[1:]}
    assert {"Alphaperson", "Unenrolled", "Twice"} <= names
    assert "Bravoperson" not in names
    # The person page of someone enrolled in both shows only Alpha's cohort.
    page = client.get(f"/people/{both.id}").text
    assert "Alpha cohort" in page and "Bravo cohort" not in page
    # Once enrolled in Bravo only, a newcomer leaves Alpha's directory.
    make.enrolment(world.bravo.cohort, world.free)
    assert "Unenrolled" not in client.get("/people/").text
    assert client.get(f"/people/{world.free.id}").status_code == 404


def test_a_merged_record_follows_the_record_it_was_merged_into(
    client: FlaskClient, world: World, make: Any, db_session: Any
) -> None:
    gone = make.person(first_name="Merged", last_name="Away", merged_into_id=world.bravo.person.id)
    assert client.get(f"/people/{gone.id}").status_code == 404
    gone.merged_into_id = world.alpha.person.id
    db_session.flush()
    assert client.get(f"/people/{gone.id}").status_code in (200, 302)


def test_enrolment_search_and_picks_are_limited_to_the_scope(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    url = f"/cohorts/{world.alpha.cohort.id}/enrolments"
    found = client.get(url, query_string={"q": "participant"}).text
    assert "Alphaperson" in found and "Bravoperson" not in found
    before = database_rows()
    refused = client.post(url, data={"person_ids": [str(world.bravo.person.id)]})
    assert refused.status_code == 400
    assert "no longer in the directory" in refused.text
    assert database_rows() == before
    assert client.post(url, data={"person_ids": [str(world.free.id)]}).status_code == 302


def test_enrolling_by_exact_e_mail_reaches_anyone(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    """An e-mail address identifies one person: a coordinator who knows it may enrol them
    (a graduate of another programme joining this one), who then enters their scope."""
    response = client.post(
        f"/cohorts/{world.alpha.cohort.id}/enrolments/by-email",
        data={"email": world.bravo.person.email, "as_status": "enrolled"},
    )
    assert response.status_code == 302
    assert client.get(f"/people/{world.bravo.person.id}").status_code == 200


def test_merging_is_limited_to_the_scope(
    client: FlaskClient, world: World, make: Any, db_session: Any
) -> None:
    alpha = world.alpha.person
    hidden = client.get(f"/people/merge?keep={alpha.id}&duplicate={world.bravo.person.id}")
    assert f"There is no record #{world.bravo.person.id}." in hidden.text
    assert "Bravoperson" not in hidden.text
    assert "Bravoperson" not in client.get("/people/merge?q=participant").text
    before = database_rows()
    posted = client.post(
        "/people/merge", data={"keep": alpha.id, "duplicate": world.bravo.person.id}
    )
    assert posted.status_code == 404
    # A duplicate that also takes part in Bravo may be merged only by an administrator.
    twice = make.person(first_name="Alphaperson", last_name="Duplicate")
    make.enrolment(world.alpha.cohort, twice, status=EnrolmentStatus.APPLIED)
    other = make.cohort(world.bravo.programme, name="Bravo second cohort")
    make.enrolment(other, twice)
    before = database_rows()
    refused = client.post("/people/merge", data={"keep": alpha.id, "duplicate": twice.id})
    assert "only an administrator may merge" in refused.text
    assert database_rows() == before


def test_session_trainer_choices_and_picks(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    url = f"/cohorts/{world.alpha.cohort.id}/sessions/new"
    # The other sessions are on another day: no "booked twice" or overlap warning to confirm.
    for side in (world.alpha, world.bravo):
        side.session.starts_at = datetime(2026, 3, 9, 5, 0, tzinfo=UTC)
        side.session.ends_at = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    db_session.flush()
    page = client.get(url).text
    assert "CoachB" in page  # trainers are shared by every programme
    assert "Alphaperson" in page and "Unenrolled" in page
    assert "Bravoperson" not in page
    form = {
        "day": "2026-03-03",
        "start_time": "09:00",
        "end_time": "12:30",
        "module_id": "",
        "title": "Picked",
        "mode": "in_person",
        "location": "Room 2",
        "online_url": "",
    }
    before = database_rows()
    refused = client.post(url, data={**form, "trainer_ids": [str(world.bravo.person.id)]})
    assert "Choose the trainers from the list." in refused.text
    assert database_rows() == before
    ok = client.post(url, data={**form, "trainer_ids": [str(world.bravo.trainer.id)]})
    assert ok.status_code == 302


def test_import_preview_suggests_duplicates_only_in_scope(
    client: FlaskClient, world: World, make: Any
) -> None:
    from trainingmgr.imports import services as imports
    from trainingmgr.imports.validation import Verdict

    rows = "first_name,last_name,email,country\nBravoperson,Participant,other@example.org,AZ\n"
    scoped = imports.build_preview(
        rows.encode(), "x.csv", cohort=world.alpha.cohort, programme_ids={world.alpha.programme.id}
    )
    everyone = imports.build_preview(rows.encode(), "x.csv", cohort=world.alpha.cohort)
    assert everyone.rows[0].verdict == Verdict.DUPLICATE  # an administrator is warned
    assert scoped.rows[0].verdict == Verdict.CREATE  # Bravo's people are not suggested


def test_an_upload_for_a_cohort_left_behind_is_404(client: FlaskClient, world: World) -> None:
    assert client.get(f"/import/{world.alpha.token}").status_code == 200
    assert client.get(f"/import/{world.bravo.token}").status_code == 404
    assert client.post(f"/import/{world.bravo.token}/confirm", data={}).status_code == 404


def test_a_trainer_calendar_lists_only_the_coordinators_sessions(
    client: FlaskClient, world: World, db_session: Any
) -> None:
    world.bravo.session.trainers.append(world.alpha.trainer)
    db_session.flush()
    body = client.get(f"/cohorts/trainers/{world.alpha.trainer.id}/calendar.ics").text
    assert "Alpha session" in body and "Bravo session" not in body


def test_attendance_services_follow_the_scope(world: World, make: Any) -> None:
    from trainingmgr.attendance import access

    assert access.can_record(world.alpha.session, actor=world.coordinator)
    assert not access.can_record(world.bravo.session, actor=world.coordinator)
    assert access.can_view_cohort(world.alpha.cohort, actor=world.coordinator)
    assert not access.can_view_cohort(world.bravo.cohort, actor=world.coordinator)


# --------------------------------------------------------------------------- demo


def test_demo_coordinators_each_see_their_programmes(client: FlaskClient, db_session: Any) -> None:
    demo.load()
    users = {
        u.email: u
        for u in db_session.scalars(
            sa.select(User).where(
                User.email.in_(["coordinator@example.org", "coordinator2@example.org"])
            )
        )
    }
    first = {p.code for p in users["coordinator@example.org"].programmes}
    second = {p.code for p in users["coordinator2@example.org"].programmes}
    assert first == {"MMDP", "MMPAF", "RTCM-TOT", "RTCM-RO"}
    assert second == {"GAMBIA"}
    for email, shown, hidden in (
        ("coordinator@example.org", "MMDP", "GAMBIA"),
        ("coordinator2@example.org", "GAMBIA", "MMDP"),
    ):
        client.post("/logout")
        client.post("/login", data={"email": email, "password": demo.PASSWORD})
        page = client.get("/programmes/").text
        assert shown in page and hidden not in page, email
