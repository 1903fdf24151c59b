"""Passwords: the policy, reset by e-mailed link, change when signed in, and the protection of
the sign-in form (rate limits, audit, the same answer for unknown addresses)."""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash
from werkzeug.test import TestResponse

from tests.factories import PASSWORD
from trainingmgr.accounts import passwords
from trainingmgr.accounts import services as accounts
from trainingmgr.accounts import views as account_views
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserToken
from trainingmgr.accounts.tokens import make_token
from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.errors import DomainError
from trainingmgr.mail.models import OutboxMessage

NEW = "tulip-harbour-quietly-9"
RESET_SENT = "a link to choose a new password is on its way"


# --------------------------------------------------------------------------- helpers


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def outbox(db_session: Any, kind: str) -> list[OutboxMessage]:
    return list(
        db_session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def message_text(row: OutboxMessage) -> str:
    msg = email.message_from_bytes(row.message, policy=email.policy.default)
    return msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def link_path(row: OutboxMessage, prefix: str) -> str:
    """The path of the link in the message (BASE_URL is https://training.example.org)."""
    match = re.search(
        rf"https://training\.example\.org({prefix}/[A-Za-z0-9_-]+)", message_text(row)
    )
    assert match, message_text(row)
    return match.group(1)


def signed_in_user_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def visible_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"', "", html)


# --------------------------------------------------------------------------- the policy


def test_the_shipped_list_has_thousands_of_common_passwords() -> None:
    common = passwords.common_passwords()
    assert len(common) > 10_000
    for word in ("password", "123456", "qwertyuiop", "1234567890", "basketball"):
        assert word in common
    readme = passwords.COMMON_PASSWORDS_FILE.parent / "README.md"
    assert "Licence" in readme.read_text()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "at least 10 characters"),
        ("123456789", "at least 10 characters"),
        ("qwertyuiop", "most common"),
        ("QwertyUIOP", "most common"),  # the list is compared whatever the case
        ("Password123", "most common"),
        ("1234567890", "most common"),
        ("Basketball", "most common"),
        ("leman.aliyeva@example.org", "may not be your e-mail address"),
        ("LEMAN.ALIYEVA@EXAMPLE.ORG", "may not be your e-mail address"),
        ("leman.aliyeva", "may not be your e-mail address"),
        ("x" * 501, "at most 500 characters"),
        ("aaaaaaaaaaaa", "most common"),  # one character repeated
        ("abababababab", "most common"),
        ("abcdefghijkl", "most common"),  # a run up the alphabet
        ("9876543210987", "most common"),  # down the digits
        ("asdfghjklzxc", "most common"),  # along the keyboard
        ("Training Centre", "organisation's name"),  # the organisation's name
        ("trainingcentre2026!", "organisation's name"),
    ],
)
def test_the_policy_refuses_with_a_reason(
    db_session: Any, app: Any, password: str, message: str
) -> None:
    with app.app_context(), pytest.raises(DomainError, match=message) as refused:
        passwords.check_password_policy(password, "leman.aliyeva@example.org")
    assert refused.value.field == "password"


@pytest.mark.parametrize(
    "password",
    [NEW, "Ten chars!", "пароль-из-слов", "correct-horse-battery", "Training in Baku 2026"],
)
def test_the_policy_accepts_long_uncommon_passwords(
    db_session: Any, app: Any, password: str
) -> None:
    with app.app_context():
        assert passwords.password_problem(password, "leman.aliyeva@example.org") is None


def test_creating_a_user_applies_the_policy(db_session: Any) -> None:
    with pytest.raises(DomainError, match="most common"):
        accounts.create_user("new@example.org", [Role.TRAINER], "iloveyou12")
    with pytest.raises(DomainError, match="e-mail address"):
        accounts.create_user("longaddress1@example.org", [Role.TRAINER], "longaddress1")
    assert db_session.scalar(sa.select(sa.func.count(User.id))) == 0


# --------------------------------------------------------------------------- the sign-in page


