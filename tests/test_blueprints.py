"""Blueprints are listed explicitly: a missing one stops the application from starting."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import trainingmgr
from trainingmgr import create_app


def _config(tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
    }


def test_every_listed_domain_has_its_blueprint_registered(app) -> None:  # type: ignore[no-untyped-def]
    assert set(trainingmgr.DOMAINS) <= set(app.blueprints)


def test_a_misspelt_domain_stops_the_app_from_starting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(trainingmgr, "DOMAINS", (*trainingmgr.DOMAINS, "reprots"))
    with pytest.raises(ModuleNotFoundError, match="trainingmgr.reprots"):
        create_app(_config(tmp_path))


def test_a_views_module_without_a_blueprint_stops_the_app_from_starting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "trainingmgr.zz_empty", types.ModuleType("zz_empty"))
    monkeypatch.setitem(
        sys.modules, "trainingmgr.zz_empty.views", types.ModuleType("trainingmgr.zz_empty.views")
    )
    monkeypatch.setattr(trainingmgr, "DOMAINS", (*trainingmgr.DOMAINS, "zz_empty"))
    with pytest.raises(RuntimeError, match="trainingmgr.zz_empty.views defines no blueprint"):
        create_app(_config(tmp_path))
