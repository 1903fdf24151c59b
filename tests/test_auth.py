"""Signing in and out: the form, the session cookie, and what is recorded."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.security import check_password_hash
from werkzeug.test import TestResponse

from tests.factories import PASSWORD
from trainingmgr.accounts import services as accounts
from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent

WRONG = "The e-mail or password is not correct."

HOMES = {
    Role.ADMIN: "/dashboard",
    Role.COORDINATOR: "/dashboard",
    Role.TRAINER: "/trainer",
    Role.PARTICIPANT: "/me",
}


def sign_in(
    client: FlaskClient, email: str, password: str = PASSWORD, next_: str | None = None
) -> TestResponse:
    url = "/login" if next_ is None else f"/login?next={next_}"
    return client.post(url, data={"email": email, "password": password})


def signed_in_user_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def assert_signed_out(client: FlaskClient) -> None:
    """A signed-out visitor is sent to the sign-in page for a page that needs an account."""
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
def test_right_password_lands_on_the_role_home_with_a_welcome(
    client: FlaskClient, make: Any, db_session: Any, role: Role
) -> None:
    user = make.user(role, email=f"{role.value}.signin@example.org")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.request.path == HOMES[role]
    assert "Welcome, " in response.text
    assert 'class="alert alert-success"' in response.text
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")
    [event] = events(db_session, "auth.sign_in")
    assert event.actor_id == user.id
    assert user.last_login_at is not None


def test_email_is_matched_whatever_its_case(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.COORDINATOR, email="leman.aliyeva@example.org")
    response = sign_in(client, "Leman.Aliyeva@Example.ORG")
    assert response.status_code == 302
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")


def test_wrong_password_and_unknown_account_get_the_same_message(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    wrong_password = sign_in(client, user.email, "not-the-password")
    unknown = sign_in(client, "nobody@example.org", PASSWORD)

    for response in (wrong_password, unknown):
        assert response.status_code == 200
        assert WRONG in response.text
        assert "Welcome" not in response.text
        # The form is shown again, with the address kept and the password not.
        assert 'name="password"' in response.text
        assert PASSWORD not in response.text
    # Nothing in the page says which of the two was wrong.
    assert wrong_password.text.replace(user.email, "X") == unknown.text.replace(
        "nobody@example.org", "X"
    )
    assert signed_in_user_id(client) is None
    assert_signed_out(client)

    failed = events(db_session, "auth.sign_in_failed")
    assert {e.summary for e in failed} == {user.email, "nobody@example.org"}
    assert all(e.actor_id is None for e in failed)
    assert events(db_session, "auth.sign_in") == []


def test_inactive_account_cannot_sign_in(client: FlaskClient, make: Any, db_session: Any) -> None:
    user = make.user(Role.COORDINATOR, active=False)
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert WRONG in response.text
    assert signed_in_user_id(client) is None
    assert [e.object_id for e in events(db_session, "auth.sign_in_failed")] == [user.id]


def test_deactivating_an_account_ends_its_sessions(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    user = login(Role.COORDINATOR)
    assert client.get("/dashboard").status_code == 200
    user.active = False
    db_session.flush()
    assert_signed_out(client)


def test_empty_form_shows_messages_next_to_the_fields(client: FlaskClient, db_session: Any) -> None:
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 200
    assert "Enter your e-mail address." in response.text
    assert "Enter your password." in response.text
    assert 'aria-invalid="true"' in response.text
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_next_leads_back_to_the_page_asked_for(client: FlaskClient, make: Any) -> None:
    user = make.user(Role.PARTICIPANT)
    asked = client.get("/me")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    assert login_url == "/login?next=%2Fme"
    response = client.post(login_url, data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/me"


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.example/",
        "https:evil.example",
        "//evil.example",
        "/\\evil.example",
        "%2F%2Fevil.example",
        "/%09/evil.example",
        "javascript:alert(1)",
    ],
)
def test_next_never_leads_to_another_site(client: FlaskClient, make: Any, target: str) -> None:
    user = make.user(Role.COORDINATOR)
    response = sign_in(client, user.email, next_=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    # As a browser reads it (a backslash counts as a slash), it stays on this site.
    resolved = urlsplit(urljoin("http://localhost/", location.replace("\\", "/")))
    assert resolved.netloc == "localhost"
    assert location.startswith("/")
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")


def test_signed_in_user_visiting_login_goes_home(client: FlaskClient, login: Any) -> None:
    login(Role.TRAINER)
    response = client.get("/login", follow_redirects=True)
    assert response.request.path == "/trainer"


def test_sign_out_is_post_only(client: FlaskClient, login: Any, db_session: Any) -> None:
    user = login(Role.COORDINATOR)
    response = client.get("/logout")
    assert response.status_code == 405
    assert "This page cannot be used that way." in response.text
    assert (signed_in_user_id(client) or "").startswith(user.get_id() + ":")
    assert client.get("/dashboard").status_code == 200

    response = client.post("/logout", follow_redirects=True)
    assert response.request.path == "/login"
    assert "You have signed out." in response.text
    assert signed_in_user_id(client) is None
    assert_signed_out(client)
    [event] = events(db_session, "auth.sign_out")
    assert event.actor_id == user.id


def test_sign_out_needs_a_signed_in_user(client: FlaskClient, db_session: Any) -> None:
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert events(db_session, "auth.sign_out") == []


def _tamper(value: str) -> str:
    """Change one character in the middle of the cookie's signature (its last part)."""
    payload, signature = value.rsplit(".", 1)
    i = len(signature) // 2
    swapped = "A" if signature[i] != "A" else "B"
    return f"{payload}.{signature[:i]}{swapped}{signature[i + 1 :]}"