def test_sign_in_page_links_to_password_reset_and_sign_in_link(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<a href="/password/reset">Forgot your password?</a>' in page.text
    assert '<a href="/login/link">E-mail me a sign-in link</a>' in page.text


# --------------------------------------------------------------------------- reset by link


def ask_for_reset(client: FlaskClient, address: str, ip: str = "127.0.0.1") -> TestResponse:
    return client.post(
        "/password/reset",
        data={"email": address},
        follow_redirects=True,
        environ_base={"REMOTE_ADDR": ip},
    )


def test_reset_requests_take_the_same_minimum_time_whether_or_not_the_account_exists(
    client: FlaskClient, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(account_views, "MIN_RESPONSE_SECONDS", 0.3)
    make.user(Role.COORDINATOR, email="timed@example.org")
    took = {}
    for address in ("timed@example.org", "untimed@example.org"):
        started = time.monotonic()
        assert RESET_SENT in ask_for_reset(client, address).text
        took[address] = time.monotonic() - started
    assert min(took.values()) >= 0.3, took
    assert abs(took["timed@example.org"] - took["untimed@example.org"]) < 0.15, took


def test_reset_request_says_the_same_whether_or_not_the_account_exists(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR, email="known@example.org")
    known = ask_for_reset(client, "Known@Example.org")
    unknown = ask_for_reset(client, "nobody@example.org")

    for response in (known, unknown):
        assert response.status_code == 200
        assert response.request.path == "/login"
        assert RESET_SENT in response.text
    assert without_csrf(known.text).replace("known@example.org", "X") == without_csrf(
        unknown.text
    ).replace("nobody@example.org", "X")

    [sent] = outbox(db_session, "password_reset")
    assert sent.recipient == "known@example.org"
    assert sent.user_id == user.id
    assert "Choose a new password" in sent.subject
    assert "60 minutes" in message_text(sent)
    assert {e.summary for e in events(db_session, "auth.password_reset_requested")} == {
        "known@example.org",
        "nobody@example.org",
    }


def test_no_reset_mail_for_a_deactivated_account(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    make.user(Role.COORDINATOR, email="gone@example.org", active=False)
    response = ask_for_reset(client, "gone@example.org")
    assert RESET_SENT in response.text
    assert outbox(db_session, "password_reset") == []


def test_reset_link_sets_a_new_password_ends_other_sessions_and_other_links(
    app: Any, client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR, email="reset.me@example.org")
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other_device.get("/dashboard").status_code == 200
    ask_for_reset(client, user.email)
    ask_for_reset(client, user.email)  # asked twice: two links
    first, second = (link_path(r, "/password/reset") for r in outbox(db_session, "password_reset"))

    page = client.get(second)
    assert page.status_code == 200
    assert "Choose a new password" in page.text
    assert "reset.me@example.org" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"

    response = client.post(second, data={"password": NEW, "confirm": NEW}, follow_redirects=True)
    assert response.request.path == "/dashboard"
    assert "Your new password is set." in response.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, NEW)
    assert not check_password_hash(user.password_hash, PASSWORD)
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")
    assert [e.actor_id for e in events(db_session, "auth.password_reset")] == [user.id]

    # The other device is signed out; both links are dead now.
    other = other_device.get("/dashboard")
    assert other.status_code == 302 and other.headers["Location"].startswith("/login")
    for used in (second, first):
        again = client.post(used, data={"password": "another-fine-password", "confirm": "x"})
        assert again.status_code == 410
        assert "Nothing was changed." in again.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, NEW)

    # The old password no longer works, the new one does.
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": user.email, "password": NEW}).status_code == 302


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("password12", "password12", "most common"),
        ("short", "short", "at least 10 characters"),
        (NEW, NEW + "x", "The two passwords are not the same."),
        ("", "", "Choose a password."),
        ("reset.me@example.org", "reset.me@example.org", "may not be your e-mail address"),
    ],
)
def test_a_refused_new_password_keeps_the_link_usable(
    client: FlaskClient, make: Any, db_session: Any, password: str, confirm: str, message: str
) -> None:
    user = make.user(Role.TRAINER, email="reset.me@example.org")
    token = make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=1))
    response = client.post(
        f"/password/reset/{token}", data={"password": password, "confirm": confirm}
    )
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text or "is-invalid" in response.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, PASSWORD)
    assert events(db_session, "auth.password_reset") == []
    # The link still works with a good password.
    ok = client.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert ok.status_code == 302


def test_an_expired_reset_link_changes_nothing(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    token = make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(seconds=-1))
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 410
    assert "This link has expired. Ask for a new one." in page.text
    post = client.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert post.status_code == 410
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, PASSWORD)
    assert signed_in_user_id(client) is None


