"""Everyone enrolled or teaching can get in: sign-in links for any enrolled address, the
account created at the first use, roles that follow from enrolments and sessions."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import on_postgres
from tests.test_sign_in_link import events, parse, signed_in_id
from trainingmgr.accounts.models import Role, User, UserToken
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.portal import services, views

LINK = re.compile(r"https://training\.example\.org(/login/link/[A-Za-z0-9_\-]+(?:\?next=\S+)?)")
SENT = "Check your inbox"


@pytest.fixture(autouse=True)
def no_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "MIN_RESPONSE_SECONDS", 0.0)


def mails(db_session: Any, kind: str = "sign_in_link") -> list[OutboxMessage]:
    return list(
        db_session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def link_path(row: OutboxMessage) -> str:
    text = parse(row).get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def ask(client: FlaskClient, address: str, next_path: str | None = None) -> Any:
    query = f"?next={next_path}" if next_path else ""
    return client.post(f"/login/link{query}", data={"email": address})


def account_of(db_session: Any, person: Any) -> User | None:
    return db_session.scalar(sa.select(User).where(User.person_id == person.id))


def test_an_enrolled_person_without_account_gets_a_link_and_an_account_at_first_use(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    cohort = make.cohort(language="ru")
    kofi = make.person(first_name="Kofi", last_name="Asante", email="kofi.asante@example.org")
    make.enrolment(cohort, kofi)
    make.session(cohort, title="Border data")

    response = ask(client, "Kofi.Asante@example.org ")
    assert SENT in response.text
    [mail] = mails(db_session)
    assert "kofi.asante@example.org" in mail.recipient and mail.user_id is None
    assert (
        parse(mail)["Subject"] and "Здравствуйте" in parse(mail).get_body(("plain",)).get_content()
    )
    assert account_of(db_session, kofi) is None  # nothing is created before the link is used

    path = link_path(mail)
    page = client.get(path)
    assert "kofi.asante@example.org" in page.text
    assert "This is your first sign-in" in page.text
    response = client.post(path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = account_of(db_session, kofi)
    assert user is not None and user.email == "kofi.asante@example.org" and user.active
    assert user.roles == {Role.PARTICIPANT} and user.stored_roles == set()
    assert (signed_in_id(client) or "").startswith(user.get_id() + ":")
    home = client.get("/me")
    assert home.status_code == 200 and "Border data" in home.text
    [created] = events(db_session, "user.created_by_link")
    assert created.object_id == user.id and created.changes["roles"] == ["participant"]
    # The link is used up: a second use is refused and creates nothing.
    client.post("/logout")
    again = client.post(path)
    assert "already been used" in again.text
    assert (
        db_session.scalar(sa.select(sa.func.count(User.id)).where(User.person_id == kofi.id)) == 1
    )


def test_unknown_and_not_enrolled_addresses_get_the_same_page_and_no_mail(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    make.person(email="directory.only@example.org")  # in the directory, enrolled nowhere
    applicant = make.person(email="applicant@example.org")
    make.enrolment(person=applicant, status=EnrolmentStatus.APPLIED)
    enrolled = make.person(email="enrolled@example.org")
    make.enrolment(person=enrolled)

    pages = [
        ask(client, address).text.replace(address, "ADDRESS")
        for address in (
            "nobody@example.org",
            "directory.only@example.org",
            "applicant@example.org",
            "enrolled@example.org",
        )
    ]
    assert pages[0] == pages[1] == pages[2] == pages[3]
    assert SENT in pages[0]
    assert [m.recipient for m in mails(db_session)] == ["enrolled@example.org"]


def test_a_trainer_assigned_to_a_session_gets_in_and_sees_their_sessions(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    trainer = make.person(first_name="Amina", last_name="Diallo", email="amina@example.org")
    session = make.session(title="Interviewing techniques")
    session.trainers.append(trainer)
    db_session.flush()
    ask(client, "amina@example.org")
    client.post(link_path(mails(db_session)[0]))
    user = account_of(db_session, trainer)
    assert user is not None and user.roles == {Role.TRAINER}
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/trainer"


def test_the_target_survives_the_link_sign_in_but_never_leaves_the_site(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    person = make.person(email="target@example.org")
    make.enrolment(person=person)
    login_page = client.get("/me", follow_redirects=True)
    assert "/login/link?next=%2Fme" in login_page.text or "/login/link?next=/me" in login_page.text
    assert 'name="next" value="/me"' in client.get("/login/link?next=/me").text
    ask(client, "target@example.org", "/me")
    path = link_path(mails(db_session)[0])
    assert path.endswith("?next=/me")
    response = client.post(path)
    assert response.headers["Location"] == "/me"

    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        ask(client, "target@example.org", evil)
        path = link_path(mails(db_session)[-1])
        assert "next=" not in path
        assert client.post(path + "?next=" + evil).headers["Location"] == "/"
        client.post("/logout")


def test_a_deactivated_account_cannot_get_back_in_through_a_link(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    person = make.person(email="gone@example.org")
    make.enrolment(person=person)
    ask(client, "gone@example.org")
    first, second = link_path(mails(db_session)[0]), None
    ask(client, "gone@example.org")
    second = link_path(mails(db_session)[1])
    client.post(first)
    user = account_of(db_session, person)
    assert user is not None
    client.post("/logout")
    user.active = False
    user.auth_version += 1
    db_session.flush()

    # The link sent before the account existed, and a new request: neither lets them in.
    refused = client.post(second)
    assert "already been used" in refused.text or "no longer valid" in refused.text
    assert signed_in_id(client) is None
    count = len(mails(db_session))
    assert SENT in ask(client, "gone@example.org").text
    assert len(mails(db_session)) == count
    db_session.refresh(user)
    assert not user.active


def test_a_person_link_to_a_deactivated_account_is_refused(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    person = make.person(email="late@example.org")
    make.enrolment(person=person)
    ask(client, "late@example.org")
    path = link_path(mails(db_session)[0])
    # Meanwhile an administrator created and deactivated an account for the person.
    make.user(Role.PARTICIPANT, email="late.other@example.org", person=person, active=False)
    response = client.post(path)
    assert "This sign-in link cannot be used" in response.text
    assert signed_in_id(client) is None


def test_roles_follow_enrolments_and_a_withdrawn_participant_keeps_certificates_only(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    person = make.person(first_name="Lena", email="lena@example.org")
    user = make.user(Role.COORDINATOR, email="lena@example.org", person=person)
    finished = make.cohort(name="Finished cohort")
    current = make.cohort(name="Current cohort")
    done = make.enrolment(finished, person, status=EnrolmentStatus.COMPLETED)
    enrolment = make.enrolment(current, person)
    make.session(current, title="Next week's session")
    certificate = make.certificate(done)
    assert user.roles == {Role.COORDINATOR, Role.PARTICIPANT}
    login(user=user)
    assert "Current cohort" in client.get("/me").text

    enrolment.status = EnrolmentStatus.WITHDRAWN
    db_session.flush()
    page = client.get("/me")
    assert page.status_code == 200
    assert "Current cohort" not in page.text and "Next week's session" not in page.text
    assert certificate.serial in page.text
    assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 200


def _use_in_thread(
    app: Flask, path: str, barrier: threading.Barrier | None, out: list[Any]
) -> None:
    with app.app_context():
        client = app.test_client()
        if barrier is not None:
            barrier.wait(timeout=10)
        response = client.post(path)
        out.append(response.status_code)
        db.session.remove()


def test_two_links_used_at_once_for_the_same_new_person_create_one_account(
    app: Flask, committed_db: Any, make: Any
) -> None:
    person = make.person(email="twice@example.org")
    make.enrolment(person=person)
    committed_db.commit()
    with app.test_request_context():
        for _ in range(2):
            services.request_sign_in_link("twice@example.org")
        committed_db.commit()
        paths = [link_path(r) for r in mails(committed_db)]
    person_id = person.id
    committed_db.commit()  # no transaction of the test's stays open while the threads write
    assert len(paths) == 2
    out: list[Any] = []
    if on_postgres():
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_use_in_thread, args=(app, p, barrier, out)) for p in paths
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for p in paths:
            _use_in_thread(app, p, None, out)
    assert sorted(out) == [200, 302], out  # one signed in, the other told the link is used
    accounts = committed_db.scalars(sa.select(User).where(User.person_id == person_id)).all()
    assert len(accounts) == 1
    open_links = committed_db.scalar(
        sa.select(sa.func.count(UserToken.id)).where(UserToken.used_at.is_(None))
    )
    assert open_links == 0


def test_the_enrolment_confirmation_signs_in_and_opens_the_training_page(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    from trainingmgr.enrolments import services as enrolments

    cohort = make.cohort(name="Baku spring")
    make.session(cohort, title="Opening session")
    person = make.person(first_name="Kofi", email="kofi@example.org")
    enrolments.enrol(cohort.id, person.id, actor=None)
    [mail] = mails(db_session, "enrolment_confirmation")
    path = link_path(mail)
    assert path.endswith("?next=/me")
    html = parse(mail).get_body(preferencelist=("html",)).get_content()
    assert path.replace("?next=", "?next=") in html.replace("&amp;", "&")
    response = client.post(path, follow_redirects=True)
    assert response.request.path == "/me"
    assert "Baku spring" in response.text and "Opening session" in response.text


# --------------------------------------------------------------------------- access links


def test_a_coordinator_sends_access_links_to_those_who_never_signed_in(
    client: FlaskClient, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    coordinator = login(Role.COORDINATOR)
    cohort = make.cohort(name="Tbilisi autumn", language="ru")
    fresh = make.person(first_name="Kofi", last_name="Asante", email="kofi@example.org")
    active_person = make.person(first_name="Ayla", last_name="Active", email="ayla@example.org")
    no_address = make.person(first_name="Nodir", last_name="Noemail", email=None)
    withdrawn = make.person(first_name="Will", last_name="Withdrawn", email="will@example.org")
    for p in (fresh, active_person, no_address):
        make.enrolment(cohort, p)
    make.enrolment(cohort, withdrawn, status=EnrolmentStatus.WITHDRAWN)
    user = make.user(Role.PARTICIPANT, email="ayla@example.org", person=active_person)
    user.last_login_at = user.created_at
    db_session.flush()

    roster = client.get(f"/cohorts/{cohort.id}")
    assert "Never signed in" in roster.text and "No e-mail address" in roster.text
    assert f"/people/{no_address.id}/edit" in roster.text  # a way to add the address
    with count_queries() as q:
        page = client.get(f"/cohorts/{cohort.id}/access")
    assert page.status_code == 200 and q.count <= 12
    assert "Send an access link to the 1 person who has not signed in" in page.text
    assert "Здравствуйте" in page.text or "Уважаем" in page.text  # preview in Russian
    assert "Will Withdrawn" not in page.text

    response = client.post(
        f"/cohorts/{cohort.id}/access", data={"to": "waiting"}, follow_redirects=True
    )
    assert "An access link was e-mailed to 1 person." in response.text
    [mail] = mails(db_session, "access_link")
    assert "kofi@example.org" in mail.recipient and mail.cohort_id == cohort.id
    assert "Link sent on" in response.text
    [event] = events(db_session, "cohort.access_links")
    assert event.actor_id == coordinator.id and event.changes["people"] == [fresh.id]

    # The link signs Kofi in and opens his training page; the roster then says "Active".
    client.post("/logout")
    landed = client.post(link_path(mail), follow_redirects=True)
    assert landed.request.path == "/me" and "Tbilisi autumn" in landed.text
    login(user=coordinator)
    assert client.get(f"/cohorts/{cohort.id}/access").text.count('data-state="active"') == 2


def test_access_links_to_selected_people_and_refusals_write_nothing(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort()
    one, two = make.person(email="one@example.org"), make.person(email="two@example.org")
    no_address = make.person(email=None)
    outsider = make.person(email="outsider@example.org")
    for p in (one, two, no_address):
        make.enrolment(cohort, p)
    url = f"/cohorts/{cohort.id}/access"

    for data, message in (
        ({"to": "selected"}, "Choose the people to send an access link to."),
        ({"to": "selected", "person": [str(outsider.id)]}, "not on this cohort"),
        ({"to": "selected", "person": [str(no_address.id)]}, "No link can be sent to"),
        ({"to": "selected", "person": ["x"]}, "Choose the people"),
    ):
        response = client.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200 and message in response.text
    assert mails(db_session, "access_link") == []
    assert events(db_session, "cohort.access_links") == []

    client.post(url, data={"to": "selected", "person": [str(two.id)]})
    assert ["two@example.org" in m.recipient for m in mails(db_session, "access_link")] == [True]


def test_access_pages_are_for_the_cohorts_coordinators_only(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    cohort = make.cohort()
    make.enrolment(cohort, make.person(email="p@example.org"))
    login(Role.COORDINATOR, programmes=[make.programme()])  # another programme's
    assert client.get(f"/cohorts/{cohort.id}/access").status_code == 404
    assert client.post(f"/cohorts/{cohort.id}/access", data={"to": "waiting"}).status_code == 404
    login(Role.PARTICIPANT)
    assert client.get(f"/cohorts/{cohort.id}/access").status_code == 403
    assert mails(db_session, "access_link") == []


def test_an_administrator_invites_a_participant_and_sees_the_linked_person(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    person = make.person(first_name="Şükrü", last_name="Yılmaz", email="sukru@example.org")
    make.enrolment(person=person)
    response = client.post(
        "/admin/invite",
        data={"email": "sukru@example.org", "roles": ["participant"]},
        follow_redirects=True,
    )
    assert "The invitation was e-mailed to sukru@example.org." in response.text
    listing = client.get("/admin/accounts?role=participant").text
    assert "Şükrü Yılmaz" in listing and f"/people/{person.id}" in listing
