"""``flask create-user``: asks for the password (twice), never takes it as an argument.

The command commits for real, so these tests use ``committed_db`` (tables emptied after).
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask
from werkzeug.security import check_password_hash

from trainingmgr.accounts.models import Role, User

GOOD = "a-long-passphrase-42"


def create_user(app: Flask, *args: str, password_input: str = f"{GOOD}\n{GOOD}\n") -> Result:
    return app.test_cli_runner().invoke(args=["create-user", *args], input=password_input)


def users(session: Any) -> list[User]:
    session.expire_all()
    return list(session.scalars(sa.select(User).order_by(User.id)))


def test_creates_an_account_after_asking_for_the_password_twice(
    app: Flask, committed_db: Any
) -> None:
    result = create_user(app, "Coordinator@Example.org", "--role", "coordinator")
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    assert "Repeat for confirmation:" in result.output
    assert GOOD not in result.output  # typed, not echoed
    assert "Created coordinator@example.org with roles: coordinator" in result.output

    [user] = users(committed_db)
    assert user.email == "coordinator@example.org"
    assert user.roles == {Role.COORDINATOR}
    assert user.password_hash and GOOD not in user.password_hash
    assert check_password_hash(user.password_hash, GOOD)


def test_several_roles_and_a_name(app: Flask, committed_db: Any) -> None:
    result = create_user(
        app, "trainer@example.org", "--role", "trainer", "--role", "participant", "--name", "Ilkin"
    )
    assert result.exit_code == 0, result.output
    [user] = users(committed_db)
    assert user.roles == {Role.TRAINER, Role.PARTICIPANT}
    assert user.name == "Ilkin"


@pytest.mark.parametrize(
    "args",
    [
        ["x@example.org", "--role", "coordinator", "--password", GOOD],
        ["x@example.org", GOOD, "--role", "coordinator"],
    ],
    ids=["option", "argument"],
)
def test_the_password_is_never_taken_on_the_command_line(
    app: Flask, committed_db: Any, args: list[str]
) -> None:
    result = create_user(app, *args)
    assert result.exit_code == 2
    assert "No such option" in result.output or "unexpected extra argument" in result.output
    assert users(committed_db) == []


def test_passwords_that_differ_are_asked_again(app: Flask, committed_db: Any) -> None:
    result = create_user(
        app,
        "x@example.org",
        "--role",
        "trainer",
        password_input=f"{GOOD}\nsomething-else-1\n{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    [user] = users(committed_db)
    assert check_password_hash(user.password_hash or "", GOOD)


def test_gives_up_when_the_passwords_never_match(app: Flask, committed_db: Any) -> None:
    result = create_user(
        app, "x@example.org", "--role", "trainer", password_input=f"{GOOD}\nsomething-else-1\n"
    )
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert users(committed_db) == []


def test_a_short_password_is_refused(app: Flask, committed_db: Any) -> None:
    result = create_user(app, "x@example.org", "--role", "trainer", password_input="short\nshort\n")
    assert result.exit_code == 1
    assert "Error: The password must have at least 10 characters." in result.output
    assert users(committed_db) == []


def test_an_existing_email_is_refused(app: Flask, committed_db: Any, make: Any) -> None:
    make.user(Role.ADMIN, email="taken@example.org")
    committed_db.commit()
    result = create_user(app, "Taken@example.org", "--role", "coordinator")
    assert result.exit_code == 1
    assert "Error: An account with the e-mail taken@example.org already exists." in result.output
    [user] = users(committed_db)
    assert user.roles == {Role.ADMIN}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x@example.org", "--role", "king"], "Invalid value for '--role'"),
        (["x@example.org"], "Missing option '--role'"),
        (["--role", "trainer"], "Missing argument 'EMAIL'"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(
    app: Flask, committed_db: Any, args: list[str], message: str
) -> None:
    result = create_user(app, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert users(committed_db) == []


def test_an_invalid_email_is_refused(app: Flask, committed_db: Any) -> None:
    result = create_user(app, "not-an-address", "--role", "trainer")
    assert result.exit_code == 1
    assert "Enter a valid e-mail address." in result.output
    assert users(committed_db) == []
