"""Rules every form shares: single-line fields refuse line breaks."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import flask_wtf
import sqlalchemy as sa
from flask.testing import FlaskClient

import trainingmgr
from tests.test_programmes import FORM
from trainingmgr.accounts.models import Role
from trainingmgr.core.forms import FlaskForm
from trainingmgr.programmes.models import Programme


def every_form_class() -> list[type]:
    classes = []
    for module in pkgutil.walk_packages(trainingmgr.__path__, "trainingmgr."):
        if module.name.endswith((".forms", ".views")):
            for _name, obj in inspect.getmembers(importlib.import_module(module.name)):
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, flask_wtf.FlaskForm)
                    and obj is not flask_wtf.FlaskForm
                ):
                    classes.append(obj)
    return classes


def test_every_form_refuses_line_breaks_in_single_line_fields() -> None:
    forms = every_form_class()
    assert len(forms) > 30
    assert [f.__qualname__ for f in forms if not issubclass(f, FlaskForm)] == []


def test_a_title_with_a_line_break_is_refused_and_nothing_is_saved(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    response = client.post("/programmes/new", data={**FORM, "title": "MMDP\nBcc: all@example.org"})

    assert response.status_code in (200, 400)
    assert "line breaks are not allowed here" in response.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Programme)) == 0


def test_a_text_area_keeps_its_lines(client: FlaskClient, login: Any, db_session: Any) -> None:
    login(Role.COORDINATOR)
    response = client.post("/programmes/new", data={**FORM, "description": "Line one\nLine two"})

    assert response.status_code == 302
    programme = db_session.scalars(sa.select(Programme)).one()
    assert programme.description.splitlines() == ["Line one", "Line two"]
