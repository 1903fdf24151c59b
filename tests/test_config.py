"""Configuration from environment variables, with safe defaults."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask

from trainingmgr import create_app
from trainingmgr.config import ConfigError, load_config

SETTINGS = (
    "TRAININGMGR_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "INSTANCE_PATH",
    "BASE_URL",
    "MAIL_PORT",
    "SESSION_COOKIE_SECURE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting leaks in from the machine; the instance folder is a fresh temp dir."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("INSTANCE_PATH", str(instance))
    return instance


def test_production_refuses_to_start_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    monkeypatch.setenv("TRAININGMGR_ENV", "production")
    with pytest.raises(ConfigError) as error:
        create_app()
    message = str(error.value)
    assert "SECRET_KEY is not set" in message
    assert "secrets.token_hex" in message  # says how to make one
    assert not (clean_environment / "secret_key").exists()

    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_uses_the_given_key_and_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAININGMGR_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a" * 64)
    app = create_app()
    assert app.config["SECRET_KEY"] == "a" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["MAIL_BACKEND"] == "smtp"


def test_development_generates_a_key_once_and_keeps_it(clean_environment: Path) -> None:
    first = create_app()
    key_file = clean_environment / "secret_key"
    assert key_file.exists()
    key = key_file.read_text().strip()
    assert first.config["SECRET_KEY"] == key
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # only the owner can read it
    # A restart reuses it, so signed-in users stay signed in.
    second = create_app()
    assert second.config["SECRET_KEY"] == key
    assert _session_survives(first, second)


def _session_survives(before: Flask, after: Flask) -> bool:
    serializer = before.session_interface.get_signing_serializer(before)  # type: ignore[attr-defined]
    cookie = serializer.dumps({"_user_id": "1:1"})
    reader = after.session_interface.get_signing_serializer(after)  # type: ignore[attr-defined]
    return reader.loads(cookie) == {"_user_id": "1:1"}


@pytest.mark.parametrize(
    ("given", "used"),
    [
        (
            "postgres://tm:pw@db.example:5432/trainingmgr",
            "postgresql+psycopg://tm:pw@db.example:5432/trainingmgr",
        ),
        ("postgresql://tm@127.0.0.1/tm", "postgresql+psycopg://tm@127.0.0.1/tm"),
        ("postgresql+psycopg://tm@127.0.0.1/tm", "postgresql+psycopg://tm@127.0.0.1/tm"),
        ("sqlite:////var/lib/tm.sqlite3", "sqlite:////var/lib/tm.sqlite3"),
    ],
)
def test_database_url_uses_the_psycopg_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == used


def test_default_database_is_sqlite_in_the_instance_folder(clean_environment: Path) -> None:
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{clean_environment / 'trainingmgr.sqlite3'}"
    )
    assert Path(app.instance_path) == clean_environment
    assert clean_environment.is_dir()


def test_base_url_loses_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASE_URL", "https://training.example.org/")
    assert load_config({"SECRET_KEY": "x"})["BASE_URL"] == "https://training.example.org"


def test_a_malformed_number_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    with pytest.raises(ConfigError, match="MAIL_PORT must be a whole number, not 'twenty-five'"):
        create_app()
