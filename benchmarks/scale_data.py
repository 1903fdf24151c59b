"""Realistic data at real size for ``benchmarks.scale``, written with PostgreSQL's COPY.

100,000 people, 20 programmes, 300 cohorts, about 6,000 sessions, 150,000 enrolments,
1.5 million attendance records, 20,000 certificates and 200,000 audit events, in under a
minute on a 2-core machine. The schema comes from the migrations (so their indexes are the
ones measured). Fixed shapes the benchmark relies on (see ``Ids``):

- programmes 1 and 2 are coordinated by ``coordinator@bench.invalid`` (programme scope);
- cohort 1 (programme 1) has 120 people and 61 sessions: 60 recorded, the last one today's
  roster, taught by the trainer ``trainer@bench.invalid``;
- cohort 2 (programme 1) has 1,829 people;
- people 85,001 to 100,000 are enrolled nowhere (a coordinator sees them too).
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from trainingmgr.attendance import totals
from trainingmgr.core.text import fold

PEOPLE = 100_000
ENROLLED_PEOPLE = 85_000  # the rest are enrolled nowhere
PROGRAMMES = 20
COHORTS = 300
SESSIONS_PER_COHORT = 20
ROSTER_PEOPLE = 120
ROSTER_SESSIONS = 60
BIG_COHORT_PEOPLE = 1_829
ENROLMENTS = 150_000
CERTIFICATES = 20_000
AUDIT_EVENTS = 200_000
TRAINERS = 200

FIRST = {
    "AZ": ["Ləman", "Elvin", "Aysel", "Rəşad", "Günel", "Orxan", "Nigar", "Tural"],
    "RU": ["Иван", "Анна", "Сергей", "Ольга", "Дмитрий", "Елена", "Алексей", "Мария"],
    "TR": ["Şükrü", "Ayşe", "Mehmet", "Zeynep", "Emre", "Elif", "Burak", "Özge"],
    "GE": ["ნინო", "გიორგი", "თამარ", "დავით", "მარიამ", "ლევან", "ანა", "ირაკლი"],
    "UA": ["Олена", "Тарас", "Їжак", "Богдан", "Ірина", "Микола", "Оксана", "Юрій"],
    "GB": ["John", "Emma", "Oliver", "Sophie", "James", "Grace", "Harry", "Lucy"],
}
LAST = {
    "AZ": ["Əliyeva", "Məmmədov", "Həsənova", "Quliyev", "Hüseynova", "İsmayılov"],
    "RU": ["Петров", "Петрова", "Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов"],
    "TR": ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"],
    "GE": ["ბერიძე", "კაპანაძე", "გელაშვილი", "მაისურაძე", "ლომიძე"],
    "UA": ["Шевченко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко"],
    "GB": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson"],
}
COUNTRIES = ["AZ", "RU", "TR", "GE", "UA", "GB", "KG", "MD", "UZ", "TJ", "BY", "KZ"]
ACTIONS = [
    ("person.create", "person"),
    ("person.update", "person"),
    ("enrolment.create", "enrolment"),
    ("enrolment.status", "enrolment"),
    ("attendance.correct", "session"),
    ("certificate.issue", "certificate"),
    ("cohort.update", "cohort"),
    ("session.update", "session"),
]
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Ids:
    admin_user: int = 1
    coordinator_user: int = 2
    trainer_user: int = 3
    trainer_person: int = PEOPLE - TRAINERS + 1
    coordinated_programmes: tuple[int, ...] = (1, 2)
    roster_cohort: int = 1
    big_cohort: int = 2
    roster_session: int = ROSTER_SESSIONS + 1
    # the first person of the roster cohort, for the person page
    person: int = 1


def _value(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy(conn: Any, table: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> int:
    """COPY ``rows`` into ``table`` through psycopg's COPY protocol, in 1 MB chunks.

    Columns left out get the model's default (the application's defaults are Python-side).
    """
    from trainingmgr.extensions import db

    extra = []
    for column in db.metadata.tables[table].columns:
        default = column.default
        if column.name in columns or default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        extra.append(_value(value))
        columns = [*columns, column.name]
    tail = "".join("\t" + v for v in extra)
    count = 0
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        buf = io.StringIO()
        for row in rows:
            buf.write("\t".join(_value(v) for v in row))
            buf.write(tail)
            buf.write("\n")
            count += 1
            if buf.tell() > 1 << 20:
                cp.write(buf.getvalue())
                buf = io.StringIO()
        cp.write(buf.getvalue())
    return count


def _people(rng: random.Random) -> Iterator[tuple[Any, ...]]:
    orgs = [f"Ministry of Interior, department {i}" for i in range(150)] + [
        f"State Migration Service, {c} office {i}" for c in COUNTRIES for i in range(20)
    ]
    folds: dict[tuple[str, str], str] = {}
    for pid in range(1, PEOPLE + 1):
        origin = rng.choice(list(FIRST))
        first, last = rng.choice(FIRST[origin]), rng.choice(LAST[origin])
        email = f"person{pid}@example.org"
        key = (first, last)
        if key not in folds:
            folds[key] = fold(f"{first} {last}")
        yield (
            pid,
            first,
            last,
            email,
            rng.choice(["female", "male"]),
            rng.choice(COUNTRIES),
            rng.choice(orgs),
            "Senior Specialist",
            f"+994 50 {pid:07d}",
            f"{folds[key]} {email}",
            NOW - timedelta(days=pid % 900),
            NOW - timedelta(days=pid % 900),
        )


def cohort_plan() -> list[dict[str, Any]]:
    """Each cohort's programme, size, sessions and whether it is over (attendance recorded)."""
    rest = ENROLMENTS - ROSTER_PEOPLE - BIG_COHORT_PEOPLE
    others = COHORTS - 2
    plan = []
    for cid in range(1, COHORTS + 1):
        if cid == 1:
            size, sessions, past = ROSTER_PEOPLE, ROSTER_SESSIONS + 1, True
        elif cid == 2:
            size, sessions, past = BIG_COHORT_PEOPLE, SESSIONS_PER_COHORT, True
        else:
            i = cid - 3
            size = rest // others + (1 if i < rest % others else 0)
            sessions, past = SESSIONS_PER_COHORT, cid % 2 == 0
        plan.append(
            {
                "id": cid,
                "programme_id": (cid - 1) % PROGRAMMES + 1 if cid > 2 else 1,
                "size": size,
                "sessions": sessions,
                "past": past,
            }
        )
    return plan


