"""The e-mail pages: the administrators' outbox, the coordinators' message log (their
programmes only) and the message previews."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.mail_fixtures import course
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.mail import outbox
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.mail.previews import PREVIEWS
from trainingmgr.mail.services import Attachment, address, queue
from trainingmgr.people.models import Person

LANGUAGES = ("en", "ru", "az")


def message(
    to: str = "someone@example.org",
    *,
    kind: str = "enrolment_confirmation",
    subject: str = "Hello",
    status: OutboxStatus = OutboxStatus.PENDING,
    minutes_ago: int = 0,
    programme_id: int | None = None,
    html: str | None = "<p>Hello <b>there</b></p>",
    text: str = "Hello there.",
    attachments: list[Attachment] | None = None,
    **values: Any,
) -> OutboxMessage:
    row = queue(
        kind,
        to,
        subject,
        text,
        html,
        attachments or [],
        programme_id=programme_id,
    )
    row.status = status
    row.created_at = utcnow() - timedelta(minutes=minutes_ago)
    if status == OutboxStatus.SENT:
        row.sent_at, row.attempts = utcnow(), 1
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    return row


def rows_shown(page: str) -> int:
    return page.count("data-message-id=")


# --------------------------------------------------------------------------- the outbox


def test_the_outbox_lists_every_message_newest_first(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.ADMIN)
    message("old@example.org", kind="sign_in_link", subject="Sign in", minutes_ago=30)
    message(
        "failed@example.org",
        kind="session_changed",
        subject="Moved",
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="SMTPRecipientsRefused: 550 No such user",
        minutes_ago=20,
    )
    message("new@example.org", subject="Вы записаны", status=OutboxStatus.SENT, minutes_ago=10)

    page = client.get("/admin/outbox").get_data(as_text=True)

    assert page.index("new@example.org") < page.index("failed@example.org")
    assert page.index("failed@example.org") < page.index("old@example.org")
    assert "Вы записаны" in page and "Enrolment confirmation" in page
    assert "550 No such user" in page
    assert 'data-status="failed"' in page and 'data-status="sent"' in page
    assert "Showing 1–3 of 3" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed@example.org"]),
        ("kind=session_changed", ["failed@example.org"]),
        ("recipient=IVAN", ["ivan.petrov@example.org"]),
        ("status=failed&recipient=ivan", []),
        ("status=nonsense", ["ivan.petrov@example.org", "failed@example.org"]),
    ],
)
def test_the_outbox_filters_by_status_kind_and_recipient(
    client: FlaskClient, db_session: Any, login: Any, query: str, expected: list[str]
) -> None:
    login(Role.ADMIN)
    message("failed@example.org", kind="session_changed", status=OutboxStatus.FAILED, minutes_ago=5)
    message(address("Иван Петров", "ivan.petrov@example.org"), status=OutboxStatus.SENT)

    page = client.get(f"/admin/outbox?{query}").get_data(as_text=True)

    shown = [to for to in ("ivan.petrov@example.org", "failed@example.org") if to in page]
    assert shown == expected
    if not expected:
        assert "No message matches these filters." in page


def test_the_kind_filter_names_every_kind_in_the_readers_language(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.ADMIN)
    message("odd@example.org", kind="legacy_reminder")  # a kind no longer sent
    page = client.get("/admin/outbox").get_data(as_text=True)
    menu = re.search(r'<select[^>]*name="kind".*?</select>', page, re.S)
    assert menu is not None
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', menu.group(0))
    assert [value for value, _text in options if value] == [*outbox.KINDS, "legacy_reminder"]
    labels = dict(options)
    assert labels["waitlist_place"] == "Place on the waitlist"
    assert labels["legacy_reminder"] == "legacy_reminder"
    assert all(labels[kind] != kind for kind in outbox.KINDS)  # each has its label
    russian = client.get("/admin/outbox", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert ">Место в листе ожидания</option>" in russian
    # The e-mail is named, not the event: "Ссылка для сброса пароля", not "Пароль сброшен".
    assert ">Ссылка для сброса пароля</option>" in russian


def test_the_outbox_is_paginated(client: FlaskClient, db_session: Any, login: Any) -> None:
    login(Role.ADMIN)
    for n in range(60):
        message(f"person{n}@example.org", minutes_ago=n)

    first = client.get("/admin/outbox").get_data(as_text=True)
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)

    assert rows_shown(first) == 50 and rows_shown(second) == 10
    assert "person0@example.org" in first and "person59@example.org" in second
    assert "Showing 51–60 of 60" in second


def _outbox_queries(client: FlaskClient, count_queries: Any, url: str, n: int) -> int:
    for i in range(n):
        message(f"n{n}-{i}@example.org", status=OutboxStatus.FAILED, last_error="boom")
    db.session.flush()
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200
    db.session.execute(sa.delete(OutboxMessage))
    return q.count


def test_the_outbox_runs_the_same_queries_for_3_and_60_messages(
    client: FlaskClient, db_session: Any, login: Any, count_queries: Any
) -> None:
    login(Role.ADMIN)
    few = _outbox_queries(client, count_queries, "/admin/outbox", 3)
    many = _outbox_queries(client, count_queries, "/admin/outbox", 60)
    assert many == few


def test_one_message_shows_headers_both_parts_and_attachments(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.ADMIN)
    row = message(
        address("Ləman Əliyeva", "leman@example.org"),
        subject="Вы записаны: ნინო",
        html="<p>Hello <script>alert(1)</script></p>",
        attachments=[Attachment("mmdp-baku.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar")],
    )

    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)

    assert "Ləman Əliyeva &lt;leman@example.org&gt;" in page  # the To header, decoded
    assert "Вы записаны: ნინო" in page
    assert "Hello there." in page  # the text part
    assert "mmdp-baku.ics" in page and "text/calendar" in page
    assert f'src="/admin/outbox/{row.id}/body.html"' in page and "sandbox" in page
    assert "<script>alert(1)</script>" not in page  # the HTML part is never inlined

    body = client.get(f"/admin/outbox/{row.id}/body.html")
    assert body.status_code == 200 and body.mimetype == "text/html"
    assert body.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in body.headers["Content-Security-Policy"]
    assert "<p>Hello <script>alert(1)</script></p>" in body.get_data(as_text=True)


def test_a_message_without_html_says_so(client: FlaskClient, db_session: Any, login: Any) -> None:
    login(Role.ADMIN)
    row = message(html=None)

    assert "This message has no HTML part." in client.get(f"/admin/outbox/{row.id}").get_data(
        as_text=True
    )
    assert client.get(f"/admin/outbox/{row.id}/body.html").status_code == 404
    assert client.get("/admin/outbox/999999").status_code == 404


def test_retry_now_puts_a_failed_message_back_in_the_queue(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    admin = login(Role.ADMIN)
    row = message(
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="ConnectionRefusedError",
        next_attempt_at=utcnow() - timedelta(days=1),
    )
    assert "Retry now" in client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)

    response = client.post(f"/admin/outbox/{row.id}/retry", follow_redirects=True)

    assert "will be sent again at the next delivery round" in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == OutboxStatus.PENDING and row.attempts == 0
    assert row.next_attempt_at <= utcnow()
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "mail.retry"))
    assert event.actor_id == admin.id and event.object_id == row.id
    assert event.changes["status"] == ["failed", "pending"]


def test_a_sent_message_is_never_sent_twice(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.ADMIN)
    row = message(status=OutboxStatus.SENT)
    assert "Retry now" not in client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)

    response = client.post(f"/admin/outbox/{row.id}/retry", follow_redirects=True)

    assert "This message was sent already" in response.get_data(as_text=True)
    db.session.refresh(row)
    assert row.status == OutboxStatus.SENT
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail.retry")) is None


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT])
def test_only_administrators_see_the_outbox(
    client: FlaskClient, db_session: Any, login: Any, role: Role
) -> None:
    row = message(status=OutboxStatus.FAILED)
    login(role)

    for url in (
        "/admin/outbox",
        f"/admin/outbox/{row.id}",
        f"/admin/outbox/{row.id}/body.html",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 403
    db.session.refresh(row)
    assert row.status == OutboxStatus.FAILED


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, db_session: Any) -> None:
    for url in ("/admin/outbox", "/messages", "/messages/previews"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


# --------------------------------------------------------------------------- the message log


def _two_programmes(make: Any) -> tuple[Any, Any]:
    mine = make.programme(title="Mine")
    theirs = make.programme(title="Theirs")
    message("mine@example.org", programme_id=mine.id, status=OutboxStatus.SENT, minutes_ago=3)
    message(
        "theirs@example.org",
        programme_id=theirs.id,
        status=OutboxStatus.FAILED,
        last_error="boom",
        minutes_ago=2,
    )
    message("signin@example.org", kind="sign_in_link", minutes_ago=1)  # about no programme
    return mine, theirs


def test_coordinators_see_the_messages_of_their_programmes_only(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    mine, _theirs = _two_programmes(make)
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(mine)

    page = client.get("/messages").get_data(as_text=True)

    assert "mine@example.org" in page
    assert "theirs@example.org" not in page and "signin@example.org" not in page
    assert 'href="/messages"' in page  # in the main navigation
    assert "/admin/outbox" not in page  # no way into the administrators' outbox
    assert "Showing 1–1 of 1" in page


def test_administrators_see_every_message_in_the_log(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    _two_programmes(make)
    login(Role.ADMIN)

    page = client.get("/messages?status=failed").get_data(as_text=True)

    assert "theirs@example.org" in page and "mine@example.org" not in page
    all_page = client.get("/messages").get_data(as_text=True)
    assert rows_shown(all_page) == 3
    assert "/admin/outbox/" in all_page  # each message opens in the outbox
    assert 'href="/admin/outbox"' in all_page  # and the outbox is in the navigation


def test_a_coordinator_without_messages_sees_an_empty_log(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    _two_programmes(make)
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(make.programme(title="Quiet"))

    page = client.get("/messages").get_data(as_text=True)

    assert rows_shown(page) == 0
    assert "No e-mail about your programmes yet." in page


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_have_no_message_pages(
    client: FlaskClient, db_session: Any, login: Any, role: Role
) -> None:
    login(role)
    for url in (
        "/messages",
        "/messages/previews",
        "/messages/previews/enrolment_confirmation/en",
        "/messages/previews/enrolment_confirmation/en/body.html",
    ):
        assert client.get(url).status_code == 403, url


def test_the_log_runs_the_same_queries_for_3_and_45_messages(
    client: FlaskClient, db_session: Any, login: Any, make: Any, count_queries: Any
) -> None:
    programme = make.programme()
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(programme)

    def queries(n: int) -> int:
        for i in range(n):
            message(f"n{n}-{i}@example.org", programme_id=programme.id)
        db.session.flush()
        with count_queries() as q:
            page = client.get("/messages").get_data(as_text=True)
        assert rows_shown(page) == n
        db.session.execute(sa.delete(OutboxMessage))
        return q.count

    assert queries(45) == queries(3)


# --------------------------------------------------------------------------- previews


def test_the_previews_list_every_message_in_every_language(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.COORDINATOR)

    page = client.get("/messages/previews").get_data(as_text=True)

    for key in PREVIEWS:
        for code in LANGUAGES:
            assert f'href="/messages/previews/{key}/{code}"' in page
    assert "Enrolment confirmation" in page and "Session cancelled" in page


def test_every_preview_renders_in_every_language_and_saves_nothing(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.COORDINATOR)
    people_before = db.session.scalar(sa.select(sa.func.count()).select_from(Person))

    for key in PREVIEWS:
        for code in LANGUAGES:
            page = client.get(f"/messages/previews/{key}/{code}")
            assert page.status_code == 200, (key, code)
            text = page.get_data(as_text=True)
            if 'data-testid="preview-missing"' in text:
                continue  # another part of the application writes these templates
            assert 'data-testid="preview-subject"' in text
            body = client.get(f"/messages/previews/{key}/{code}/body.html")
            assert body.status_code == 200
            assert body.headers["Content-Security-Policy"].startswith("sandbox;")
            assert f'<html lang="{code}">' in body.get_data(as_text=True)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == people_before


def test_previews_use_sample_data_when_there_is_nothing_to_show(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(make.programme(title="Empty"))

    page = client.get("/messages/previews/enrolment_confirmation/ru").get_data(as_text=True)

    assert "Shown with sample data" in page
    assert "Здравствуйте, Ləman Əliyeva!" in page  # the Russian greeting
    assert "Migration Management Diploma Programme" in page
    assert "пн, 23 нояб. 2026" in page  # the sample schedule, in Russian


def test_previews_use_the_coordinators_own_records_and_no_one_elses(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    mine = course(make, sessions=2)
    make.enrolment(mine, make.person(first_name="Иван", last_name="Петров"))
    theirs = course(make, sessions=2, name="Elsewhere")
    make.enrolment(theirs, make.person(first_name="Secret", last_name="Stranger"))
    coordinator = login(Role.COORDINATOR)
    coordinator.programmes.append(mine.programme)

    for key in ("enrolment_confirmation", "session_moved", "session_cancelled"):
        page = client.get(f"/messages/previews/{key}/en").get_data(as_text=True)
        assert "Shown with real records of your programmes" in page, key
        assert "Dear Иван Петров," in page, key
        assert "Stranger" not in page and "Elsewhere" not in page, key
    moved = client.get("/messages/previews/session_moved/en").get_data(as_text=True)
    assert "Now: Mon, Mar 4, 2030, 09:00–12:00" in moved
    assert "Was: Sun, Mar 3, 2030, 09:00–12:00" in moved


@pytest.mark.parametrize(
    "url",
    [
        "/messages/previews/no_such_message/en",
        "/messages/previews/enrolment_confirmation/fr",
        "/messages/previews/enrolment_confirmation/fr/body.html",
    ],
)
def test_unknown_previews_are_not_found(
    client: FlaskClient, db_session: Any, login: Any, url: str
) -> None:
    login(Role.COORDINATOR)
    assert client.get(url).status_code == 404


def test_the_outbox_never_shows_the_secret_of_a_one_time_link(
    client: FlaskClient, db_session: Any, login: Any
) -> None:
    login(Role.ADMIN)
    secret = "Xy7_kq-2" * 5
    link = f"https://training.example.org/login/link/{secret}"
    row = message(
        "leman@example.org",
        subject="Your sign-in link",
        text=f"Sign in: {link}\n",
        html=f'<p><a href="{link}">Sign in</a></p>',
    )

    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    body = client.get(f"/admin/outbox/{row.id}/body.html").get_data(as_text=True)

    assert "https://training.example.org/login/link/••••••" in page
    assert "/login/link/••••••" in body
    assert secret not in page and secret not in body


def test_a_message_the_worker_has_not_written_yet_says_so(
    client: FlaskClient, db_session: Any, login: Any, make: Any
) -> None:
    from trainingmgr.enrolments import services as enrolments

    login(Role.ADMIN)
    cohort = course(make)
    person = make.person(email="later@example.org")
    enrolments.enrol_people(cohort.id, [person.id], actor=None, defer_mail=True)
    row = db.session.scalars(sa.select(OutboxMessage)).one()

    listing = client.get("/admin/outbox").get_data(as_text=True)
    page = client.get(f"/admin/outbox/{row.id}").get_data(as_text=True)
    assert "later@example.org" in listing and "(not written yet)" in listing
    assert "Not written yet: the mail worker writes this message" in page
    assert client.get(f"/admin/outbox/{row.id}/body.html").status_code == 404
