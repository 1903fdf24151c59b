"""Signing in with a link e-mailed to the account's address (one-time, time-limited)."""

from __future__ import annotations

import email
import re
import time
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.portal import views

LINK = re.compile(r"https://training\.example\.org/login/link/[A-Za-z0-9_\-]+")
SENT = "Check your inbox"
LIMITED = "Too many sign-in links"


@pytest.fixture(autouse=True)
def no_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers are padded to a minimum time; tests that do not measure it skip the wait."""
    monkeypatch.setattr(views, "MIN_RESPONSE_SECONDS", 0.0)


def outbox(db_session: Any) -> list[OutboxMessage]:
    return list(
        db_session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == "sign_in_link")
            .order_by(OutboxMessage.id)
        )
    )


def parse(row: OutboxMessage) -> EmailMessage:
    return email.message_from_bytes(row.message, policy=default_policy)  # type: ignore[return-value]


def link_in(row: OutboxMessage) -> str:
    """The sign-in link of a queued message (its plain-text part)."""
    text = parse(row).get_body(preferencelist=("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return match.group(0)


def path_of(url: str) -> str:
    return url.removeprefix("https://training.example.org")


def ask(client: FlaskClient, address: str, ip: str = "127.0.0.1") -> Any:
    return client.post("/login/link", data={"email": address}, environ_base={"REMOTE_ADDR": ip})


def signed_in_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def sign_out(client: FlaskClient) -> None:
    with client.session_transaction() as sess:
        sess.clear()


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def link_for(user: User, minutes: int = 30) -> str:
    return "/login/link/" + tokens.make_token(
        user, TokenPurpose.SIGN_IN, timedelta(minutes=minutes)
    )


# --------------------------------------------------------------------------- asking for a link


def test_the_page_asks_for_an_address_and_offers_the_password_form(client: FlaskClient) -> None:
    html = client.get("/login/link").text
    assert "Sign in with a link" in html
    assert 'type="email"' in html and "E-mail me a sign-in link" in html
    assert 'href="/login"' in html


def test_a_known_address_gets_a_link_that_signs_in_after_pressing_the_button(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT, email="leman@example.org", display_name="Ləman")
    response = ask(client, "  Leman@Example.ORG ")
    assert response.status_code == 200
    assert SENT in response.text and "leman@example.org" in response.text
    assert "within 30 minutes" in response.text

    [row] = outbox(db_session)
    assert (row.recipient, row.user_id, row.status.value) == (user.email, user.id, "pending")
    message = parse(row)
    assert message["To"].addresses[0].addr_spec == "leman@example.org"
    assert message["To"].addresses[0].display_name == user.name
    assert message["Subject"] == "Your sign-in link for Training Centre"
    url = link_in(row)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"Hello {user.person.full_name}," in text and "within 30 minutes" in text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert f'href="{url}"' in html
    [requested] = events(db_session, "auth.sign_in_link")
    assert requested.object_id == user.id

    # Opening the link (as a mail scanner would) only shows a button: nothing is used up.
    for _ in range(2):
        page = client.get(path_of(url))
        assert page.status_code == 200
        assert "You are signing in as:" in page.text and "leman@example.org" in page.text
        assert re.search(r'<button[^>]*type="submit"[^>]*>\s*Sign in\s*</button>', page.text)
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert page.headers["Cache-Control"] == "no-store"
    assert signed_in_id(client) is None
    assert client.get("/me").status_code == 302

    done = client.post(path_of(url))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert (signed_in_id(client) or "").startswith(user.get_id() + ":")
    home = client.get("/me")
    assert home.status_code == 200 and "Welcome, " in home.text and "My training" in home.text
    db_session.refresh(user)
    assert user.last_login_at is not None
    [signed] = events(db_session, "auth.sign_in")
    assert signed.actor_id == user.id and signed.changes == {"method": "link"}


def test_unknown_and_inactive_addresses_get_the_same_answer_and_no_mail(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    make.user(Role.PARTICIPANT, email="known@example.org")
    make.user(Role.PARTICIPANT, email="gone@example.org", active=False)
    answers = {}
    for address in ("known@example.org", "nobody@example.org", "gone@example.org"):
        response = ask(client, address)
        assert response.status_code == 200
        answers[address] = response.text.replace(address, "ADDRESS")
    assert answers["known@example.org"] == answers["nobody@example.org"]
    assert answers["known@example.org"] == answers["gone@example.org"]
    assert [row.recipient for row in outbox(db_session)] == ["known@example.org"]


def test_answers_take_the_same_minimum_time_whether_or_not_the_account_exists(
    client: FlaskClient, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "MIN_RESPONSE_SECONDS", 0.3)
    make.user(Role.PARTICIPANT, email="timed@example.org")
    took = {}
    for address in ("timed@example.org", "untimed@example.org"):
        started = time.monotonic()
        assert SENT in ask(client, address).text
        took[address] = time.monotonic() - started
    assert min(took.values()) >= 0.3, took
    assert abs(took["timed@example.org"] - took["untimed@example.org"]) < 0.15, took


def test_a_mistyped_address_is_told_and_nothing_is_sent(
    client: FlaskClient, db_session: Any
) -> None:
    response = ask(client, "not an address")
    assert response.status_code == 200
    assert "Enter a valid e-mail address." in response.text and SENT not in response.text
    assert outbox(db_session) == []


def test_the_mail_is_in_the_users_language_else_their_latest_cohorts(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    chosen = make.user(Role.PARTICIPANT, email="chosen@example.org", locale="az")
    by_cohort = make.user(Role.PARTICIPANT, email="bycohort@example.org")
    old = make.cohort(language="en", start_date=date(2025, 3, 2), end_date=date(2025, 3, 6))
    make.enrolment(cohort=old, person=by_cohort.person)
    make.enrolment(cohort=make.cohort(language="ru"), person=by_cohort.person)
    ask(client, chosen.email)
    ask(client, by_cohort.email)
    rows = {row.recipient: parse(row) for row in outbox(db_session)}
    html = {k: m.get_body(preferencelist=("html",)).get_content() for k, m in rows.items()}
    assert '<html lang="az">' in html["chosen@example.org"]
    assert '<html lang="ru">' in html["bycohort@example.org"]


# --------------------------------------------------------------------------- using a link


@pytest.mark.parametrize(
    ("role", "home"),
    [(Role.TRAINER, "/trainer"), (Role.COORDINATOR, "/dashboard"), (Role.ADMIN, "/dashboard")],
)
def test_trainers_coordinators_and_admins_may_sign_in_with_a_link(
    client: FlaskClient, make: Any, role: Role, home: str
) -> None:
    user = make.user(role)
    response = client.post(link_for(user), follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == home
    assert (signed_in_id(client) or "").startswith(user.get_id() + ":")


def _refused(client: FlaskClient, path: str, message: str) -> None:
    """GET and POST both explain why and offer a new link; nobody is signed in."""
    for method in ("GET", "POST"):
        response = client.open(path, method=method)
        assert response.status_code == 200
        assert "This sign-in link cannot be used" in response.text
        assert message in response.text
        assert 'href="/login/link"' in response.text and "E-mail me a new link" in response.text
        assert "You are signing in as" not in response.text
        assert signed_in_id(client) is None


def test_a_link_works_once(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.PARTICIPANT)
    path = link_for(user)
    assert client.post(path).status_code == 302
    sign_out(client)
    _refused(client, path, "This link has already been used. Ask for a new one.")


def test_using_a_link_ends_the_other_links_sent_before(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT)
    first, second = link_for(user), link_for(user)
    assert client.post(second).status_code == 302
    sign_out(client)
    _refused(client, first, "This link has already been used. Ask for a new one.")


def test_an_expired_link_does_not_sign_in(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.PARTICIPANT)
    _refused(client, link_for(user, minutes=-1), "This link has expired. Ask for a new one.")


def test_a_link_stops_working_when_the_email_changes(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT, email="before@example.org")
    path = link_for(user)
    user.email = "after@example.org"
    user.auth_version += 1
    db_session.flush()
    _refused(client, path, "This link is no longer valid. Ask for a new one.")


def test_a_link_of_a_deactivated_account_does_not_sign_in(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT)
    path = link_for(user)
    user.active = False
    db_session.flush()
    _refused(client, path, "This link is no longer valid. Ask for a new one.")


@pytest.mark.parametrize("token", ["nonsense", "x" * 300, "A" * 43])
def test_a_made_up_link_is_refused(client: FlaskClient, token: str) -> None:
    _refused(client, f"/login/link/{token}", "This link is not valid. Ask for a new one.")


def test_a_password_reset_link_is_not_a_sign_in_link(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.PARTICIPANT)
    token = tokens.make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(minutes=30))
    _refused(client, f"/login/link/{token}", "This link is not valid. Ask for a new one.")


def test_someone_signed_in_is_warned_that_the_link_switches_account(
    client: FlaskClient, make: Any, login: Any
) -> None:
    login(Role.COORDINATOR, email="coordinator@example.org")
    other = make.user(Role.PARTICIPANT, email="participant@example.org")
    page = client.get(link_for(other)).text
    assert "You are signed in as coordinator@example.org now" in page
    assert client.post(link_for(other)).status_code == 302
    assert (signed_in_id(client) or "").startswith(other.get_id() + ":")


# --------------------------------------------------------------------------- rate limits


def test_five_links_an_hour_per_address_then_the_same_answer_for_any_address(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    make.user(Role.PARTICIPANT, email="busy@example.org")
    pages = {}
    for address in ("busy@example.org", "ghost@example.org"):
        for i in range(5):
            # From different networks: the limit follows the address.
            assert SENT in ask(client, address, ip=f"10.0.{i}.1").text
        refused = ask(client, address.upper(), ip="10.9.9.9")
        assert refused.status_code == 429
        assert LIMITED in refused.text and SENT not in refused.text
        pages[address] = refused.text
    assert pages["busy@example.org"] == pages["ghost@example.org"]
    assert len(outbox(db_session)) == 5
    # Another address from the same network is still served.
    assert SENT in ask(client, "third@example.org", ip="10.9.9.9").text


def test_twenty_requests_an_hour_per_network(client: FlaskClient, db_session: Any) -> None:
    for i in range(20):
        assert ask(client, f"someone{i}@example.org").status_code == 200
    refused = ask(client, "another@example.org")
    assert refused.status_code == 429 and LIMITED in refused.text
    assert ask(client, "another@example.org", ip="10.1.1.1").status_code == 200


def test_opening_the_form_does_not_count(client: FlaskClient) -> None:
    for _ in range(30):
        assert client.get("/login/link").status_code == 200
    assert ask(client, "fine@example.org").status_code == 200
