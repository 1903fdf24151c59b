"""The audit trail page (/audit), its CSV export, and the guard keeping events unchangeable."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from trainingmgr.accounts.models import Role
from trainingmgr.audit import queries
from trainingmgr.audit import services as audit
from trainingmgr.audit.models import AuditEvent
from trainingmgr.audit.services import AuditTrailIsAppendOnly
from trainingmgr.extensions import db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def event(action: str, at: datetime = T0, **kw: Any) -> AuditEvent:
    """An event recorded at ``at`` (set before it is written)."""
    recorded = audit.record(action, **kw)
    recorded.at = at
    db.session.flush()
    return recorded


def rows(html: str) -> list[str]:
    """The event ids shown, in order."""
    return re.findall(r'data-testid="audit-event-(\d+)"', html)


def get(client: Any, **args: Any) -> tuple[int, str]:
    response = client.get("/audit", query_string=args)
    return response.status_code, response.get_data(as_text=True)


def test_an_admin_sees_every_event_newest_first_in_words(
    client: Any, make: Any, login: Any
) -> None:
    admin = login("admin", display_name="Ada Admin", timezone="Asia/Baku")
    programme = make.programme(code="RTCM")
    cohort = make.cohort(programme)
    person = make.person(first_name="Ləman", last_name="Əliyeva")
    cert = make.certificate(make.enrolment(cohort=cohort, person=person))
    old = event(
        "cohort.update",
        at=T0,
        actor=admin,
        obj=cohort,
        programme_id=programme.id,
        changes={"name": ["Baku A", "Baku B"], "capacity": [None, 20]},
        summary="Cohort renamed",
        ip="192.0.2.7",
    )
    revoke = event(
        "certificate.revoke",
        at=T0 + timedelta(hours=1),
        actor=admin,
        obj=cert,
        programme_id=programme.id,
        changes={"status": ["valid", "revoked"], "reason": "Mistake"},
    )
    system = event(
        "mail.bounced",
        at=T0 + timedelta(hours=2),
        object_type="people",
        object_id=person.id,
        changes={"details": {"code": 550, "reasons": ["no such user", "blocked"]}},
    )

    status, html = get(client)

    assert status == 200
    shown = rows(html)
    assert shown.index(str(system.id)) < shown.index(str(revoke.id)) < shown.index(str(old.id))
    assert "Cohort changed" in html and "Certificate revoked" in html
    assert "mail.bounced" in html  # an action with no label is shown as recorded
    assert "Ada Admin" in html and ">system<" in html
    assert "Baku A" in html and "Baku B" in html and "→" in html
    assert "Reason:</span> Mistake" in html
    assert "Valid</span>" in html and "Revoked</span>" in html  # enum values as labels
    assert "Details:</span> Code: 550, reasons: no such user, blocked" in html  # a dict in words
    assert "192.0.2.7" in html and "Cohort renamed" in html
    assert f'href="/cohorts/{cohort.id}"' in html
    assert f'href="/people/{person.id}"' in html
    assert f'href="/verify/{cert.verification_code}"' in html
    # When: in the reader's time zone (12:00 UTC is 16:00 in Baku).
    assert "Mar 1, 2026, 16:00" in html


def test_a_deleted_object_is_not_linked(client: Any, make: Any, login: Any) -> None:
    login("admin")
    programme = make.programme()
    gone = event(
        "cohort.delete", object_type="cohorts", object_id=987654, programme_id=programme.id
    )

    _status, html = get(client)

    assert str(gone.id) in rows(html)
    assert "Cohort no. 987654" in html and 'href="/cohorts/987654"' not in html


def test_a_coordinator_sees_only_the_events_of_their_programmes(
    client: Any, make: Any, login: Any
) -> None:
    mine, theirs = make.programme(code="MINE"), make.programme(code="THEIRS")
    login(Role.COORDINATOR, programmes=[mine])
    own = event("programme.update", obj=mine, programme_id=mine.id, summary="own change")
    other = event("programme.update", obj=theirs, programme_id=theirs.id, summary="other change")
    account = event("auth.sign_in", object_type="users", object_id=1, summary="no programme")

    status, html = get(client)

    assert status == 200
    assert rows(html) == [str(own.id)]
    assert "other change" not in html and "no programme" not in html
    assert "THEIRS" not in html  # not even among the programme filter's options
    assert "Changes to the programmes you coordinate" in html
    # Asking for the other programme by its id shows nothing either.
    _status, html = get(client, programme=theirs.id)
    assert rows(html) == [] and "No event matches these filters." in html
    text = client.get("/audit.csv").get_data(as_text=True)
    assert "own change" in text and "other change" not in text and "no programme" not in text
    assert other.id and account.id


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_are_refused(
    client: Any, login: Any, role: Role, db_session: Any
) -> None:
    login(role)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert "Audit trail" not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client: Any, db_session: Any) -> None:
    response = client.get("/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_navigation_links_to_the_audit_trail(client: Any, login: Any, db_session: Any) -> None:
    login("coordinator")
    html = client.get("/people/").get_data(as_text=True)
    assert 'href="/audit"' in html and "Audit trail" in html


def test_filter_by_who(client: Any, make: Any, login: Any) -> None:
    admin = login("admin")
    alice = make.user(display_name="Alice Aliyeva", email="alice@example.org")
    bob = make.user(display_name="Bob", email="bob.builder@example.org")
    a = event("person.update", actor=alice, summary="by alice")
    b = event("person.update", actor=bob, summary="by bob")
    s = event("person.update", summary="by nobody")
    mine = event("auth.sign_in", actor=admin, summary="admin signs in")

    assert rows(get(client, actor="alice")[1]) == [str(a.id)]
    assert rows(get(client, actor="ALIYEVA")[1]) == [str(a.id)]
    assert rows(get(client, actor="bob.builder@")[1]) == [str(b.id)]
    assert rows(get(client, actor=str(bob.id))[1]) == [str(b.id)]
    assert rows(get(client, actor="system")[1]) == [str(s.id)]
    assert rows(get(client, actor="100%")[1]) == []  # % is a character, not a wildcard
    assert str(mine.id) in rows(get(client)[1])


def test_filter_by_action_object_and_programme(client: Any, make: Any, login: Any) -> None:
    login("admin")
    p1, p2 = make.programme(), make.programme()
    c1 = make.cohort(p1)
    issued = event("certificate.issue", object_type="certificates", object_id=5, programme_id=p1.id)
    changed = event("cohort.update", obj=c1, programme_id=p1.id)
    other = event("cohort.update", object_type="cohorts", object_id=99, programme_id=p2.id)

    assert rows(get(client, action="certificate.issue")[1]) == [str(issued.id)]
    assert set(rows(get(client, object_type="cohorts")[1])) == {str(changed.id), str(other.id)}
    assert set(rows(get(client, programme=p1.id)[1])) == {str(issued.id), str(changed.id)}
    status, html = get(client, object_type="cohorts", object_id=c1.id)
    assert rows(html) == [str(changed.id)]
    assert f"Only the events of object number {c1.id}." in html
    # The filter form keeps what was chosen.
    html = get(client, action="certificate.issue")[1]
    assert '<option value="certificate.issue" selected>Certificate issued</option>' in html


def test_dates_are_days_in_the_readers_time_zone(client: Any, make: Any, login: Any) -> None:
    # 21:30 UTC on 1 March is 01:30 on 2 March in Baku (UTC+4).
    late = event("person.update", at=datetime(2026, 3, 1, 21, 30, tzinfo=UTC), summary="late")
    early = event("person.update", at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC), summary="early")
    baku = make.user(role=Role.ADMIN, timezone="Asia/Baku")
    login(user=baku)

    html = get(client, date_from="2026-03-02", date_to="2026-03-02")[1]
    assert rows(html) == [str(late.id)]
    assert "Dates and times are in your time zone: Azerbaijan" in html
    assert rows(get(client, date_to="2026-03-01")[1]) == [str(early.id)]

    utc = make.user(role=Role.ADMIN, timezone="UTC")
    login(user=utc)
    assert set(rows(get(client, date_from="2026-03-01", date_to="2026-03-01")[1])) == {
        str(late.id),
        str(early.id),
    }


def test_a_wrong_date_is_explained_and_ignored(client: Any, login: Any, db_session: Any) -> None:
    login("admin")
    shown = event("person.update", summary="still listed")

    status, html = get(client, date_from="31/03/2026")
    assert status == 200
    assert "is not a date: use the form 2026-03-31." in html and str(shown.id) in rows(html)

    status, html = get(client, date_from="2026-03-05", date_to="2026-03-01")
    assert status == 200 and "The end date is before the start date." in html


def test_csv_export_is_filtered_streamed_and_safe(client: Any, make: Any, login: Any) -> None:
    admin = login("admin", display_name="Ada Admin", timezone="UTC")
    event(
        "person.update",
        actor=admin,
        summary='=HYPERLINK("http://evil.example","click")',
        changes={"organisation": ["UN", "+SUM(A1:A9)"]},
        ip="192.0.2.9",
    )
    event("cohort.update", summary="not exported")

    response = client.get("/audit.csv", query_string={"action": "person.update"})

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][:5] == ["When (UTC)", "When (UTC, ISO 8601)", "Who", "Who (e-mail)", "Action"]
    [row] = table[1:]
    assert row[2] == "Ada Admin" and row[4] == "Person changed" and row[5] == "person.update"
    assert row[9] == "Organisation: UN → +SUM(A1:A9)"  # not at a cell's start: left alone
    assert row[11] == '\'=HYPERLINK("http://evil.example","click")'
    assert row[12] == "192.0.2.9"
    assert "not exported" not in text
    exported = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "audit.export")
    ).one()
    assert exported.actor_id == admin.id
    assert exported.changes == {"filters": {"action": "person.update"}}


def test_a_page_costs_the_same_queries_for_6_or_200_events(
    client: Any, make: Any, login: Any, count_queries: Any
) -> None:
    login("admin")
    programme = make.programme()
    cohort = make.cohort(programme)
    person = make.person()
    actors = [make.user(display_name=f"Actor {i}") for i in range(3)]

    def add(n: int) -> None:
        for i in range(n):
            kinds = [
                {"obj": cohort},
                {"obj": programme},
                {"obj": person},
                {"object_type": "sessions", "object_id": 1},
                {"object_type": "enrolments", "object_id": 1},
                {"object_type": "certificates", "object_id": 1},
            ]
            event(
                "cohort.update",
                at=T0 + timedelta(minutes=i),
                actor=actors[i % 3],
                programme_id=programme.id,
                changes={"name": [f"a{i}", f"b{i}"]},
                **kinds[i % len(kinds)],
            )

    add(6)  # one of each kind of linked object
    client.get("/audit")  # warm up (first-request work)
    with count_queries() as small:
        assert client.get("/audit").status_code == 200
    add(194)
    with count_queries() as large:
        html = client.get("/audit", query_string={"per_page": 200}).get_data(as_text=True)
    assert len(rows(html)) == 200
    assert large.count == small.count
    assert "Showing 1–50 of 200" in client.get("/audit").get_data(as_text=True)


def test_a_long_trail_is_counted_up_to_a_cap_and_every_page_still_reachable(
    client: Any, make: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "COUNT_LIMIT", 4)
    login("admin")
    programme = make.programme()
    for i in range(7):
        event("programme.update", at=T0 + timedelta(minutes=i), obj=programme)

    first = client.get("/audit", query_string={"per_page": 2}).get_data(as_text=True)
    assert "Showing 1–2 of more than 4" in first
    assert len(rows(first)) == 2
    # The last events are reached by going on, page after page.
    last = client.get("/audit", query_string={"per_page": 2, "page": 4}).get_data(as_text=True)
    assert len(rows(last)) == 1
    assert "Showing 7–7 of 7" in last


# --- The trail cannot be changed ------------------------------------------------------------


def test_changing_a_recorded_event_is_refused(db_session: Any) -> None:
    recorded = audit.record("person.update", summary="as it happened")
    db_session.commit()

    recorded.summary = "rewritten history"
    with pytest.raises(AuditTrailIsAppendOnly, match="append-only"):
        db_session.flush()
    db_session.rollback()
    assert db_session.get(AuditEvent, recorded.id).summary == "as it happened"


def test_deleting_a_recorded_event_is_refused(db_session: Any) -> None:
    recorded = audit.record("person.update")
    db_session.commit()

    db_session.delete(recorded)
    with pytest.raises(AuditTrailIsAppendOnly, match="cannot be deleted"):
        db_session.flush()
    db_session.rollback()
    assert db_session.get(AuditEvent, recorded.id) is not None


def test_bulk_updates_and_deletes_of_events_are_refused(db_session: Any) -> None:
    audit.record("person.update", summary="kept")
    db_session.commit()

    with pytest.raises(AuditTrailIsAppendOnly, match="cannot be changed"):
        db_session.execute(sa.update(AuditEvent).values(summary="gone"))
    with pytest.raises(AuditTrailIsAppendOnly, match="cannot be deleted"):
        db_session.execute(sa.delete(AuditEvent))
    db_session.rollback()
    assert db_session.scalars(sa.select(AuditEvent.summary)).all() == ["kept"]


def test_recording_new_events_still_works(db_session: Any) -> None:
    first = audit.record("person.update", summary="one")
    first.summary = "one, before it is written"  # not recorded yet: may still be completed
    db_session.flush()
    audit.record("person.update", summary="two")
    db_session.commit()
    assert sorted(db_session.scalars(sa.select(AuditEvent.summary))) == [
        "one, before it is written",
        "two",
    ]


def test_every_action_the_app_records_has_a_label_in_words() -> None:
    """The audit page shows actions in words: a new ``audit.record("x.y", ...)`` needs a label."""
    import ast
    from pathlib import Path

    from trainingmgr.audit.queries import ACTION_LABELS

    package = Path(__file__).resolve().parent.parent / "trainingmgr"
    recorded: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "func", None)
            if not (isinstance(node, ast.Call) and node.args):
                continue
            if getattr(name, "attr", getattr(name, "id", None)) not in (
                "record",
                "record_created",
                "_record",
                "_record_signatory",
                "_record_unknown",
            ):
                continue
            first = node.args[0]
            branches = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            recorded |= {
                b.value
                for b in branches
                if isinstance(b, ast.Constant) and isinstance(b.value, str)
            }
    assert len(recorded) > 40
    assert sorted(recorded - set(ACTION_LABELS)) == []


def _changes_keys(node: ast.AST) -> set[str]:
    """The string keys of the dicts written as ``changes`` (``changes={...}`` or a
    ``"changes": {...}`` entry) in ``node``'s tree, with those of the dicts in them."""
    keys: set[str] = set()
    for item in ast.walk(node):
        values = []
        if isinstance(item, ast.keyword) and item.arg == "changes":
            values.append(item.value)
        if isinstance(item, ast.Dict):
            values += [
                v
                for k, v in zip(item.keys, item.values, strict=True)
                if isinstance(k, ast.Constant) and k.value == "changes"
            ]
        for value in values:  # with the dicts spread into it or nested (shown with labels)
            for inner in ast.walk(value):
                if isinstance(inner, ast.Dict):
                    keys |= {
                        k.value
                        for k in inner.keys
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                    }
    return keys


def test_every_field_the_app_records_has_a_label_in_words() -> None:
    """The audit page names what changed in words ("Serial number", not "serial"): a new key
    in an event's ``changes`` needs a label (``audit/labels.py``)."""
    from pathlib import Path

    from trainingmgr.audit.labels import FIELD_LABELS

    package = Path(__file__).resolve().parent.parent / "trainingmgr"
    recorded: set[str] = set()
    for path in package.rglob("*.py"):
        recorded |= _changes_keys(ast.parse(path.read_text()))
    assert len(recorded) > 30
    assert sorted(recorded - set(FIELD_LABELS)) == []


def test_every_stored_choice_has_a_label_in_words(app: Any) -> None:
    """Stored values (a signing key's "generated", a status) are shown with their labels in
    the audit trail and on the pages: every member of every ``Choice`` has one."""
    from trainingmgr.core.labels import LABELS
    from trainingmgr.core.types import Choice

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    members = {m.value: f"{cls.__name__}.{m.name}" for cls in subclasses(Choice) for m in cls}
    assert len(members) > 40
    assert sorted(name for value, name in members.items() if value not in LABELS) == []
