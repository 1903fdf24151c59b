"""Duplicates caught at the door: "Add a person" warns about likely duplicates (the import's
rule) and offers the existing record; the same form sent twice adds one person."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.test_people import form_data
from trainingmgr.accounts.models import Role
from trainingmgr.extensions import db
from trainingmgr.people.duplicates import likely_duplicates
from trainingmgr.people.models import Person


def count(**where: Any) -> int:
    stmt = sa.select(sa.func.count()).select_from(Person).filter_by(**where)
    return db.session.scalar(stmt) or 0


def token(client: FlaskClient) -> str:
    html = client.get("/people/new").text
    match = re.search(r'name="form_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="form_token" name="form_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "the form carries a token"
    return match.group(1)


def test_a_likely_duplicate_is_shown_and_nothing_is_saved(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    existing = make.person(
        first_name="Sukru", last_name="Yilmaz", email="old@example.org", country="TR"
    )
    response = client.post(
        "/people/new", data=form_data(email="", form_token=token(client))
    )  # Şükrü Yılmaz, Türkiye: the same name in another spelling
    assert response.status_code == 200
    assert 'data-testid="likely-duplicates"' in response.text
    assert f'href="/people/{existing.id}"' in response.text and "old@example.org" in response.text
    assert "Nothing was saved." in response.text
    assert count(last_name="Yılmaz") == 0
    # "This is another person": added.
    data = form_data(email="", form_token=token(client), not_duplicate="y")
    response = client.post("/people/new", data=data)
    assert response.status_code == 302
    assert count(last_name="Yılmaz") == 1


def test_another_country_or_name_is_not_a_duplicate(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    make.person(first_name="Şükrü", last_name="Yılmaz", email="a@example.org", country="AZ")
    make.person(first_name="Ali", last_name="Yılmaz", email="b@example.org", country="TR")
    response = client.post("/people/new", data=form_data(form_token=token(client)))
    assert response.status_code == 302
    assert count(last_name="Yılmaz") == 3


def test_the_same_form_sent_twice_adds_one_person(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    data = form_data(email="", form_token=token(client), not_duplicate="y")
    first = client.post("/people/new", data=data)
    assert first.status_code == 302
    again = client.post("/people/new", data=data)  # Back, then Save again
    assert again.headers["Location"] == first.headers["Location"]
    assert (
        "Şükrü Yılmaz was already added with this form."
        in client.get(first.headers["Location"]).text
    )
    assert count(last_name="Yılmaz") == 1


def test_back_to_a_fresh_form_and_save_again_is_caught_by_the_warning(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    """A page that is not cached comes back as a new form (a new token): the likely
    duplicate warning stops the second record."""
    login(Role.COORDINATOR)
    assert (
        client.post("/people/new", data=form_data(email="", form_token=token(client))).status_code
        == 302
    )
    response = client.post("/people/new", data=form_data(email="", form_token=token(client)))
    assert 'data-testid="likely-duplicates"' in response.text
    assert count(last_name="Yılmaz") == 1


def test_a_coordinator_is_not_shown_people_outside_their_programmes(
    login: Any, make: Any, db_session: Any
) -> None:
    alpha, beta = make.programme(), make.programme()
    outsider = make.person(first_name="Ivan", last_name="Petrov", email="i@x.org", country="BY")
    make.enrolment(make.cohort(programme=beta), outsider)
    insider = make.person(first_name="Иван", last_name="Петров", email="j@x.org", country="BY")
    make.enrolment(make.cohort(programme=alpha), insider)
    assert likely_duplicates("Ivan", "Petrov", "BY", [alpha.id]) == [insider]
    assert likely_duplicates("Ivan", "Petrov", "BY", None) == [outsider, insider]
    assert likely_duplicates("Ivan", "Petrov", "KZ", None) == []


def test_the_forms_errors_come_before_the_duplicate_warning(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    make.person(first_name="Sukru", last_name="Yilmaz", email="old@example.org", country="TR")
    data = form_data(email="not-an-address", form_token=token(client))
    response = client.post("/people/new", data=data)
    assert 'data-testid="likely-duplicates"' not in response.text
    assert "“not-an-address” is not a valid e-mail address" in response.text
    assert count(last_name="Yılmaz") == 0
    # Corrected: now the warning, before anything is saved.
    data = form_data(email="", form_token=token(client))
    assert 'data-testid="likely-duplicates"' in client.post("/people/new", data=data).text
