"""The database triggers that keep ``enrolment_attendance`` (each enrolment's sessions
attended and excused and hours attended) equal to what its attendance records say.

Triggers rather than application code, because attendance is written from many places
(the roster, self check-in, merging two people, editing or cancelling a session, deleting a
cohort, imports, the demo data) and a total that one of them forgot would silently make
the donor report wrong. A test compares the totals with the records after each of those.

- PostgreSQL: statement-level triggers with transition tables that add each statement's
  change (a roster saved in one statement updates its 120 totals in one statement, whatever
  the number of records each person has). Increments stay right when two trainers save at
  once; see ``_postgresql`` for the locking.
- SQLite: row-level triggers (it has no other kind) that count the person's records
  afresh; writers are serialised anyway.

Every enrolment has its row (created with the enrolment), so there is always a row to
update. The migration ``enrolment_attendance`` runs these statements; a change here needs
a new migration that runs them again (they replace what exists).
"""

from __future__ import annotations

import sqlalchemy as sa

_ATTENDED = "r.status IN ('present', 'late')"
_HELD = "s.status = 'scheduled'"


def _centi(dialect: str, s: str = "s") -> str:
    """The length of the session ``s`` in hundredths of an hour, rounded as
    ``session_hours`` rounds."""
    if dialect == "postgresql":
        return f"round(extract(epoch FROM {s}.ends_at - {s}.starts_at) / 36.0)"
    return f"round(round((julianday({s}.ends_at) - julianday({s}.starts_at)) * 86400) / 36.0)"


def refresh_sql(dialect: str, which: str) -> str:
    """An upsert of the totals of the enrolments chosen by the condition ``which`` on
    ``e`` (enrolments), computed from their records afresh."""
    return f"""
INSERT INTO enrolment_attendance (enrolment_id, attended, excused, centi)
SELECT e.id,
       coalesce(sum(CASE WHEN {_HELD} AND {_ATTENDED} THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN {_HELD} AND r.status = 'excused' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN {_HELD} AND {_ATTENDED} THEN CAST({_centi(dialect)} AS INTEGER)
                         ELSE 0 END), 0)
FROM enrolments e
LEFT JOIN attendance_records r ON r.enrolment_id = e.id
LEFT JOIN sessions s ON s.id = r.session_id
WHERE {which}
GROUP BY e.id
ORDER BY e.id
ON CONFLICT (enrolment_id) DO UPDATE
SET attended = excluded.attended, excused = excluded.excused, centi = excluded.centi"""


def _columns(r: str, s: str) -> str:
    """What the record ``r`` adds to its enrolment's totals, given its session ``s``."""
    held = f"{s}.status = 'scheduled'"
    attended = f"{r}.status IN ('present', 'late')"
    centi = _centi("postgresql", s)
    return (
        f"CASE WHEN {held} AND {attended} THEN 1 ELSE 0 END AS attended, "
        f"CASE WHEN {held} AND {r}.status = 'excused' THEN 1 ELSE 0 END AS excused, "
        f"CASE WHEN {held} AND {attended} THEN CAST({centi} AS INTEGER) ELSE 0 END AS centi"
    )


def _contributions(rows: str, sign: str = "") -> str:
    """Each record of the transition table ``rows`` with what it adds (``sign`` "-": what
    it takes away), through its session as it is now."""
    return (
        f"SELECT x.enrolment_id, {sign}c.attended AS attended, {sign}c.excused AS excused, "
        f"{sign}c.centi AS centi FROM {rows} x JOIN sessions s ON s.id = x.session_id "
        f"CROSS JOIN LATERAL (SELECT {_columns('x', 's')}) c"
    )


def _function(name: str, delta: str, returns: str) -> str:
    """A trigger function that applies the change computed by the query ``delta``."""
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM enrolment_attendance_apply(({delta}));
  RETURN {returns};
