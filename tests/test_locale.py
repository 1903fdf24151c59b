"""Dates and times follow the browser's language and region."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role


@pytest.mark.parametrize(
    ("accept_language", "html_lang", "date_text"),
    [
        ("en-GB,en;q=0.9", "en-GB", "Mon, 2 Mar 2026"),
        ("en-US,en;q=0.9", "en-US", "Mon, Mar 2, 2026"),
        ("ru-RU,ru;q=0.9", "ru-RU", "пн, 2 мар. 2026"),
        ("xx-YY, ;;garbage", "en", "Mon, Mar 2, 2026"),
    ],
)
def test_participant_schedule_dates_follow_the_browser_locale(
    client: FlaskClient, login: Any, make: Any, accept_language: str, html_lang: str, date_text: str
) -> None:
    me = login(Role.PARTICIPANT)
    cohort = make.cohort(timezone="Asia/Baku")
    make.enrolment(cohort=cohort, person=me.person)
    make.session(
        cohort=cohort,
        starts_at=datetime(2026, 3, 2, 5, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    )
    response = client.get("/me", headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in response.text
    assert date_text in response.text
    assert "09:00–12:00" in response.text