@pytest.mark.parametrize(
    "forge",
    [_tamper, lambda _v: "not-a-session-cookie", lambda v: v.replace(".", "", 1)],
    ids=["bad-signature", "garbage", "broken-format"],
)
def test_tampered_session_cookie_is_treated_as_signed_out(
    client: FlaskClient, make: Any, forge: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    sign_in(client, user.email)
    assert client.get("/dashboard").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    client.set_cookie("session", forge(cookie.value))

    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'name="password"' in page.text


@pytest.mark.parametrize("user_id", ["abc", "999999:1", "1", ":", ""])
def test_signed_session_with_unknown_user_is_signed_out(client: FlaskClient, user_id: str) -> None:
    with client.session_transaction() as sess:
        sess["_user_id"] = user_id
    assert_signed_out(client)


def test_changing_auth_version_ends_existing_sessions(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    user = login(Role.COORDINATOR)
    assert client.get("/dashboard").status_code == 200
    user.auth_version += 1
    db_session.flush()
    assert_signed_out(client)
    # Signing in again works, with the new version.
    sign_in(client, user.email)
    assert (signed_in_user_id(client) or "").startswith(f"{user.id}:{user.auth_version}:")
    assert client.get("/dashboard").status_code == 200


def test_changing_auth_version_also_ends_remembered_devices(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.COORDINATOR)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")  # the browser was closed
    assert client.get("/dashboard").status_code == 200  # still signed in on this device

    user.auth_version += 1
    db_session.flush()
    client.delete_cookie("session")
    assert_signed_out(client)


def test_passwords_are_stored_hashed(db_session: Any) -> None:
    user = accounts.create_user("hashed@example.org", [Role.TRAINER], "a-long-passphrase")
    assert user.password_hash
    assert "a-long-passphrase" not in user.password_hash
    assert user.password_hash.split(":")[0] in {"scrypt", "pbkdf2"}
    assert check_password_hash(user.password_hash, "a-long-passphrase")
    assert accounts.authenticate("hashed@example.org", "a-long-passphrase") is user
    assert accounts.authenticate("hashed@example.org", "A-long-passphrase") is None


def test_service_refuses_a_short_password_and_a_taken_email(db_session: Any, make: Any) -> None:
    make.user(Role.COORDINATOR, email="taken@example.org")
    with pytest.raises(accounts.DomainError, match="at least 10 characters") as short:
        accounts.create_user("new@example.org", [Role.TRAINER], "short")
    assert short.value.field == "password"
    with pytest.raises(accounts.DomainError, match="already exists") as taken:
        accounts.create_user("Taken@Example.org", [Role.TRAINER], "long-enough-password")
    assert taken.value.field == "email"
    count = db_session.scalar(sa.select(sa.func.count(User.id)))
    assert count == 1