def programme_enrolments(*programme_ids: int) -> int:
    """The number of enrolments (every status) of these programmes' cohorts."""
    return sum(c["size"] for c in cohort_plan() if c["programme_id"] in programme_ids)


def generate(conn: Any) -> Ids:
    """Fill an empty, migrated PostgreSQL database; returns the ids the benchmark uses."""
    rng = random.Random(16)
    ids = Ids()
    # The rows are consistent by construction: skip the foreign-key triggers while loading
    # (needs a superuser, as a scratch benchmark database has), for this transaction only.
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    plan = cohort_plan()
    copy(
        conn,
        "programmes",
        ["id", "code", "title", "kind", "status", "default_certificate_language"],
        (
            (p, f"P{p:02d}", f"Programme {p}: border management", "online_course", "active", "en")
            for p in range(1, PROGRAMMES + 1)
        ),
    )
    copy(
        conn,
        "modules",
        ["id", "programme_id", "code", "title", "hours", "position", "retired"],
        (
            (p * 10 + m, p, f"M{m}", f"Module {m}", 3, m, False)
            for p in range(1, PROGRAMMES + 1)
            for m in range(5)
        ),
    )
    copy(
        conn,
        "people",
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "sex",
            "country",
            "organisation",
            "position",
            "phone",
            "search_text",
            "created_at",
            "updated_at",
        ],
        _people(rng),
    )
    copy(
        conn,
        "users",
        ["id", "email", "display_name", "person_id", "active", "auth_version", "created_at"],
        [
            (1, "admin@bench.invalid", "Administrator", None, True, 1, NOW),
            (2, "coordinator@bench.invalid", "Coordinator", None, True, 1, NOW),
            (3, "trainer@bench.invalid", "Trainer", ids.trainer_person, True, 1, NOW),
        ],
    )
    copy(
        conn,
        "user_roles",
        ["user_id", "role"],
        [(1, "admin"), (2, "coordinator"), (3, "trainer")],
    )
    copy(
        conn,
        "coordinator_programmes",
        ["user_id", "programme_id"],
        [(2, p) for p in ids.coordinated_programmes],
    )
    today = NOW.date()
    cohorts = []
    for c in plan:
        start = today - timedelta(days=200 if c["past"] else -30) - timedelta(days=c["id"] % 50)
        if c["id"] == 1:
            start = today - timedelta(days=ROSTER_SESSIONS)
        end = start + timedelta(days=max(c["sessions"], 30))
        c["start"] = start
        cohorts.append(
            (
                c["id"],
                c["programme_id"],
                f"Cohort {c['id']}",
                start,
                end,
                "Asia/Baku",
                "online",
                "en",
                "en",
                "open",
                80,
                15,
            )
        )
    copy(
        conn,
        "cohorts",
        [
            "id",
            "programme_id",
            "name",
            "start_date",
            "end_date",
            "timezone",
            "delivery_mode",
            "language",
            "certificate_language",
            "status",
            "min_attendance_pct",
            "late_grace_minutes",
        ],
        cohorts,
    )

    sessions: dict[int, list[int]] = {}
    session_rows = []
    sid = 0
    for c in plan:
        base = datetime.combine(c["start"], datetime.min.time(), tzinfo=UTC) + timedelta(hours=5)
        for j in range(c["sessions"]):
            sid += 1
            sessions.setdefault(c["id"], []).append(sid)
            starts = base + timedelta(days=j)
            if c["id"] == 1 and j == c["sessions"] - 1:
                starts = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(
                    hours=5
                )
            module = c["programme_id"] * 10 + j % 5
            session_rows.append(
                (sid, c["id"], module, f"Session {j + 1}", starts, starts + timedelta(hours=3))
            )
    copy(
        conn,
        "sessions",
        ["id", "cohort_id", "module_id", "title", "starts_at", "ends_at"],
        session_rows,
    )
    trainers = range(PEOPLE - TRAINERS + 1, PEOPLE + 1)
    copy(
        conn,
        "session_trainers",
        ["session_id", "person_id"],
        (
            (s, ids.trainer_person if cid == 1 else trainers[s % TRAINERS])
            for cid, ss in sessions.items()
            for s in ss
        ),
    )

    enrolments: dict[int, list[tuple[int, int, str]]] = {}
    enrolment_rows = []
    eid = 0
    for c in plan:
        for k in range(c["size"]):
            eid += 1
            person = (eid * 7919) % ENROLLED_PEOPLE + 1
            if c["id"] == 1:
                person = k + 1
            roll = rng.random()
            if c["past"] and c["id"] != 1:
                status = (
                    "completed" if roll < 0.85 else "not_completed" if roll < 0.95 else "withdrawn"
                )
            else:
                status = "enrolled" if roll < 0.95 or c["id"] == 1 else "applied"
            enrolments.setdefault(c["id"], []).append((eid, person, status))
            enrolment_rows.append((eid, c["id"], person, status, NOW, NOW))
    copy(
        conn,
        "enrolments",
        ["id", "cohort_id", "person_id", "status", "created_at", "updated_at"],
        enrolment_rows,
    )

    statuses = ["present"] * 14 + ["late"] * 3 + ["excused", "absent", "absent"]

    def attendance() -> Iterator[tuple[Any, ...]]:
        rid = 0
        for c in plan:
            if not c["past"]:
                continue
            recorded = sessions[c["id"]][:ROSTER_SESSIONS] if c["id"] == 1 else sessions[c["id"]]
            for s in recorded:
                for e, _person, status in enrolments[c["id"]]:
                    if status == "withdrawn":
                        continue
                    rid += 1
                    yield (rid, s, e, c["id"], statuses[rid % 20], "", "roster", 2, NOW, 1)

    copy(
        conn,
        "attendance_records",
        [
            "id",
            "session_id",
            "enrolment_id",
            "cohort_id",
            "status",
            "note",
            "source",
            "recorded_by_id",
            "recorded_at",
            "version",
        ],
        attendance(),
    )

    def certificates() -> Iterator[tuple[Any, ...]]:
        n = 0
        for c in plan:
            if not c["past"] or c["id"] == 1:
                continue
            for e, person, status in enrolments[c["id"]]:
                if status != "completed" or n >= CERTIFICATES:
                    continue
                n += 1
                serial = f"P{c['programme_id']:02d}-2025-{n:05d}"
                snapshot = {
                    "serial": serial,
                    "holder": {"name": f"Person {person}"},
                    "programme": {"title": f"Programme {c['programme_id']}"},
                    "cohort": {"name": f"Cohort {c['id']}"},
                    "language": "en",
                    "issued_on": str(NOW.date()),
                    "hours": 60,
                    "modules": [],
                }
                yield (n, serial, f"V{n:08d}X", e, c["id"], person, snapshot, "valid", NOW, 2)

    copy(
        conn,
        "certificates",
        [
            "id",
            "serial",
            "verification_code",
            "enrolment_id",
            "cohort_id",
            "person_id",
            "snapshot",
            "status",
            "issued_at",
            "issued_by_id",
        ],
        certificates(),
    )

    def audit() -> Iterator[tuple[Any, ...]]:
        for n in range(1, AUDIT_EVENTS + 1):
            action, object_type = ACTIONS[n % len(ACTIONS)]
            at = NOW - timedelta(minutes=(AUDIT_EVENTS - n) * 3)
            yield (
                n,
                at,
                1 + n % 3,
                action,
                object_type,
                n % 90_000 + 1,
                n % PROGRAMMES + 1,
                {"status": ["enrolled", "completed"]},
                f"{action} {n}",
            )

    copy(
        conn,
        "audit_events",
        [
            "id",
            "at",
            "actor_id",
            "action",
            "object_type",
            "object_id",
            "programme_id",
            "changes",
            "summary",
        ],
        audit(),
    )
    # The triggers that keep each enrolment's attendance totals were skipped: fill them once.
    conn.execute(sa.text(totals.refresh_sql("postgresql", "true")))
    # Sequences follow the ids written above, so the application can insert afterwards.
    for table in (
        "programmes",
        "modules",
        "people",
        "users",
        "cohorts",
        "sessions",
        "enrolments",
        "attendance_records",
        "certificates",
        "audit_events",
    ):
        conn.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        )
    return ids
