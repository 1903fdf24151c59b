"""An id in a URL beyond what the database stores is "not found", never a 500.

PostgreSQL refuses a parameter above 2**31 - 1 for an integer column ("integer out of range"),
SQLite one above 2**63 - 1 ("Python int too large to convert to SQLite INTEGER"); such an id
names nothing, so no route matches it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter

from trainingmgr.accounts.models import Role

LARGEST = 2**31 - 1


def _int_rules(app: Flask) -> list[tuple[str, str, list[str]]]:
    """(rule, method, names of its int arguments) of every route with an int argument."""
    found = []
    for rule in app.url_map.iter_rules():
        ints = [
            name
            for name, converter in rule._converters.items()  # noqa: SLF001
            if isinstance(converter, IntegerConverter)
        ]
        if not ints:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, ints))
    return found


def _url(rule: str, ints: list[str], value: int) -> str:
    url = rule
    for name in ints:
        url = url.replace(f"<int:{name}>", str(value))
    # Other arguments (a version, a kind, a locale...): any text; the id is what is refused.
    while "<" in url:
        start = url.index("<")
        url = url[:start] + "x" + url[url.index(">", start) + 1 :]
    return url


@pytest.mark.parametrize("value", [LARGEST + 1, 2**63, 2**64])
def test_an_id_beyond_the_largest_is_not_found_on_every_route(
    app: Flask, client: FlaskClient, login: Any, value: int
) -> None:
    login(Role.ADMIN)
    rules = _int_rules(app)
    assert len(rules) > 50

    answers = {
        (method, _url(rule, ints, value)): client.open(
            _url(rule, ints, value), method=method
        ).status_code
        for rule, method, ints in rules
    }

    # 405 where werkzeug's matcher answers so for a method of a same-shaped rule: no 500.
    assert {key: code for key, code in answers.items() if code not in (404, 405)} == {}
    assert sum(code == 404 for code in answers.values()) > 50


def test_the_largest_id_is_still_looked_up(client: FlaskClient, login: Any) -> None:
    login(Role.ADMIN)

    assert client.get(f"/cohorts/{LARGEST}").status_code == 404
    assert client.get(f"/programmes/{LARGEST}").status_code == 404


QUERY_IDS = [
    "/reports/?programme={n}",
    "/reports/?cohort={n}",
    "/reports/report.xlsx?programme={n}",
    "/people/?page={n}",
    "/people/merge?keep={n}&duplicate={n}",
    "/audit?actor={n}",
    "/audit?object_id={n}&object_type=enrolment",
    "/audit?programme={n}",
    "/audit?page={n}",
    "/cohorts/?programme={n}",
    "/admin/accounts?programme={n}",
    "/admin/invite?programme={n}",
]


@pytest.mark.parametrize("number", [2**31, 2**63, 10**20])
def test_ids_in_query_arguments_beyond_the_database_are_ignored_or_refused(
    client: FlaskClient, login: Any, number: int
) -> None:
    """Filters, pages and record numbers in the query string: a number no table can hold is
    treated as no choice (or "there is no record"), never a server error."""
    login(Role.ADMIN)
    for url in QUERY_IDS:
        response = client.get(url.format(n=number))
        assert response.status_code == 200, url
    merge = client.get(f"/people/merge?keep={number}&duplicate=1").get_data(as_text=True)
    assert f"There is no record #{number}." in merge
