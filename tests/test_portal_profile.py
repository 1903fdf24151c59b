"""The profile (time zone, language) and the private calendar feed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from icalendar import Calendar

from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.portal import services

BASE = "https://training.example.org"
FEED = re.compile(r'value="(https://training\.example\.org/calendar/([A-Za-z0-9_\-]+)\.ics)"')


def _day(days: int, hour: int = 6) -> datetime:
    today = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, hour, 0, tzinfo=UTC)


def events(db_session: Any, action: str) -> list[AuditEvent]:
    return list(db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --------------------------------------------------------------------------- profile


def test_profile_needs_an_account(client: FlaskClient) -> None:
    for method in ("GET", "POST"):
        response = client.open("/me/profile", method=method)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    response = client.post("/me/profile/calendar")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_profile(client: FlaskClient, login: Any, role: Role) -> None:
    user = login(role, email=f"{role.value}.profile@example.org")
    html = client.get("/me/profile").text
    assert "My settings" in html and user.email in html
    # Their name in the navigation bar leads there from every page.
    home = client.get("/", follow_redirects=True).text
    assert re.search(r'<a[^>]*href="/me/profile"[^>]*data-testid="signed-in-as"', home)


def test_the_zone_list_is_grouped_by_region_and_shows_the_choice(
    client: FlaskClient, login: Any
) -> None:
    login(Role.PARTICIPANT, timezone="Asia/Baku", locale="az")
    html = client.get("/me/profile").text
    select = re.search(r'<select[^>]*name="timezone".*?</select>', html, re.S).group(0)
    assert '<option selected value="">' not in select
    assert "Hər qrupun öz saat qurşağı" in select  # the page is in the user's language
    assert '<optgroup label="Europe">' in select and '<optgroup label="Asia">' in select
    assert re.search(r'<option[^>]*selected[^>]*value="Asia/Baku"[^>]*>Baku</option>', select)
    assert re.search(
        r'value="America/Argentina/Buenos_Aires"[^>]*>Argentina / Buenos Aires<', select
    )
    assert "posix/" not in select
    language = re.search(r'<select[^>]*name="locale".*?</select>', html, re.S).group(0)
    assert re.search(r'<option[^>]*selected[^>]*value="az"[^>]*>Azərbaycanca</option>', language)
    assert "Русский" in language and "English" in language


def test_saving_a_zone_and_a_language(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = login(Role.PARTICIPANT)
    response = client.post("/me/profile", data={"timezone": "Europe/Amsterdam", "locale": "ru"})
    assert response.status_code == 302 and response.headers["Location"] == "/me/profile"
    db_session.refresh(user)
    assert (user.timezone, user.locale) == ("Europe/Amsterdam", "ru")
    page = client.get("/me/profile").text
    assert '<html lang="ru">' in page  # the pages follow the chosen language
    [event] = events(db_session, "user.profile")
    assert event.changes == {"timezone": [None, "Europe/Amsterdam"], "locale": [None, "ru"]}

    # Back to each cohort's zone and the browser's language.
    client.post("/me/profile", data={"timezone": "", "locale": ""})
    db_session.refresh(user)
    assert (user.timezone, user.locale) == (None, None)


def test_the_zone_list_offers_current_names_only(client: FlaskClient, login: Any) -> None:
    login(Role.PARTICIPANT)
    select = re.search(
        r'<select[^>]*name="timezone".*?</select>', client.get("/me/profile").text, re.S
    ).group(0)
    assert 'value="Africa/Asmara"' in select and 'value="America/Adak"' in select
    assert 'value="Asia/Kolkata"' in select and 'value="Europe/Kyiv"' in select
    for deprecated in ("Africa/Asmera", "America/Atka", "Asia/Calcutta", "Europe/Kiev"):
        assert f'value="{deprecated}"' not in select
    assert 'value="US/Eastern"' not in select and 'value="Etc/GMT+3"' not in select


def test_a_stored_deprecated_zone_is_shown_and_kept_by_its_current_name(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    user = login(Role.PARTICIPANT, timezone="Africa/Asmera")
    html = client.get("/me/profile").text
    assert re.search(r'<option[^>]*selected[^>]*value="Africa/Asmara"', html)

    client.post("/me/profile", data={"timezone": "Africa/Asmara", "locale": ""})
    db_session.refresh(user)
    assert user.timezone == "Africa/Asmara"

    # The service (behind the form, the CLI and JSON) stores a deprecated name as current.
    services.update_profile(user, timezone="America/Atka", locale=None)
    assert user.timezone == "America/Adak"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus", "locale": "en"}, "Choose a time zone from the list."),
        ({"timezone": "posix/Europe/Paris", "locale": "en"}, "Choose a time zone from the list."),
        ({"timezone": "Asia/Baku", "locale": "fr"}, "Choose a language from the list."),
    ],
)
def test_a_zone_or_language_not_in_the_list_is_refused(
    client: FlaskClient, login: Any, db_session: Any, data: dict[str, str], message: str
) -> None:
    user = login(Role.PARTICIPANT)
    response = client.post("/me/profile", data=data)
    assert response.status_code == 200
    assert message in response.text and 'aria-invalid="true"' in response.text
    db_session.refresh(user)
    assert (user.timezone, user.locale) == (None, None)
    assert events(db_session, "user.profile") == []


# --------------------------------------------------------------------------- calendar feed


def _feed_url(client: FlaskClient) -> tuple[str, str]:
    match = FEED.search(client.get("/me/profile").text)
    assert match, "no calendar address on the profile"
    return match.group(1), match.group(2)


def _calendar(client: FlaskClient, url: str) -> Calendar:
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.data)


def _summaries(calendar: Calendar) -> dict[str, str]:
    return {str(e["summary"]).split(" (")[0]: str(e["status"]) for e in calendar.walk("VEVENT")}


def test_a_participant_creates_a_calendar_address_with_their_sessions(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    user = login(Role.PARTICIPANT)
    page = client.get("/me/profile").text
    assert "Create my calendar address" in page and "/calendar/" not in page

    mine = make.cohort(name="My cohort", timezone="Asia/Baku")
    make.enrolment(cohort=mine, person=user.person)
    make.session(cohort=mine, title="Readmission", starts_at=_day(2), ends_at=_day(2, 9))
    make.session(
        cohort=mine,
        title="Smuggling",
        starts_at=_day(3),
        ends_at=_day(3, 9),
        status=SessionStatus.CANCELLED,
    )
    waiting = make.cohort(name="Waiting cohort")
    make.enrolment(
        cohort=waiting, person=user.person, status=EnrolmentStatus.WAITLISTED, waitlist_position=1
    )
    make.session(cohort=waiting, title="Not mine yet", starts_at=_day(4), ends_at=_day(4, 9))
    make.session(title="Someone else's", starts_at=_day(5), ends_at=_day(5, 9))

    response = client.post("/me/profile/calendar")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me/profile#calendar"
    page = client.get("/me/profile").text
    assert "Your calendar address is ready" in page and "Reset the link" in page
    url, token = _feed_url(client)
    db_session.refresh(user)
    assert user.calendar_token == token and len(token) >= 43
    assert [e.object_id for e in events(db_session, "user.calendar_link_create")] == [user.id]

    calendar = _calendar(client, url)
    assert _summaries(calendar) == {"Readmission": "CONFIRMED", "Smuggling": "CANCELLED"}
    event = next(e for e in calendar.walk("VEVENT") if "Readmission" in str(e["summary"]))
    assert str(event["uid"]).endswith("@training.example.org")
    assert event.decoded("dtstart").tzinfo.key == "Asia/Baku"
    assert "My cohort" in str(event["summary"])


def test_a_trainer_gets_the_sessions_they_teach_too(
    client: FlaskClient, login: Any, make: Any
) -> None:
    user = login(Role.TRAINER)
    taught = make.session(title="Taught", starts_at=_day(2), ends_at=_day(2, 9))
    taught.trainers.append(user.person)
    attended = make.cohort()
    make.enrolment(cohort=attended, person=user.person)
    make.session(cohort=attended, title="Attended", starts_at=_day(3), ends_at=_day(3, 9))
    make.session(title="Not theirs", starts_at=_day(4), ends_at=_day(4, 9))
    client.post("/me/profile/calendar")
    url, _token = _feed_url(client)
    assert set(_summaries(_calendar(client, url))) == {"Taught", "Attended"}


def test_resetting_the_link_ends_the_old_address(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.PARTICIPANT)
    client.post("/me/profile/calendar")
    old_url, old = _feed_url(client)
    assert client.get(old_url.removeprefix(BASE)).status_code == 200

    page = client.get("/me/profile").text
    assert re.search(r'<form[^>]*action="/me/profile/calendar"[^>]*data-confirm=', page)
    response = client.post("/me/profile/calendar", follow_redirects=True)
    assert "the old one no longer works" in response.text

    new_url, new = _feed_url(client)
    assert new != old
    gone = client.get(old_url.removeprefix(BASE))
    assert gone.status_code == 404 and "Page not found" in gone.text
    assert client.get(new_url.removeprefix(BASE)).status_code == 200
    assert len(events(db_session, "user.calendar_link_reset")) == 1


@pytest.mark.parametrize("token", ["nonsense", "A" * 43, "x" * 200])
def test_an_unknown_address_is_not_found(client: FlaskClient, token: str) -> None:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 404


def test_the_feed_of_a_deactivated_account_stops(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    user = make.user(Role.PARTICIPANT, calendar_token="t" * 43)
    assert client.get(f"/calendar/{'t' * 43}.ics").status_code == 200
    user.active = False
    db_session.flush()
    assert client.get(f"/calendar/{'t' * 43}.ics").status_code == 404


def test_the_feed_is_private_and_not_indexed(client: FlaskClient, make: Any) -> None:
    make.user(Role.PARTICIPANT, calendar_token="p" * 43)
    response = client.get(f"/calendar/{'p' * 43}.ics")
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.headers["X-Robots-Tag"] == "noindex"


def test_each_user_sees_and_resets_only_their_own_address(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    other = make.user(Role.PARTICIPANT, calendar_token="o" * 43)
    login(Role.PARTICIPANT)
    page = client.get(f"/me/profile?user_id={other.id}").text
    assert "o" * 43 not in page and other.email not in page
    client.post(f"/me/profile/calendar?user_id={other.id}", data={"user_id": other.id})
    client.post("/me/profile", data={"timezone": "UTC", "locale": "en", "user_id": other.id})
    db_session.refresh(other)
    assert (other.calendar_token, other.timezone, other.locale) == ("o" * 43, None, None)


def test_the_participant_home_links_to_the_profile(client: FlaskClient, login: Any) -> None:
    login(Role.PARTICIPANT)
    assert 'href="/me/profile"' in client.get("/me").text
