"""Accounts administration and invitations (issue 9): the accounts list, roles, programmes,
the linked person record, activation, the last administrator, invitations and accepting
them."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash

from tests.conftest import on_postgres
from tests.factories import PASSWORD
from tests.test_passwords import events, link_path, message_text, outbox, signed_in_user_id
from trainingmgr.accounts import services as accounts_services
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserToken
from trainingmgr.accounts.tokens import make_token
from trainingmgr.admin import services
from trainingmgr.cohorts.listing import trainer_choices
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

NEW = "lantern-meadow-copper-7"
NOT_ALLOWED = "Your account does not have access to this page."


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def rows(html: str) -> list[str]:
    """The visible text of each row of the accounts table."""
    match = re.search(r'<table[^>]*data-testid="accounts".*?</table>', html, re.S)
    if not match:
        return []
    found = re.findall(r"<tr data-testid=[^>]*>(.*?)</tr>", match.group(0), re.S)
    # Leave out the summary repeated for phones inside the first cell.
    return [
        text(re.sub(r'<div class="d-md-none.*?</div>\s*</div>', "", r, flags=re.S)) for r in found
    ]


def teach(make: Any, person: Any, programme: Any) -> Any:
    """A session of a new cohort of ``programme``, taught by ``person``."""
    session = make.session(cohort=make.cohort(programme=programme))
    session.trainers.append(person)
    return session


def count(db_session: Any, model: Any) -> int:
    return int(db_session.scalar(sa.select(sa.func.count()).select_from(model)))


# --------------------------------------------------------------------------- who may open what


ADMIN_PAGES = [
    ("GET", "/admin/accounts"),
    ("GET", "/admin/accounts/{id}"),
    ("POST", "/admin/accounts/{id}"),
    ("POST", "/admin/accounts/{id}/person"),
    ("POST", "/admin/accounts/{id}/active"),
    ("POST", "/admin/accounts/{id}/invitation"),
]


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT])
def test_account_pages_are_for_administrators_only(
    client: FlaskClient, login: Any, make: Any, db_session: Any, role: Role
) -> None:
    target = make.user(Role.TRAINER, email="target@example.org")
    login(role)
    for method, url in ADMIN_PAGES:
        response = client.open(
            url.format(id=target.id), method=method, data={"roles": ["admin"], "active": "0"}
        )
        assert response.status_code == 403, (method, url)
        assert NOT_ALLOWED in response.text
    db_session.refresh(target)
    assert target.roles == {Role.TRAINER} and target.active


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_cannot_invite(
    client: FlaskClient, login: Any, db_session: Any, role: Role
) -> None:
    login(role)
    assert client.get("/admin/invite").status_code == 403
    response = client.post("/admin/invite", data={"email": "x@example.org", "roles": ["trainer"]})
    assert response.status_code == 403
    assert outbox(db_session, "invitation") == []


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    for url in ("/admin/accounts", "/admin/invite", "/admin/accounts/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_administrators_see_accounts_in_the_navigation(client: FlaskClient, login: Any) -> None:
    login(Role.ADMIN)
    nav = re.search(r"<nav\b.*?</nav>", client.get("/dashboard").text, re.S)
    assert nav and re.search(
        r'class="nav-link"\s+href="/admin/accounts">Accounts</a>', nav.group(0)
    )
    login(Role.COORDINATOR)
    nav = re.search(r"<nav\b.*?</nav>", client.get("/dashboard").text, re.S)
    assert nav and "/admin/accounts" not in nav.group(0)


# --------------------------------------------------------------------------- the list


def test_the_list_shows_each_account_with_roles_programmes_status_and_last_sign_in(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = login(Role.ADMIN, email="admin@example.org", timezone="Asia/Baku")
    mmdp = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    rtcm = make.programme(code="RTCM", title="Regional Training Centre on Migration")
    coordinator = make.user(
        Role.COORDINATOR,
        email="coordinator@example.org",
        display_name="Nigar Mammadova",
        last_login_at=datetime(2026, 3, 2, 5, 30, tzinfo=UTC),
    )
    coordinator.programmes.extend([rtcm, mmdp])
    trainer = make.user(
        Role.TRAINER,
        email="sukru@example.org",
        person=make.person(first_name="Şükrü", last_name="Yılmaz"),
    )
    for programme in (rtcm, rtcm, mmdp):  # teaches two RTCM sessions and one MMDP session
        teach(make, trainer.person, programme)
    make.user(Role.PARTICIPANT, email="gone@example.org", active=False)
    invited = make.user(Role.TRAINER, email="invited@example.org", password_hash=None)
    make_token(invited, TokenPurpose.INVITATION, timedelta(days=7), actor=admin)
    expired = make.user(Role.COORDINATOR, email="late@example.org", password_hash=None)
    make_token(expired, TokenPurpose.INVITATION, timedelta(days=-1), actor=admin)

    html = client.get("/admin/accounts").text
    listed = rows(html)
    by_email = {re.findall(r"\S+@\S+", row)[0]: row for row in listed}
    assert list(by_email) == [  # ordered by e-mail
        "admin@example.org",
        "coordinator@example.org",
        "gone@example.org",
        "invited@example.org",
        "late@example.org",
        "sukru@example.org",
    ]
    # 05:30 UTC is 09:30 in Baku, the administrator's time zone.
    assert re.fullmatch(
        r"Nigar Mammadova coordinator@example.org Coordinator MMDP RTCM Active Mar 2, 2026, 09:30",
        by_email["coordinator@example.org"],
    ), by_email["coordinator@example.org"]
    assert "Last sign-in times are shown in Azerbaijan Time." in html
    # A trainer's or participant's account shows its person record.
    assert by_email["sukru@example.org"].startswith(
        f"Şükrü Yılmaz sukru@example.org Person record: #{trainer.person.id} · "
        f"{trainer.person.email} Trainer teaches in MMDP RTCM Active"
    )
    assert "Deactivated" in by_email["gone@example.org"]
    assert "Invited" in by_email["invited@example.org"]
    assert "never" in by_email["invited@example.org"]
    assert "Invitation expired" in by_email["late@example.org"]
    assert by_email["admin@example.org"].split()[1:3] == ["Administrator", "Active"]
    assert f'href="/admin/accounts/{trainer.id}"' in html
    assert 'href="/admin/invite"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=ALIYEVA", ["leman@example.org"]),  # the person's name, any case
        ("q=%C6%8Fliyeva", ["leman@example.org"]),  # Əliyeva
        ("q=Mammadova", ["nigar@example.org"]),  # the display name
        ("q=NIGAR%40EXAMPLE", ["nigar@example.org"]),  # the e-mail, any case
        ("q=example.org&role=trainer", ["leman@example.org", "old@example.org"]),
        ("role=coordinator", ["nigar@example.org"]),
        ("status=inactive", ["old@example.org"]),
        ("status=invited", ["new@example.org"]),
        ("status=active&role=trainer", ["leman@example.org"]),
        ("programme={mmdp}", ["leman@example.org", "nigar@example.org"]),  # teaches, coordinates
        ("programme={other}", []),
        ("role=king&status=nonsense&programme=abc", "all"),  # nonsense is ignored
    ],
)
def test_search_and_filters(
    client: FlaskClient, login: Any, make: Any, query: str, expected: Any
) -> None:
    admin = login(Role.ADMIN, email="admin@example.org")
    mmdp, other = make.programme(code="MMDP"), make.programme(code="OTHER")
    nigar = make.user(Role.COORDINATOR, email="nigar@example.org", display_name="Nigar Mammadova")
    nigar.programmes.append(mmdp)
    leman = make.user(
        Role.TRAINER,
        email="leman@example.org",
        person=make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org"),
    )
    teach(make, leman.person, mmdp)
    make.user(Role.TRAINER, email="old@example.org", active=False)
    new = make.user(Role.ADMIN, email="new@example.org", password_hash=None)
    make_token(new, TokenPurpose.INVITATION, timedelta(days=7), actor=admin)

    html = client.get("/admin/accounts?" + query.format(mmdp=mmdp.id, other=other.id)).text
    emails = [re.findall(r"\S+@\S+", r)[0] for r in rows(html)]
    if expected == "all":
        assert len(emails) == 5
    else:
        assert emails == expected
        if not expected:
            assert "No account matches this search." in html


def test_the_list_is_paginated(client: FlaskClient, login: Any, make: Any) -> None:
    login(Role.ADMIN, email="a-admin@example.org")
    for i in range(7):
        make.user(Role.TRAINER, email=f"t{i}@example.org")
    first = client.get("/admin/accounts?per_page=3").text
    assert len(rows(first)) == 3
    assert "Showing 1–3 of 8" in first
    last = client.get("/admin/accounts?per_page=3&page=3").text
    assert [re.findall(r"\S+@\S+", r)[0] for r in rows(last)] == [
        "t5@example.org",
        "t6@example.org",
    ]


def test_the_list_loads_with_a_bounded_number_of_queries(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    admin = login(Role.ADMIN)
    counts = []
    for n in (5, 95):  # 5, then 100 accounts
        for i in range(n):
            programme = make.programme()
            user = make.user(Role.COORDINATOR if i % 2 else Role.TRAINER)
            if i % 2:
                user.programmes.append(programme)
            else:
                teach(make, user.person, programme)
            if i % 3 == 0:
                user.password_hash = None
                make_token(user, TokenPurpose.INVITATION, timedelta(days=7), actor=admin)
        with count_queries() as q:
            response = client.get("/admin/accounts?per_page=200")
        assert response.status_code == 200
        counts.append(q.count)
    assert len(rows(response.text)) == 101
    assert counts[0] == counts[1], counts


# --------------------------------------------------------------------------- roles and programmes


def test_changing_roles_and_programmes_is_saved_and_audited(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = login(Role.ADMIN)
    mmdp, rtcm, other = (make.programme(code=c) for c in ("MMDP", "RTCM", "OTHER"))
    user = make.user(Role.TRAINER, email="graduate@example.org")
    page = client.get(f"/admin/accounts/{user.id}")
    assert page.status_code == 200
    assert re.search(r'<input checked[^>]*value="trainer"', page.text)

    response = client.post(
        f"/admin/accounts/{user.id}",
        data={"roles": ["trainer", "coordinator"], "programmes": [str(mmdp.id), str(rtcm.id)]},
        follow_redirects=True,
    )
    assert "The account graduate@example.org was saved." in response.text
    db_session.refresh(user)
    assert user.roles == {Role.TRAINER, Role.COORDINATOR}
    assert {p.code for p in user.programmes} == {"MMDP", "RTCM"}
    [roles_event] = events(db_session, "user.roles")
    assert roles_event.actor_id == admin.id and roles_event.object_id == user.id
    assert roles_event.changes == {"roles": [["trainer"], ["coordinator", "trainer"]]}
    assigned = events(db_session, "user.programme_assigned")
    assert sorted(e.programme_id for e in assigned) == sorted([mmdp.id, rtcm.id])

    # Swap one programme; then drop the coordinator role (its programmes go with it).
    client.post(
        f"/admin/accounts/{user.id}",
        data={"roles": ["trainer", "coordinator"], "programmes": [str(mmdp.id), str(other.id)]},
    )
    db_session.refresh(user)
    assert {p.code for p in user.programmes} == {"MMDP", "OTHER"}
    assert [e.programme_id for e in events(db_session, "user.programme_unassigned")] == [rtcm.id]
    client.post(
        f"/admin/accounts/{user.id}", data={"roles": ["trainer"], "programmes": [str(mmdp.id)]}
    )
    db_session.refresh(user)
    assert user.roles == {Role.TRAINER}
    assert user.programmes == []

    unchanged = client.post(
        f"/admin/accounts/{user.id}", data={"roles": ["trainer"]}, follow_redirects=True
    )
    assert "Nothing was changed." in unchanged.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"roles": []}, "Give the account at least one role."),
        ({"roles": ["coordinator"], "programmes": ["987654"]}, "does not exist"),
        ({"roles": ["emperor"]}, "“emperor” is not a role."),
    ],
)
def test_bad_role_changes_are_refused(
    client: FlaskClient, login: Any, make: Any, db_session: Any, data: Any, message: str
) -> None:
    login(Role.ADMIN)
    user = make.user(Role.TRAINER)
    response = client.post(f"/admin/accounts/{user.id}", data=data)
    assert response.status_code == 200
    assert message in response.text
    db_session.refresh(user)
    assert user.roles == {Role.TRAINER}
    assert events(db_session, "user.roles") == []


def test_the_last_administrator_cannot_be_demoted_or_deactivated(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = login(Role.ADMIN, email="only.admin@example.org")
    make.user(Role.ADMIN, email="former.admin@example.org", active=False)  # does not count
    response = client.post(f"/admin/accounts/{admin.id}", data={"roles": ["coordinator"]})
    assert response.status_code == 200
    assert "is the last active administrator" in response.text
    response = client.post(
        f"/admin/accounts/{admin.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "is the last active administrator" in response.text
    db_session.refresh(admin)
    assert admin.roles == {Role.ADMIN} and admin.active
    assert events(db_session, "user.roles") == []
    assert events(db_session, "user.deactivated") == []
    assert client.get("/admin/accounts").status_code == 200  # still signed in

    # With a second administrator, the first may step down (and goes to their home page).
    make.user(Role.ADMIN, email="second.admin@example.org")
    stepped_down = client.post(
        f"/admin/accounts/{admin.id}", data={"roles": ["coordinator"]}, follow_redirects=True
    )
    assert stepped_down.request.path == "/dashboard"
    assert "The account only.admin@example.org was saved." in stepped_down.text
    db_session.refresh(admin)
    assert admin.roles == {Role.COORDINATOR}
    assert client.get("/admin/accounts").status_code == 403


def _demote_in_thread(app: Flask, actor_id: int, target_id: int, barrier: Any, out: list) -> None:
    with app.app_context():
        try:
            actor = db.session.get(User, actor_id)
            target = db.session.get(User, target_id)
            assert actor is not None and target is not None
            _ = target.roles, actor.roles
            if barrier is not None:
                barrier.wait(timeout=10)
            services.update_account(target, [Role.COORDINATOR], [], actor=actor)
            db.session.commit()
            out.append("demoted")
        except DomainError as exc:
            db.session.rollback()
            out.append(exc.message)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            db.session.rollback()
            out.append(exc)
        finally:
            db.session.remove()


def test_two_administrators_demoting_each_other_at_once_leave_one(
    app: Flask, committed_db: Any, make: Any
) -> None:
    """On PostgreSQL both demotions start together (the rows are locked FOR UPDATE); on SQLite,
    which serialises writers, one runs after the other."""
    a = make.user(Role.ADMIN, email="a@example.org")
    b = make.user(Role.ADMIN, email="b@example.org")
    ids = (a.id, b.id)
    committed_db.commit()
    committed_db.close()
    out: list[Any] = []
    jobs = [(ids[0], ids[1]), (ids[1], ids[0])]
    if on_postgres():
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_demote_in_thread, args=(app, x, y, barrier, out))
            for x, y in jobs
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for x, y in jobs:
            _demote_in_thread(app, x, y, None, out)
    assert len(out) == 2 and out.count("demoted") == 1, out
    [refused] = [o for o in out if o != "demoted"]
    assert "is the last active administrator" in str(refused)
    admins = committed_db.scalars(
        sa.select(User).where(User.role_rows.any(role=Role.ADMIN), User.active.is_(True))
    ).all()
    assert len(admins) == 1


# --------------------------------------------------------------------------- activation


def test_deactivating_ends_sessions_and_blocks_password_and_links(
    app: Flask, client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = login(Role.ADMIN)
    user = make.user(Role.COORDINATOR, email="leaving@example.org")
    their_browser = app.test_client()
    their_browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert their_browser.get("/dashboard").status_code == 200
    link = make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=1))
    version = user.auth_version

    response = client.post(
        f"/admin/accounts/{user.id}/active", data={"active": "0"}, follow_redirects=True
    )
    assert "leaving@example.org is deactivated and signed out everywhere." in response.text
    assert "Deactivated" in response.text
    db_session.refresh(user)
    assert not user.active and user.auth_version == version + 1
    [event] = events(db_session, "user.deactivated")
    assert event.actor_id == admin.id and event.changes == {"active": [True, False]}

    assert their_browser.get("/dashboard").status_code == 302
    again = their_browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "The e-mail or password is not correct." in again.text
    assert their_browser.get(f"/password/reset/{link}").status_code == 410

    client.post(f"/admin/accounts/{user.id}/active", data={"active": "1"})
    db_session.refresh(user)
    assert user.active
    assert [e.changes for e in events(db_session, "user.reactivated")] == [
        {"active": [False, True]}
    ]
    ok = their_browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 302
    assert client.post(f"/admin/accounts/{user.id}/active", data={"active": "x"}).status_code == 400


def test_accounts_are_never_deleted(app: Flask) -> None:
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.")]
    assert rules
    assert not [r for r in rules if "DELETE" in (r.methods or ()) or "delete" in r.rule]


# --------------------------------------------------------------------------- the person record


def test_linking_an_account_to_a_person_record(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    graduate = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    taken = make.person(first_name="Leman", last_name="Aliyeva-Other", email="other@example.org")
    make.user(Role.PARTICIPANT, email="other@example.org", person=taken)
    user = make.user(Role.COORDINATOR, email="leman.work@example.org")

    page = client.get(f"/admin/accounts/{user.id}?person_q=aliyeva").text
    candidates = text(re.search(r'data-testid="person-candidates".*?</ul>', page, re.S).group(0))
    assert "Ləman Əliyeva" in candidates and "Leman Aliyeva-Other" in candidates
    assert "Account: other@example.org" in candidates
    assert page.count('aria-label="Link ') == 1  # only the free record can be linked

    response = client.post(
        f"/admin/accounts/{user.id}/person", data={"person_id": graduate.id}, follow_redirects=True
    )
    assert "leman.work@example.org is now linked to Ləman Əliyeva." in response.text
    db_session.refresh(user)
    assert user.person_id == graduate.id
    assert user.name == "Ləman Əliyeva"
    [event] = events(db_session, "user.person")
    assert event.changes == {"person_id": [None, graduate.id]}

    # One person, one account.
    refused = client.post(f"/admin/accounts/{user.id}/person", data={"person_id": taken.id})
    assert refused.status_code == 200
    assert "is already linked to the account other@example.org" in refused.text
    missing = client.post(f"/admin/accounts/{user.id}/person", data={"person_id": 987654})
    assert "There is no person record #987654." in missing.text
    db_session.refresh(user)
    assert user.person_id == graduate.id

    client.post(f"/admin/accounts/{user.id}/person", data={"action": "unlink"})
    db_session.refresh(user)
    assert user.person_id is None
    assert len(events(db_session, "user.person")) == 2


def test_a_graduate_who_becomes_a_trainer_keeps_one_identity(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    graduate = make.user(Role.PARTICIPANT, email="tot.graduate@example.org")
    person_id = graduate.person_id
    client.post(f"/admin/accounts/{graduate.id}", data={"roles": ["participant", "trainer"]})
    db_session.refresh(graduate)
    assert graduate.roles == {Role.PARTICIPANT, Role.TRAINER}
    assert graduate.person_id == person_id
    # Inviting the same address again is refused with a pointer to the account page.
    response = client.post(
        "/admin/invite", data={"email": "TOT.graduate@example.org", "roles": ["trainer"]}
    )
    assert "tot.graduate@example.org already has an account." in response.text
    assert count(db_session, User) == 2


# --------------------------------------------------------------------------- invitations


def invite(
    client: FlaskClient, address: str, roles: list[str], programmes: list[int] = (), **kw: Any
):
    return client.post(
        "/admin/invite",
        data={"email": address, "roles": roles, "programmes": [str(p) for p in programmes], **kw},
        follow_redirects=True,
    )


def test_admin_invites_a_coordinator_who_accepts(
    app: Flask, client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    admin = login(Role.ADMIN, display_name="Aysel Admin")
    mmdp = make.programme(code="MMDP", title="Migration Management Diploma Programme")
    make.programme(code="OTHER")
    page = client.get("/admin/invite").text
    for label in ("Administrator", "Coordinator", "Trainer"):
        assert f">{label}</label>" in page
    assert ">Participant</label>" in page  # participants can be invited too

    response = invite(
        client,
        "New.Coordinator@Example.org",
        ["coordinator"],
        [mmdp.id],
        first_name="Nigar",
        last_name="M.",
    )
    assert "The invitation was e-mailed to new.coordinator@example.org." in response.text
    user = db_session.scalar(sa.select(User).where(User.email == "new.coordinator@example.org"))
    assert response.request.path == f"/admin/accounts/{user.id}"
    assert user.password_hash is None and user.active
    assert user.roles == {Role.COORDINATOR}
    assert [p.code for p in user.programmes] == ["MMDP"]
    assert user.display_name == "Nigar M."
    assert user.person_id is None  # a coordinator teaches nothing: no directory record
    [token] = db_session.scalars(sa.select(UserToken).where(UserToken.user_id == user.id)).all()
    assert token.purpose == TokenPurpose.INVITATION and token.created_by_id == admin.id
    assert timedelta(days=6, hours=23) < token.expires_at - datetime.now(UTC) <= timedelta(days=7)
    [mail] = outbox(db_session, "invitation")
    assert mail.recipient == user.email and mail.user_id == user.id
    assert mail.programme_id == mmdp.id
    assert mail.subject == "Aysel Admin invited you to Training Centre"
    body = message_text(mail)
    assert "as: Coordinator" in body and "MMDP · Migration Management Diploma Programme" in body
    assert "within 7 days" in body
    [invited] = events(db_session, "user.invited")
    assert invited.actor_id == admin.id and invited.programme_id == mmdp.id
    listed = client.get("/admin/accounts?status=invited").text
    assert "Nigar M." in listed and "Invited" in listed

    # The invitation page, then the password.
    client.post("/logout")
    path = link_path(mail, "/invitation")
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    shown = text(page.text)
    assert "Aysel Admin invited you to use trainingmgr" in shown
    assert "new.coordinator@example.org" in shown and "MMDP · Migration" in shown
    refused = client.post(path, data={"password": "password123", "confirm": "password123"})
    assert "most common" in refused.text
    response = client.post(path, data={"password": NEW, "confirm": NEW}, follow_redirects=True)
    assert response.request.path == "/dashboard"
    assert "Your password is set. Welcome, Nigar M." in response.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, NEW)
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")
    assert user.last_login_at is not None
    assert [e.actor_id for e in events(db_session, "user.invitation_accepted")] == [user.id]

    # The link is used up; nothing changes when it is followed again.
    client.post("/logout")
    again = client.post(
        path, data={"password": "other-password-99", "confirm": "other-password-99"}
    )
    assert again.status_code == 410
    assert "Nothing was changed." in again.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, NEW)
    assert signed_in_user_id(client) is None


def test_an_expired_invitation_changes_nothing(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER, password_hash=None)
    token = make_token(user, TokenPurpose.INVITATION, timedelta(seconds=-5))
    page = client.get(f"/invitation/{token}")
    assert page.status_code == 410
    assert "This link has expired. Ask for a new one." in page.text
    post = client.post(f"/invitation/{token}", data={"password": NEW, "confirm": NEW})
    assert post.status_code == 410
    db_session.refresh(user)
    assert user.password_hash is None
    assert signed_in_user_id(client) is None
    assert client.get("/invitation/not-a-token").status_code == 410


def test_resending_an_invitation_keeps_old_links_single_use(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    invite(client, "slow.reader@example.org", ["trainer"], first_name="Slow", last_name="Reader")
    user = db_session.scalar(sa.select(User).where(User.email == "slow.reader@example.org"))
    response = client.post(f"/admin/accounts/{user.id}/invitation", follow_redirects=True)
    assert "A new invitation was e-mailed to slow.reader@example.org." in response.text
    first, second = (link_path(m, "/invitation") for m in outbox(db_session, "invitation"))
    assert first != second
    assert len(events(db_session, "user.invitation_resent")) == 1

    client.post("/logout")
    assert client.get(first).status_code == 200  # the old link still works, once
    client.post(first, data={"password": NEW, "confirm": NEW})
    assert client.get(second).status_code == 410  # accepted: the other link is dead
    client.post("/logout")
    login(Role.ADMIN)
    refused = client.post(f"/admin/accounts/{user.id}/invitation", follow_redirects=True)
    assert "has already set a password" in refused.text
    assert len(outbox(db_session, "invitation")) == 2


def _accept_in_thread(app: Flask, token: str, password: str, barrier: Any, out: list) -> None:
    with app.app_context():
        try:
            if barrier is not None:
                barrier.wait(timeout=10)
            accounts_services.accept_invitation(token, password)
            db.session.commit()
            out.append(password)
        except DomainError as exc:
            db.session.rollback()
            out.append(exc.message)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            db.session.rollback()
            out.append(exc)
        finally:
            db.session.remove()


def test_two_invitation_links_used_at_once_set_one_password(
    app: Flask, committed_db: Any, make: Any
) -> None:
    user = make.user(Role.TRAINER, email="twice@example.org", password_hash=None)
    first = make_token(user, TokenPurpose.INVITATION, timedelta(days=7))
    second = make_token(user, TokenPurpose.INVITATION, timedelta(days=7))
    user_id = user.id
    committed_db.commit()
    committed_db.close()
    out: list[Any] = []
    jobs = [(first, "first-password-ok"), (second, "second-password-ok")]
    if on_postgres():
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=_accept_in_thread, args=(app, t, pw, barrier, out))
            for t, pw in jobs
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for t, pw in jobs:
            _accept_in_thread(app, t, pw, None, out)
    assert len(out) == 2, out
    [winner] = [o for o in out if o in ("first-password-ok", "second-password-ok")]
    [refused] = [o for o in out if o != winner]
    assert isinstance(refused, str) and "This link is no longer valid." in refused, refused
    stored = committed_db.get(User, user_id)
    assert check_password_hash(stored.password_hash, winner)


def test_a_deactivated_invitee_cannot_accept(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    invite(client, "changed.mind@example.org", ["coordinator"])
    user = db_session.scalar(sa.select(User).where(User.email == "changed.mind@example.org"))
    client.post(f"/admin/accounts/{user.id}/active", data={"active": "0"})
    client.post("/logout")
    path = link_path(outbox(db_session, "invitation")[0], "/invitation")
    response = client.post(path, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 410
    db_session.refresh(user)
    assert user.password_hash is None


def test_an_invitation_links_the_existing_person_record(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    person = make.person(first_name="Şükrü", last_name="Yılmaz", email="sukru@example.org")
    invite(client, "Sukru@example.org", ["trainer"])
    user = db_session.scalar(sa.select(User).where(User.email == "sukru@example.org"))
    assert user.person_id == person.id
    assert "Hello Şükrü Yılmaz," in message_text(outbox(db_session, "invitation")[0])


def test_coordinator_invites_a_trainer_for_a_programme_they_coordinate(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    mine = make.programme(code="MINE")
    make.programme(code="THEIRS")
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(mine)
    page = client.get(f"/admin/invite?programme={mine.id}").text
    assert "Invite a trainer" in page
    assert "MINE" in page and "THEIRS" not in page
    assert re.search(r'<input checked[^>]*value="trainer"', page)
    assert re.search(rf'<input checked[^>]*value="{mine.id}"', page)

    response = invite(
        client,
        "trainer@example.org",
        ["trainer"],
        [mine.id],
        first_name="Rəna",
        last_name="Əliyeva",
    )
    assert "The invitation was e-mailed to trainer@example.org." in response.text
    assert response.request.path == "/admin/invite"
    user = db_session.scalar(sa.select(User).where(User.email == "trainer@example.org"))
    assert user.roles == {Role.TRAINER}
    assert user.programmes == []  # programmes are assigned to coordinators only
    # The new trainer is in the directory at once, so sessions can be given to them.
    person = db_session.get(Person, user.person_id)
    assert (person.first_name, person.last_name, person.email) == (
        "Rəna",
        "Əliyeva",
        "trainer@example.org",
    )
    trainers = trainer_choices(None)["Trainers"]
    assert [label for pid, label, _search in trainers if pid == person.id] == [
        "Rəna Əliyeva (trainer@example.org)"
    ]
    assert len(events(db_session, "person.create")) == 1
    [mail] = outbox(db_session, "invitation")
    assert mail.programme_id == mine.id
    [event] = events(db_session, "user.invited")
    assert event.programme_id == mine.id and event.actor_id == coordinator.id


def test_a_trainer_not_in_the_directory_is_invited_with_a_name(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    mine = make.programme(code="MINE")
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(mine)
    response = invite(client, "nameless@example.org", ["trainer"], [mine.id], first_name="  ")
    assert "Enter their first or last name: a trainer or participant also gets a record" in (
        response.text
    )
    assert db_session.scalar(sa.select(User).where(User.email == "nameless@example.org")) is None
    assert (
        db_session.scalar(sa.select(Person).where(Person.email == "nameless@example.org")) is None
    )
    assert outbox(db_session, "invitation") == []
    # An address that is not one is refused first: no record is asked for without one.
    response = invite(client, "not-an-address", ["trainer"], [mine.id])
    assert "Enter their first or last name" not in response.text
    assert "Enter a valid e-mail address." in response.text
    response = invite(client, "long@example.org", ["trainer"], [mine.id], first_name="A" * 121)
    assert "Field cannot be longer than 120 characters." in response.text
    assert db_session.scalar(sa.select(User).where(User.email == "long@example.org")) is None


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_the_programme_page_leads_to_inviting_a_trainer_for_it(
    client: FlaskClient, login: Any, make: Any, role: Role
) -> None:
    programme = make.programme(code="MMDP")
    user = login(role)
    user.programmes.append(programme)
    page = client.get(f"/programmes/{programme.id}").text
    link = f"/admin/invite?programme={programme.id}&amp;role=trainer"
    assert f'href="{link}">Invite a trainer</a>' in page
    form = client.get(link.replace("&amp;", "&")).text
    assert re.search(r'<input checked[^>]*value="trainer"', form)
    assert re.search(rf'<input checked[^>]*value="{programme.id}"', form)
    assert not re.search(r'<input checked[^>]*value="coordinator"', form)


@pytest.mark.parametrize(
    ("roles", "programme", "message"),
    [
        (["trainer"], "theirs", "You can invite trainers only for the programmes you coordinate."),
        (["trainer"], None, "Choose the programme the trainer is invited for."),
        (["coordinator"], "mine", "You may not give the role “Coordinator”."),
        (["admin", "trainer"], "mine", "You may not give the role “Administrator”."),
        ([], "mine", "Choose the role of the new account."),
    ],
)
def test_coordinator_invitations_outside_their_rights_are_refused(
    client: FlaskClient,
    login: Any,
    make: Any,
    db_session: Any,
    roles: list[str],
    programme: str | None,
    message: str,
) -> None:
    ids = {"mine": make.programme(code="MINE").id, "theirs": make.programme(code="THEIRS").id}
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(db_session.get(services.Programme, ids["mine"]))
    users_before = count(db_session, User)
    response = invite(client, "someone@example.org", roles, [ids[programme]] if programme else [])
    assert response.status_code == 200
    assert message in response.text
    assert count(db_session, User) == users_before
    assert outbox(db_session, "invitation") == []
    assert count(db_session, UserToken) == 0
    assert events(db_session, "user.invited") == []


def test_inviting_an_address_that_has_an_account_is_refused(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme()
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(programme)
    make.user(Role.PARTICIPANT, email="already@example.org")
    response = invite(client, "Already@Example.org", ["trainer"], [programme.id])
    assert "already@example.org already has an account." in response.text
    assert outbox(db_session, "invitation") == []
    bad = invite(client, "not-an-address", ["trainer"], [programme.id])
    assert "Enter a valid e-mail address." in bad.text
    assert count(db_session, User) == 2


def test_coordinator_without_programmes_is_told_why_they_cannot_invite(
    client: FlaskClient, login: Any
) -> None:
    login(Role.COORDINATOR)
    page = client.get("/admin/invite").text
    assert "You do not coordinate any programme yet" in page
    assert 'data-testid="invite-form"' not in page


def test_account_page_shows_activity_and_404_for_unknown_accounts(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.ADMIN)
    invite(client, "fresh@example.org", ["coordinator"])
    user = User.query.filter_by(email="fresh@example.org").one()
    page = client.get(f"/admin/accounts/{user.id}").text
    assert "Invited · by" in text(page) and "Programme assigned" not in page
    assert "Send a new invitation" in page
    assert "Invited" in page
    assert client.get("/admin/accounts/987654").status_code == 404
    assert client.post("/admin/accounts/987654/active", data={"active": "0"}).status_code == 404
