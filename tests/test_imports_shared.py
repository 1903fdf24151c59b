"""Two app servers behind a load balancer share one database: an upload previewed on one
can be confirmed on the other (nothing waits on a server's local disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.test_imports import form_of, read, token_of, upload
from trainingmgr import create_app
from trainingmgr.accounts import sessions
from trainingmgr.accounts.models import Role, User
from trainingmgr.extensions import db
from trainingmgr.imports.models import PendingUpload
from trainingmgr.people.models import Person


@pytest.fixture
def second_server(app: Flask, tmp_path: Path) -> Flask:
    """Another instance of the app, with its own instance folder, on the same database."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "another-server",
            "INSTANCE_PATH": str(tmp_path / "server-b"),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "MAIL_BACKEND": "memory",
        }
    )


def signed_in(server: Flask, user: User) -> FlaskClient:
    client = server.test_client()
    session_id = sessions.start(user)
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
    return client


def test_a_preview_on_one_server_is_confirmed_on_another(
    app: Flask, second_server: Flask, committed_db: Any
) -> None:
    programme = factories.programme()
    cohort = factories.cohort(programme)
    coordinator = factories.user(Role.COORDINATOR)
    coordinator.programmes.append(programme)
    db.session.commit()
    server_a, server_b = signed_in(app, coordinator), signed_in(second_server, coordinator)

    response = upload(
        server_a, f"/cohorts/{cohort.id}/import", read("participants_cp1251.csv"), "p.csv"
    )
    token = token_of(response)
    preview = server_a.get(f"/import/{token}")
    assert preview.status_code == 200 and "Will create:" in preview.text

    confirmed = server_b.post(f"/import/{token}/confirm", data=form_of(preview.text))

    assert confirmed.status_code == 302, confirmed.text
    assert (
        "Import done: 4 people created, 4 enrolled."
        in server_b.get(confirmed.headers["Location"]).text
    )
    db.session.rollback()  # see what the other server committed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 4
    assert db.session.scalar(sa.select(PendingUpload.state)) == "imported"
    for server in (app, second_server):
        assert not (Path(server.instance_path) / "uploads").exists()  # nothing on local disks


def test_another_users_upload_is_not_found_on_any_server(
    app: Flask, second_server: Flask, committed_db: Any
) -> None:
    programme = factories.programme()
    owner, other = factories.user(Role.COORDINATOR), factories.user(Role.COORDINATOR)
    owner.programmes.append(programme)
    other.programmes.append(programme)
    db.session.commit()
    token = token_of(
        upload(signed_in(app, owner), "/people/import", read("participants_cp1251.csv"), "p.csv")
    )

    assert signed_in(second_server, other).get(f"/import/{token}").status_code == 404
    assert signed_in(second_server, owner).get(f"/import/{token}").status_code == 200