END $$"""


# Adds a change (a JSON list of {e: enrolment id, a: attended, x: excused, c: centi}) to the
# totals, locking the rows in id order first.
_APPLY = """
CREATE OR REPLACE FUNCTION enrolment_attendance_apply(delta jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM enrolment_attendance
    WHERE enrolment_id IN (SELECT (d->>'e')::integer FROM jsonb_array_elements(delta) d)
    ORDER BY enrolment_id FOR UPDATE;
  UPDATE enrolment_attendance ea
    SET attended = ea.attended + (d->>'a')::integer,
        excused = ea.excused + (d->>'x')::integer,
        centi = ea.centi + (d->>'c')::integer
    FROM jsonb_array_elements(delta) d
    WHERE ea.enrolment_id = (d->>'e')::integer;
END $$"""

# A new enrolment starts with a row of zeros.
_ENROLMENTS = """
CREATE OR REPLACE FUNCTION enrolment_attendance_enrolments() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enrolment_attendance (enrolment_id) SELECT id FROM new_rows
  ON CONFLICT (enrolment_id) DO NOTHING;
  RETURN NULL;
END $$"""


def _summed(parts: str) -> str:
    """The change of the contributions ``parts`` as ``enrolment_attendance_apply`` takes it."""
    return (
        "SELECT coalesce(jsonb_agg(jsonb_build_object('e', enrolment_id, 'a', a, 'x', x, "
        "'c', c)), '[]') FROM (SELECT enrolment_id, sum(attended) AS a, sum(excused) AS x, "
        f"sum(centi) AS c FROM ({parts}) p GROUP BY enrolment_id "
        "HAVING sum(attended) <> 0 OR sum(excused) <> 0 OR sum(centi) <> 0) t"
    )


def _records_function() -> str:
    """The attendance records' trigger function: what was inserted adds, what was deleted
    takes away, an update does both; the records' sessions are share-locked first."""
    both = _contributions("new_rows") + " UNION ALL " + _contributions("old_rows", "-")
    return f"""
CREATE OR REPLACE FUNCTION enrolment_attendance_records() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  delta jsonb;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM 1 FROM sessions WHERE id IN (SELECT session_id FROM new_rows) FOR SHARE;
    delta := ({_summed(_contributions("new_rows"))});
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM 1 FROM sessions WHERE id IN (SELECT session_id FROM old_rows) FOR SHARE;
    delta := ({_summed(_contributions("old_rows", "-"))});
  ELSE
    PERFORM 1 FROM sessions WHERE id IN (
      SELECT session_id FROM new_rows UNION SELECT session_id FROM old_rows) FOR SHARE;
    delta := ({_summed(both)});
  END IF;
  PERFORM enrolment_attendance_apply(delta);
  RETURN NULL;
END $$"""


def _session_functions() -> list[str]:
    """The sessions' trigger functions: a session changed, a session deleted."""
    # A session whose times or status change: its records count afresh (new minus old).
    changed = (
        "SELECT r.enrolment_id, cn.attended - co.attended AS attended, "
        "cn.excused - co.excused AS excused, cn.centi - co.centi AS centi "
        "FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "JOIN attendance_records r ON r.session_id = n.id "
        f"CROSS JOIN LATERAL (SELECT {_columns('r', 'n')}) cn "
        f"CROSS JOIN LATERAL (SELECT {_columns('r', 'o')}) co "
        "WHERE (n.starts_at, n.ends_at, n.status) IS DISTINCT FROM "
        "(o.starts_at, o.ends_at, o.status)"
    )
    # A session deleted: its records are deleted after it by the cascade, when their
    # trigger can no longer read it, so its contribution is taken away before.
    gone = (
        "SELECT r.enrolment_id, -c.attended AS attended, -c.excused AS excused, "
        "-c.centi AS centi FROM attendance_records r "
        f"CROSS JOIN LATERAL (SELECT {_columns('r', 'OLD')}) c WHERE r.session_id = OLD.id"
    )
    return [
        _function("enrolment_attendance_sessions", _summed(changed), "NULL"),
        _function("enrolment_attendance_session_deleted", _summed(gone), "OLD"),
    ]


def _statement_trigger(name: str, event: str, table: str, rows: str, function: str) -> str:
    return (
        f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} REFERENCING {rows} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
    )


_NEW = "NEW TABLE AS new_rows"
_OLD = "OLD TABLE AS old_rows"


def _postgresql() -> list[str]:
    """Statement-level triggers that add each statement's change to the totals.

    Concurrency (READ COMMITTED): the totals' rows are updated with increments, which
    PostgreSQL applies to the latest committed row after waiting for its lock, so two
    rosters saved at once both count; rows are locked in id order first (no deadlock). A
    record's contribution depends on its session's times and status: the records' trigger
    takes a share lock on their sessions before reading them, so a concurrent change of a
    session either waits for it or is seen by it."""
    both = f"{_NEW} {_OLD}"
    records = "enrolment_attendance_records"
    return [
        _APPLY,
        _records_function(),
        *_session_functions(),
        _ENROLMENTS,
        _statement_trigger(
            "enrolment_attendance_ins", "INSERT", "attendance_records", _NEW, records
        ),
        _statement_trigger(
            "enrolment_attendance_upd", "UPDATE", "attendance_records", both, records
        ),
        _statement_trigger(
            "enrolment_attendance_del", "DELETE", "attendance_records", _OLD, records
        ),
        _statement_trigger(
            "enrolment_attendance_session_upd",
            "UPDATE",
            "sessions",
            both,
            "enrolment_attendance_sessions",
        ),
        "CREATE OR REPLACE TRIGGER enrolment_attendance_session_del BEFORE DELETE ON sessions "
        "FOR EACH ROW EXECUTE FUNCTION enrolment_attendance_session_deleted()",
        _statement_trigger(
            "enrolment_attendance_enrolment_ins",
            "INSERT",
            "enrolments",
            _NEW,
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
