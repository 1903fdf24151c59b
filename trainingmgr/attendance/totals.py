"""The database triggers that keep ``enrolment_attendance`` (each enrolment's sessions
attended and excused and hours attended) equal to what its attendance records say.

Triggers rather than application code, because attendance is written from many places
(the roster, self check-in, merging two people, editing or cancelling a session, deleting a
cohort, imports, the demo data) and a total that one of them forgot would silently make
the donor report wrong. A test compares the totals with the records after each of those.

- PostgreSQL: statement-level triggers with transition tables, so a roster saved in one
  statement refreshes its 120 enrolments in one statement. The refresh first locks the
  totals' rows in id order, then reads the records in a new statement: two trainers saving
  two sessions of one cohort at once wait for each other instead of each writing a total
  that misses the other's records.
- SQLite: row-level triggers (it has no other kind); writers are serialised anyway.

Every enrolment has its row (created with the enrolment), so there is always a row to
lock. The SQL is frozen in the migration that created it (``enrolment_attendance``); a
change here needs a new migration.
"""

from __future__ import annotations

import sqlalchemy as sa

_ATTENDED = "r.status IN ('present', 'late')"
_HELD = "s.status = 'scheduled'"

_CENTI = {
    # A session's length in hundredths of an hour, rounded as ``session_hours`` rounds.
    "postgresql": "round(extract(epoch FROM s.ends_at - s.starts_at) / 36.0)",
    "sqlite": "round(round((julianday(s.ends_at) - julianday(s.starts_at)) * 86400) / 36.0)",
}


def refresh_sql(dialect: str, which: str) -> str:
    """An upsert of the totals of the enrolments chosen by the condition ``which`` on
    ``e`` (enrolments), computed from their records afresh."""
    return f"""
INSERT INTO enrolment_attendance (enrolment_id, attended, excused, centi)
SELECT e.id,
       coalesce(sum(CASE WHEN {_HELD} AND {_ATTENDED} THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN {_HELD} AND r.status = 'excused' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN {_HELD} AND {_ATTENDED} THEN CAST({_CENTI[dialect]} AS INTEGER)
                         ELSE 0 END), 0)
FROM enrolments e
LEFT JOIN attendance_records r ON r.enrolment_id = e.id
LEFT JOIN sessions s ON s.id = r.session_id
WHERE {which}
GROUP BY e.id
ORDER BY e.id
ON CONFLICT (enrolment_id) DO UPDATE
SET attended = excluded.attended, excused = excluded.excused, centi = excluded.centi"""


def _postgresql() -> list[str]:
    refresh = f"""
CREATE OR REPLACE FUNCTION enrolment_attendance_refresh(ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF cardinality(ids) = 0 THEN
    RETURN;
  END IF;
  PERFORM 1 FROM enrolment_attendance WHERE enrolment_id = ANY(ids)
    ORDER BY enrolment_id FOR UPDATE;
  {refresh_sql("postgresql", "e.id = ANY(ids)")};
END $$"""
    records = """
CREATE OR REPLACE FUNCTION enrolment_attendance_records() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM enrolment_attendance_refresh(ARRAY(SELECT DISTINCT enrolment_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM enrolment_attendance_refresh(ARRAY(SELECT DISTINCT enrolment_id FROM old_rows));
  ELSE
    PERFORM enrolment_attendance_refresh(ARRAY(
      SELECT n.enrolment_id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.status, n.session_id, n.enrolment_id)
            IS DISTINCT FROM (o.status, o.session_id, o.enrolment_id)
      UNION
      SELECT o.enrolment_id FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE (n.session_id, n.enrolment_id) IS DISTINCT FROM (o.session_id, o.enrolment_id)));
  END IF;
  RETURN NULL;
END $$"""
    sessions = """
CREATE OR REPLACE FUNCTION enrolment_attendance_sessions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM enrolment_attendance_refresh(ARRAY(
    SELECT DISTINCT r.enrolment_id
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    JOIN attendance_records r ON r.session_id = n.id
    WHERE (n.starts_at, n.ends_at, n.status) IS DISTINCT FROM (o.starts_at, o.ends_at, o.status)));
  RETURN NULL;
END $$"""
    enrolments = """
CREATE OR REPLACE FUNCTION enrolment_attendance_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enrolment_attendance (enrolment_id) SELECT id FROM new_rows
  ON CONFLICT (enrolment_id) DO NOTHING;
  RETURN NULL;
END $$"""

    def trigger(name: str, event: str, table: str, rows: str, function: str) -> str:
        return (
            f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )

    both = "NEW TABLE AS new_rows OLD TABLE AS old_rows"
    return [
        refresh,
        records,
        sessions,
        enrolments,
        trigger(
            "enrolment_attendance_ins",
            "INSERT",
            "attendance_records",
            "NEW TABLE AS new_rows",
            "enrolment_attendance_records",
        ),
        trigger(
            "enrolment_attendance_upd",
            "UPDATE",
            "attendance_records",
            both,
            "enrolment_attendance_records",
        ),
        trigger(
            "enrolment_attendance_del",
            "DELETE",
            "attendance_records",
            "OLD TABLE AS old_rows",
            "enrolment_attendance_records",
        ),
        trigger(
            "enrolment_attendance_session_upd",
            "UPDATE",
            "sessions",
            both,
            "enrolment_attendance_sessions",
        ),
        trigger(
            "enrolment_attendance_enrolment_ins",
            "INSERT",
            "enrolments",
            "NEW TABLE AS new_rows",
            "enrolment_attendance_enrolments",
        ),
    ]


def _sqlite() -> list[str]:
    def trigger(name: str, event: str, which: str) -> str:
        return (
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} FOR EACH ROW BEGIN"
            f"{refresh_sql('sqlite', which)}; END"
        )

    return [
        trigger(
            "enrolment_attendance_ins", "INSERT ON attendance_records", "e.id = NEW.enrolment_id"
        ),
        trigger(
            "enrolment_attendance_del", "DELETE ON attendance_records", "e.id = OLD.enrolment_id"
        ),
        trigger(
            "enrolment_attendance_upd",
            "UPDATE OF status, session_id, enrolment_id ON attendance_records",
            "e.id IN (OLD.enrolment_id, NEW.enrolment_id)",
        ),
        trigger(
            "enrolment_attendance_session_upd",
            "UPDATE OF starts_at, ends_at, status ON sessions",
            "e.id IN (SELECT enrolment_id FROM attendance_records WHERE session_id = NEW.id)",
        ),
        "CREATE TRIGGER IF NOT EXISTS enrolment_attendance_enrolment_ins "
        "AFTER INSERT ON enrolments FOR EACH ROW BEGIN "
        "INSERT OR IGNORE INTO enrolment_attendance (enrolment_id) VALUES (NEW.id); END",
    ]


def statements(dialect: str) -> list[str]:
    """The DDL of the triggers (and PostgreSQL's functions) for ``dialect``."""
    return _postgresql() if dialect == "postgresql" else _sqlite()


def _create(target: sa.MetaData, connection: sa.Connection, **_kw: object) -> None:
    """After ``metadata.create_all`` (the tests' schema): the triggers, once every table
    they read exists."""
    for statement in statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def install(metadata: sa.MetaData) -> None:
    """Create the triggers whenever ``metadata`` creates the tables."""
    sa.event.listen(metadata, "after_create", _create)
