"""Spreadsheet import: reading, previewing and confirming a 5,000-row file.

Runs in a scratch SQLite database (or ``BENCH_DATABASE_URL``, which is emptied: never point
it at real data). Prints the median of a few runs and the number of SQL statements of each
step. The confirm step is rolled back after each run, so every run imports the same rows.
"""

from __future__ import annotations

import csv
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import sqlalchemy as sa

RUNS = 3
COUNTRIES = ["AZ", "TR", "BY", "UA", "GE", "KG", "GM", "MD", "UZ", "TJ"]
HEADER = ["First name", "Last name", "Email", "Sex", "Country", "Organisation", "Position", "Phone"]
NAMES = [("Ləman", "Əliyeva"), ("Şükrü", "Yılmaz"), ("Иван", "Петров"), ("ნინო", "ბერიძე")]


def rows(count: int) -> list[list[str]]:
    return [
        [
            f"{NAMES[n % 4][0]}{n}",
            NAMES[n % 4][1],
            f"participant{n}@example.org",
            "FM"[n % 2],
            COUNTRIES[n % len(COUNTRIES)],
            f"Ministry of Interior, department {n % 23}",
            "Senior Specialist",
            f"+994 50 {n:07d}",
        ]
        for n in range(count)
    ]


def as_csv(count: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    writer.writerows(rows(count))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(count: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    ws = workbook.create_sheet("Participants")
    ws.append(["Participants list"])
    ws.append(HEADER)
    for row in rows(count):
        ws.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


# CPU time of this process (the app's share on a machine shared with others), beside the wall
# time of each step: printed by ``measure``.
LAST_CPU: list[float] = [0.0]


def measure(step: Callable[[], Any], after: Callable[[], Any] | None = None) -> tuple[float, int]:
    """Median wall seconds over ``RUNS`` runs, and the SQL statements of one run (the median
    app CPU seconds are left in ``LAST_CPU[0]``)."""
    timings = []
    cpu = []
    statements = 0
    for _ in range(RUNS):
        counter = Counter()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            step()
        finally:
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
            if after is not None:
                after()
        statements = counter.count
    LAST_CPU[0] = statistics.median(cpu)
    return statistics.median(timings), statements


def _cpu() -> str:
    return f"app CPU {LAST_CPU[0] * 1000:6.0f} ms"


def main() -> None:
    from trainingmgr import create_app
    from trainingmgr.cohorts.models import Cohort
    from trainingmgr.extensions import db
    from trainingmgr.imports import services
    from trainingmgr.imports.parsing import read_table
    from trainingmgr.programmes.models import Programme, ProgrammeKind

    scratch = tempfile.mkdtemp(prefix="import-bench-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{scratch}/bench.sqlite3"
    app = create_app(
        {"SECRET_KEY": "bench", "INSTANCE_PATH": scratch, "SQLALCHEMY_DATABASE_URI": url}
    )
    with app.test_request_context():
        db.drop_all()
        db.create_all()
        try:
            programme = Programme(code="BENCH", title="Benchmark", kind=ProgrammeKind.WORKSHOP)
            cohort = Cohort(
                programme=programme,
                name="Benchmark cohort",
                start_date=date(2026, 3, 2),
                end_date=date(2026, 3, 13),
                capacity=4000,
            )
            db.session.add(cohort)
            db.session.commit()
            print(f"   database: {db.engine.dialect.name}, {RUNS} runs each, median")
            for label, data, name in (
                ("5,000-row CSV", as_csv(5000), "bench.csv"),
                ("5,000-row XLSX", as_xlsx(5000), "bench.xlsx"),
            ):
                print(f"   {label} ({len(data) / 1024:.0f} KiB)")
                seconds, _ = measure(lambda d=data, n=name: read_table(d, n))
                print(f"     read (once)     {seconds * 1000:8.0f} ms  {_cpu()}")
                # The table read at the upload is kept with it; the first preview keeps the
                # cleaned rows too; the confirmation reuses both.
                table = read_table(data, name)
                seconds, statements = measure(
                    lambda t=table, n=name: services.build_preview(t, n, cohort=cohort)
                )
                print(
                    f"     preview         {seconds * 1000:8.0f} ms  {statements:6d} statements"
                    f"  {_cpu()}"
                )
                cleaned = services.build_preview(table, name, cohort=cohort).packed_cleaned()
                seconds, statements = measure(
                    lambda t=table, n=name, c=cleaned: services.confirm_import(
                        t, n, actor=None, cohort=cohort, cleaned=c
                    ),
                    after=db.session.rollback,
                )
                print(
                    f"     confirm         {seconds * 1000:8.0f} ms  {statements:6d} statements"
                    f"  {_cpu()}, {5000 / LAST_CPU[0]:,.0f} rows/s of app CPU"
                )
            cohort = db.session.merge(cohort)
            services.confirm_import(as_csv(5000), "bench.csv", actor=None, cohort=cohort)
            db.session.commit()
            for fmt in ("csv", "xlsx"):
                seconds, statements = measure(
                    lambda f=fmt: services.render(services.roster_sheet(cohort), f)
                )
                print(
                    f"   roster export, 5,000 enrolments, {fmt:<4} {seconds * 1000:8.0f} ms  "
                    f"{statements:6d} statements"
                )
        finally:
            db.session.rollback()
            db.drop_all()
            db.engine.dispose()


if __name__ == "__main__":
    main()