def test_an_invitation_link_is_not_a_reset_link(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    token = make_token(user, TokenPurpose.INVITATION, timedelta(days=1))
    response = client.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 410
    assert "This link is not valid." in response.text
    used = db_session.scalar(sa.select(UserToken.used_at).where(UserToken.user_id == user.id))
    assert used is None


def test_a_deactivated_account_cannot_use_a_reset_link(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.TRAINER)
    token = make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=1))
    user.active = False
    db_session.flush()
    response = client.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert response.status_code == 410
    assert "no longer valid" in response.text
    assert signed_in_user_id(client) is None


# --------------------------------------------------------------------------- change


def test_signed_in_user_changes_password_and_other_devices_are_signed_out(
    app: Any, client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})

    page = client.get("/password/change")
    assert page.status_code == 200
    assert "Current password" in page.text
    response = client.post(
        "/password/change",
        data={"current_password": PASSWORD, "password": NEW, "confirm": NEW},
        follow_redirects=True,
    )
    assert "Your password was changed." in response.text
    assert client.get("/dashboard").status_code == 200  # this device stays signed in
    assert other_device.get("/dashboard").status_code == 302
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, NEW)
    [event] = events(db_session, "auth.password_changed")
    assert event.actor_id == user.id
    assert NEW not in str(event.changes) and NEW not in event.summary


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("not-the-password", NEW, "The current password is not correct."),
        (PASSWORD, PASSWORD, "different from the current one"),
        (PASSWORD, "qwertyuiop", "most common"),
        (PASSWORD, "short", "at least 10 characters"),
    ],
)
def test_change_refused_writes_nothing(
    client: FlaskClient, login: Any, db_session: Any, current: str, new: str, message: str
) -> None:
    user = login(Role.TRAINER)
    version = user.auth_version
    response = client.post(
        "/password/change", data={"current_password": current, "password": new, "confirm": new}
    )
    assert response.status_code == 200
    assert message in response.text
    db_session.refresh(user)
    assert check_password_hash(user.password_hash, PASSWORD)
    assert user.auth_version == version
    assert events(db_session, "auth.password_changed") == []


def test_account_without_password_is_sent_to_the_reset_page(
    client: FlaskClient, login: Any
) -> None:
    login(Role.PARTICIPANT, password_hash=None)
    page = client.get("/password/change")
    assert "Your account has no password yet" in page.text
    assert 'href="/password/reset"' in page.text


def test_change_password_needs_an_account(client: FlaskClient) -> None:
    response = client.get("/password/change")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- sign-in protection


def post_login(client: FlaskClient, address: str, ip: str, password: str = "wrong-password-1"):
    return client.post(
        "/login", data={"email": address, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def test_five_tries_per_address_then_the_same_answer_for_known_and_unknown(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR, email="target@example.org")
    known = [post_login(client, user.email, "10.0.0.1") for _ in range(6)]
    unknown = [post_login(client, "ghost@example.org", "10.0.0.2") for _ in range(6)]

    for series in (known, unknown):
        assert [r.status_code for r in series] == [200] * 5 + [429]
        assert "Too many requests" in series[-1].text
    assert known[-1].text == unknown[-1].text
    assert known[-1].headers["Retry-After"] and unknown[-1].headers["Retry-After"]
    # Even the right password is refused while the address is limited (from another IP).
    blocked = post_login(client, user.email, "10.0.0.3", PASSWORD)
    assert blocked.status_code == 429
    assert signed_in_user_id(client) is None
    # The address is limited whatever its case.
    assert post_login(client, "TARGET@example.org", "10.0.0.4").status_code == 429
    # Another address from the same IP is not.
    assert post_login(client, "someone@example.org", "10.0.0.1").status_code == 200

    failed = events(db_session, "auth.sign_in_failed")
    assert len(failed) == 11  # the limited attempts never reached the password check
    assert {e.summary for e in failed} == {
        "target@example.org",
        "ghost@example.org",
        "someone@example.org",
    }
    assert all("wrong-password" not in str(e.changes) + e.summary for e in failed)


def test_ten_tries_per_ip_address(client: FlaskClient, db_session: Any) -> None:
    answers = [
        post_login(client, f"user{i}@example.org", "10.0.0.9").status_code for i in range(11)
    ]
    assert answers == [200] * 10 + [429]
    # Looking at the page is not limited, and another IP may still sign in.
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    assert post_login(client, "user0@example.org", "10.0.0.10").status_code == 200


def test_password_reset_requests_are_limited_per_address(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    make.user(Role.TRAINER, email="flooded@example.org")
    answers = [
        ask_for_reset(client, "flooded@example.org", ip=f"10.0.1.{i}").status_code for i in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    assert len(outbox(db_session, "password_reset")) == 3
