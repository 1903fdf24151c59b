"""QR self check-in: rotating tokens (expiry, replay, forgery, other sessions), present or
late after the cohort's grace minutes, refusals with clear messages, and the pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import sqlalchemy as sa

from trainingmgr.accounts.models import Role
from trainingmgr.attendance import checkin as tokens
from trainingmgr.attendance import self_checkin
from trainingmgr.attendance.models import AttendanceRecord, AttendanceSource, AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

START = datetime(2026, 3, 5, 5, 0, tzinfo=UTC)  # 09:00 in Baku


def setup(make: Any, starts_at: datetime = START, grace: int = 15) -> SimpleNamespace:
    cohort = make.cohort(late_grace_minutes=grace)
    session = make.session(cohort=cohort, starts_at=starts_at)
    trainer = make.user(role=Role.TRAINER)
    session.trainers.append(trainer.person)
    participant = make.user(role=Role.PARTICIPANT)
    enrolment = make.enrolment(cohort=cohort, person=participant.person)
    db.session.flush()
    return SimpleNamespace(
        cohort=cohort, session=session, trainer=trainer, user=participant, enrolment=enrolment
    )


def records(session_id: int) -> list[AttendanceRecord]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AttendanceRecord).where(AttendanceRecord.session_id == session_id)
        )
    )


def refused(s: SimpleNamespace, token: str, at: datetime, user: Any = None) -> str:
    with pytest.raises(DomainError) as err:
        self_checkin.check_in(s.session.id, token, now=at, actor=user or s.user)
    assert records(s.session.id) == []
    return err.value.message


# --------------------------------------------------------------------------- tokens


def test_token_rotates_every_30_seconds_and_previous_one_is_accepted(app: Any) -> None:
    with app.app_context():
        t0 = datetime(2026, 3, 5, 5, 0, 0, tzinfo=UTC)
        token = tokens.current_token(7, t0)
        assert tokens.current_token(7, t0 + timedelta(seconds=29)) == token
        assert tokens.current_token(7, t0 + timedelta(seconds=30)) != token
        assert tokens.check_token(7, token, t0) is tokens.TokenCheck.VALID
        assert tokens.check_token(7, token, t0 + timedelta(seconds=59)) is tokens.TokenCheck.VALID
        later = t0 + timedelta(seconds=60)
        assert tokens.check_token(7, token, later) is tokens.TokenCheck.EXPIRED
        assert tokens.check_token(8, token, t0) is tokens.TokenCheck.INVALID
        assert tokens.check_token(7, "A" * 16, t0) is tokens.TokenCheck.INVALID
        assert tokens.check_token(7, "", t0) is tokens.TokenCheck.INVALID
        assert len(token) == 16


def test_token_depends_on_the_secret_key(app: Any) -> None:
    with app.app_context():
        token = tokens.current_token(7, START)
        original = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "another-key"
        try:
            assert tokens.check_token(7, token, START) is tokens.TokenCheck.INVALID
        finally:
            app.config["SECRET_KEY"] = original


# --------------------------------------------------------------------------- service


def test_check_in_on_time_is_present(make: Any, db_session: Any) -> None:
    s = setup(make)
    at = START + timedelta(minutes=15)  # exactly the grace period

    result = self_checkin.check_in(
        s.session.id, tokens.current_token(s.session.id, at), now=at, actor=s.user
    )

    assert (result.status, result.already) == (AttendanceStatus.PRESENT, False)
    [record] = records(s.session.id)
    assert record.enrolment_id == s.enrolment.id
    assert (record.source, record.recorded_by_id) == (AttendanceSource.CHECK_IN, s.user.id)


def test_check_in_after_grace_is_late(make: Any, db_session: Any) -> None:
    s = setup(make, grace=10)
    at = START + timedelta(minutes=10, seconds=1)

    result = self_checkin.check_in(
        s.session.id, tokens.current_token(s.session.id, at), now=at, actor=s.user
    )

    assert result.status == AttendanceStatus.LATE
    assert records(s.session.id)[0].status == AttendanceStatus.LATE


def test_scan_just_before_rotation_still_works(make: Any, db_session: Any) -> None:
    s = setup(make)
    shown = START + timedelta(seconds=29)
    token = tokens.current_token(s.session.id, shown)

    result = self_checkin.check_in(
        s.session.id, token, now=shown + timedelta(seconds=25), actor=s.user
    )

    assert result.status == AttendanceStatus.PRESENT


def test_expired_token_is_refused(make: Any, db_session: Any) -> None:
    s = setup(make)
    token = tokens.current_token(s.session.id, START)
    message = refused(s, token, START + timedelta(seconds=75))
    assert "expired" in message


def test_forged_token_and_token_of_another_session_are_refused(make: Any, db_session: Any) -> None:
    s = setup(make)
    other = make.session(cohort=s.cohort, starts_at=START)
    assert "not valid" in refused(s, "forgedforgedforg", START)
    assert "not valid" in refused(s, tokens.current_token(other.id, START), START)
    assert "not valid" in refused(s, "x" * 500, START)


def test_replayed_check_in_changes_nothing(make: Any, db_session: Any) -> None:
    s = setup(make)
    token = tokens.current_token(s.session.id, START)
    self_checkin.check_in(s.session.id, token, now=START, actor=s.user)

    again = self_checkin.check_in(
        s.session.id, token, now=START + timedelta(seconds=20), actor=s.user
    )

    assert again.already and again.status == AttendanceStatus.PRESENT
    [record] = records(s.session.id)
    assert (record.version, record.recorded_at) == (1, START)


def test_not_enrolled_withdrawn_and_unlinked_users_are_refused(make: Any, db_session: Any) -> None:
    s = setup(make)
    token = tokens.current_token(s.session.id, START)
    outsider = make.user(role=Role.PARTICIPANT)
    make.enrolment(person=outsider.person)  # enrolled, but in another cohort
    coordinator_without_person = make.user(role=Role.COORDINATOR)

    assert "not enrolled" in refused(s, token, START, user=outsider)
    assert "not enrolled" in refused(s, token, START, user=coordinator_without_person)
    s.enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.flush()
    assert "not enrolled" in refused(s, token, START)


def test_session_over_not_open_or_cancelled_is_refused(make: Any, db_session: Any) -> None:
    s = setup(make)

    def token(at: datetime) -> str:
        return tokens.current_token(s.session.id, at)

    after = s.session.ends_at + timedelta(seconds=1)
    assert "over" in refused(s, token(after), after)
    early = START - timedelta(minutes=31)
    assert "opens at" in refused(s, token(early), early)
    opening = START - timedelta(minutes=30)
    assert self_checkin.check_in(
        s.session.id, token(opening), now=opening, actor=s.user
    ).status == (AttendanceStatus.PRESENT)
    s2 = setup(make)
    s2.session.status = SessionStatus.CANCELLED
    db.session.flush()
    assert "cancelled" in refused(s2, tokens.current_token(s2.session.id, START), START)


def test_check_in_after_being_marked_absent_becomes_late_and_is_audited(
    make: Any, db_session: Any
) -> None:
    s = setup(make)
    make.attendance(s.session, s.enrolment, AttendanceStatus.ABSENT, recorded_by_id=s.trainer.id)
    at = START + timedelta(minutes=40)

    result = self_checkin.check_in(
        s.session.id, tokens.current_token(s.session.id, at), now=at, actor=s.user
    )

    assert result.status == AttendanceStatus.LATE
    [record] = records(s.session.id)
    assert (record.status, record.version, record.recorded_by_id) == (
        AttendanceStatus.LATE,
        2,
        s.user.id,
    )
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "attendance.correct")
    ).one()
    assert event.changes["status"] == ["absent", "late"]


def test_confirmation_ticket_is_bound_to_user_and_session(make: Any, db_session: Any) -> None:
    s = setup(make)
    expired_token = tokens.current_token(s.session.id, START - timedelta(minutes=5))
    other = make.user(role=Role.PARTICIPANT)
    make.enrolment(cohort=s.cohort, person=other.person)
    ticket = tokens.confirmation_ticket(s.session.id, s.user.id)

    with pytest.raises(DomainError):  # someone else's ticket
        self_checkin.check_in(s.session.id, expired_token, ticket=ticket, now=START, actor=other)
    with pytest.raises(DomainError):  # a ticket of another session
        self_checkin.check_in(
            s.session.id,
            expired_token,
            ticket=tokens.confirmation_ticket(s.session.id + 1, s.user.id),
            now=START,
            actor=s.user,
        )
    result = self_checkin.check_in(
        s.session.id, expired_token, ticket=ticket, now=START, actor=s.user
    )
    assert result.status == AttendanceStatus.PRESENT


# --------------------------------------------------------------------------- pages


def live_setup(make: Any) -> SimpleNamespace:
    return setup(make, starts_at=utcnow() - timedelta(minutes=5))


def test_scan_when_signed_out_goes_to_sign_in_and_back(
    client: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"

    response = client.get(path)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert path in unquote(response.headers["Location"])


def _scan_signed_out(client: Any, path: str) -> str:
    """Open a check-in link signed out: the address the sign-in comes back to."""
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    [back] = parse_qs(location.query)["next"]
    assert back.startswith(path + "?scan=")
    return back


def test_a_sign_in_of_minutes_after_scanning_does_not_expire_the_code(
    client: Any, login: Any, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    s = live_setup(make)  # started 5 minutes ago, 15 minutes of grace
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"
    back = _scan_signed_out(client, path)
    ten_minutes_later = utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(self_checkin, "utcnow", lambda: ten_minutes_later)
    login(user=s.user)

    # The code itself has expired meanwhile: without the scan ticket it is refused.
    expired = client.get(path)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)

    page = client.get(back)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="check-me-in"' in html
    assert 'data-testid="checkin-will-be-late"' not in html  # judged by the scan's time
    response = client.post(back)
    assert response.status_code == 302
    [record] = records(s.session.id)
    assert record.enrolment_id == s.enrolment.id
    assert record.status is AttendanceStatus.PRESENT  # scanned within the grace minutes


def test_a_scan_in_the_last_minutes_counts_when_the_sign_in_ends_after_the_session(
    client: Any, login: Any, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    """Someone scanning while the session runs is checked in even if signing in takes them
    past its end: check-in is judged open (and late or not) at the moment of the scan."""
    now = utcnow()
    s = setup(make, starts_at=now - timedelta(minutes=58))  # ends in 2 minutes (1 h long)
    s.session.ends_at = now + timedelta(minutes=2)
    db.session.flush()
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, now)}"
    back = _scan_signed_out(client, path)
    after_the_end = now + timedelta(minutes=6)
    monkeypatch.setattr(self_checkin, "utcnow", lambda: after_the_end)
    login(user=s.user)
    assert client.post(back).status_code == 302
    [record] = records(s.session.id)
    assert record.status is AttendanceStatus.LATE  # 58 minutes after the start
    # Without a scan from the session's time, the session being over is still refused.
    other = setup(make, starts_at=now - timedelta(minutes=58))
    other.session.ends_at = now + timedelta(minutes=2)
    login(user=other.user)
    late = f"/checkin/{other.session.id}/{tokens.current_token(other.session.id, after_the_end)}"
    assert "This session is over" in client.post(late).get_data(as_text=True)
    assert records(other.session.id) == []


def test_a_signed_out_scan_of_a_cancelled_session_says_so_before_the_sign_in(
    client: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    s.session.status = SessionStatus.CANCELLED
    db.session.flush()
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"
    response = client.get(path)
    assert response.status_code == 400  # not sent to sign in first
    assert "This session was cancelled" in response.get_data(as_text=True)


def test_a_scan_ticket_is_bound_to_its_session_unforgeable_and_expires(
    client: Any, login: Any, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    s = live_setup(make)
    other = make.session(cohort=s.cohort, starts_at=s.session.starts_at + timedelta(hours=3))
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"
    back = _scan_signed_out(client, path)
    scan = back.split("?scan=", 1)[1]
    later = utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(self_checkin, "utcnow", lambda: later)
    login(user=s.user)
    stale = tokens.current_token(other.id, utcnow())
    for refused_path in (
        f"/checkin/{other.id}/{stale}?scan={scan}",  # another session's code
        f"{path}?scan={scan[:-2]}xx",  # tampered
    ):
        assert client.get(refused_path).status_code == 400
    monkeypatch.setattr(tokens, "SCAN_SECONDS", -1)  # older than it may be
    assert client.get(back).status_code == 400
    assert records(s.session.id) == []


def test_an_expired_code_scanned_signed_out_says_so_without_sign_in(
    client: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    token = tokens.current_token(s.session.id, utcnow() - timedelta(minutes=3))
    response = client.get(f"/checkin/{s.session.id}/{token}")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_get_shows_confirmation_and_writes_nothing_then_post_checks_in(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    login(user=s.user)
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"

    page = client.get(path)

    assert page.status_code == 200
    assert 'data-testid="check-me-in"' in page.get_data(as_text=True)
    assert records(s.session.id) == []

    response = client.post(path, data={"enrolment_id": "999", "person_id": "999"})

    assert response.status_code == 302
    [record] = records(s.session.id)
    assert record.enrolment_id == s.enrolment.id  # always the signed-in user's own
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="checkin-done"' in done and "Present" in done


def test_the_done_page_is_only_for_the_checked_in_participant_and_the_sessions_staff(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    make.attendance(s.session, s.enrolment, AttendanceStatus.PRESENT)
    path = f"/checkin/{s.session.id}/done"
    other_cohort = make.user(role=Role.PARTICIPANT)
    make.enrolment(cohort=make.cohort(), person=other_cohort.person)
    classmate = make.user(role=Role.PARTICIPANT)  # same cohort, not checked in
    make.enrolment(cohort=s.cohort, person=classmate.person)
    other_programme = make.user(role=Role.COORDINATOR, programmes=[make.programme()])

    for user, status in [
        (s.user, 200),
        (s.trainer, 200),
        (other_cohort, 404),
        (classmate, 404),
        (other_programme, 404),
    ]:
        login(user=user)
        page = client.get(path)
        assert page.status_code == status, user.email
        assert (s.session.title in page.get_data(as_text=True)) == (status == 200)


def test_nobody_can_check_in_someone_else(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    intruder = make.user(role=Role.PARTICIPANT)  # not enrolled
    login(user=intruder)
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"

    response = client.post(path, data={"enrolment_id": str(s.enrolment.id)})

    assert response.status_code == 400
    assert "not enrolled" in response.get_data(as_text=True)
    assert records(s.session.id) == []


def test_refused_pages_say_why(client: Any, login: Any, make: Any, db_session: Any) -> None:
    s = live_setup(make)
    login(user=s.user)

    forged = client.get(f"/checkin/{s.session.id}/notarealtoken")
    expired_token = tokens.current_token(s.session.id, utcnow() - timedelta(minutes=3))
    expired = client.post(f"/checkin/{s.session.id}/{expired_token}")

    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    assert client.get("/checkin/999999/whatever").status_code == 404
    assert records(s.session.id) == []


def test_check_in_post_needs_csrf_token(
    app: Any, client: Any, login: Any, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    s = live_setup(make)
    login(user=s.user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    path = f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}"

    response = client.post(path)

    assert response.status_code == 400
    assert records(s.session.id) == []


def test_checkin_screen_and_code_endpoint(
    app: Any, client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    login(user=s.trainer)

    page = client.get(f"/sessions/{s.session.id}/checkin-screen").get_data(as_text=True)
    response = client.get(f"/sessions/{s.session.id}/checkin-code.json")

    assert "<svg" in page and "checkin-qr" in page and "<script>" not in page
    assert response.status_code == 200
    data = json.loads(response.get_data(as_text=True))
    prefix = f"https://training.example.org/checkin/{s.session.id}/"
    assert data["url"].startswith(prefix)
    assert data["svg"].startswith("<svg") and 0 < data["expires_in"] <= 30
    assert (data["checked_in"], data["enrolled"]) == (0, 1)
    token = data["url"].removeprefix(prefix)
    with app.app_context():
        assert tokens.check_token(s.session.id, token, utcnow()) is tokens.TokenCheck.VALID


def test_checkin_screen_of_a_cancelled_session_says_so_instead_of_showing_a_code(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    """Participants scanning it would be refused: the screen shows why, and no code."""
    s = live_setup(make)
    s.session.status = SessionStatus.CANCELLED
    db.session.flush()
    login(user=s.trainer)

    page = client.get(f"/sessions/{s.session.id}/checkin-screen").get_data(as_text=True)

    assert "This session was cancelled: there is nothing to check in to." in page
    assert "<svg" not in page and "Scan this code" not in page
    assert f"/checkin/{s.session.id}/" not in page
    data = client.get(f"/sessions/{s.session.id}/checkin-code.json").get_json()
    assert data["closed"] == "This session was cancelled: there is nothing to check in to."
    assert "url" not in data and "svg" not in data


def test_checkin_screen_is_only_for_the_sessions_trainers_and_coordinators(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    for user in (make.user(role=Role.TRAINER), s.user):
        login(user=user)
        assert client.get(f"/sessions/{s.session.id}/checkin-screen").status_code == 403
        assert client.get(f"/sessions/{s.session.id}/checkin-code.json").status_code == 403
    login(Role.COORDINATOR)
    assert client.get(f"/sessions/{s.session.id}/checkin-screen").status_code == 200


def test_opening_the_link_when_already_recorded_says_so(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = live_setup(make)
    make.attendance(s.session, s.enrolment, AttendanceStatus.PRESENT, recorded_by_id=s.trainer.id)
    login(user=s.user)

    page = client.get(f"/checkin/{s.session.id}/{tokens.current_token(s.session.id, utcnow())}")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "already recorded" in text and "check-me-in" not in text
