"""Certificates: issuing to a 120-person cohort, rendering PDFs, and the cohort's ZIP.

Builds its own data in a scratch SQLite database (or in ``BENCH_DATABASE_URL``, which is
emptied first and afterwards: give it a scratch PostgreSQL database): a programme with a logo
and two signatories with signature images, and 120 participants whose names are in Latin,
Azerbaijani, Cyrillic, Georgian, Armenian and Arabic script. Prints:

- the first render in the process (fonts loaded, images prepared);
- one certificate rendered again and again (median);
- 120 different certificates rendered in one loop, and the certificates per second one core
  renders (from the process's CPU time, so other work on the machine does not count);
- the ZIP of the cohort (``export.iter_zip``, as the download and ``flask certificates
  export``), the merged print PDF (``export.merged_pdf``), and issuing the 120 certificates
  (``issue_all_eligible``).
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw

PEOPLE = 120
SESSIONS = 10
RUNS = 51
NAMES = [
    ("Ləman", "Əliyeva"),
    ("İlkin", "Ağayev"),
    ("Gülnarə", "Həsənova"),
    ("Иван", "Петров"),
    ("Олександр", "Ґудзь"),
    ("ნინო", "ბერიძე"),
    ("Արմեն", "Սարգսյան"),
    ("محمد", "رضایی"),
    ("Aýna", "Ňazarowa"),
    ("Ioana", "Țurcanu"),
    ("Farrukh", "Juraev"),
    ("Anna", "Smith-Петрова"),
]


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


def picture(size: tuple[int, int], seed: int) -> bytes:
    """A PNG with transparency and some detail (a logo or a signature)."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 9):
        draw.line([(x, 0), (size[0] - x, size[1])], fill=(20, 40 + seed * 30, 140, 255), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def build(db: Any) -> dict[str, Any]:
    from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
    from trainingmgr.cohorts.models import Cohort, Enrolment, Session
    from trainingmgr.organisation.models import Signatory
    from trainingmgr.people.models import Person
    from trainingmgr.programmes.models import (
        CertificateLanguage,
        PartnerRole,
        Programme,
        ProgrammeKind,
        ProgrammePartner,
    )

    programme = Programme(
        code="RTCM",
        title="Regional Training on Crisis Migration Management",
        kind=ProgrammeKind.WORKSHOP,
        logo=picture((600, 300), 1),
        logo_mimetype="image/png",
    )
    programme.partners = [
        ProgrammePartner(name="ICMPD", role=PartnerRole.PARTNER, position=1),
        ProgrammePartner(name="State Migration Service", role=PartnerRole.PARTNER, position=2),
        ProgrammePartner(name="European Union", role=PartnerRole.FUNDER, position=3),
    ]
    cohort = Cohort(
        programme=programme,
        name="Baku cohort 2",
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 13),
        timezone="Asia/Baku",
        city="Baku",
        country="AZ",
        certificate_language=CertificateLanguage.EN_AZ,
        capacity=PEOPLE,
    )
    db.session.add_all([programme, cohort])
    db.session.flush()
    db.session.add_all(
        Signatory(
            programme_id=programme.id,
            position=i,
            name=name,
            title=title,
            signature=picture((400, 150), 2 + i),
            signature_mimetype="image/png",
        )
        for i, (name, title) in enumerate(
            [("Dr A. Mammadov", "Director"), ("Nino Beridze", "Lead trainer")]
        )
    )
    start = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    sessions = [
        Session(
            cohort=cohort,
            title=f"Session {i + 1}",
            starts_at=start + timedelta(days=i),
            ends_at=start + timedelta(days=i, hours=3),
        )
        for i in range(SESSIONS)
    ]
    people = [
        Person(
            first_name=NAMES[i % len(NAMES)][0],
            last_name=f"{NAMES[i % len(NAMES)][1]}{'' if i < len(NAMES) else f'-{i}'}",
            email=f"p{i}@example.org",
        )
        for i in range(PEOPLE)
    ]
    db.session.add_all(sessions + people)
    db.session.flush()
    enrolments = [Enrolment(cohort=cohort, person=p) for p in people]
    db.session.add_all(enrolments)
    db.session.flush()
    db.session.execute(
        sa.insert(AttendanceRecord),
        [
            {
                "session_id": s.id,
                "enrolment_id": e.id,
                "cohort_id": cohort.id,
                "status": AttendanceStatus.PRESENT,
            }
            for e in enrolments
            for s in sessions
        ],
    )
    db.session.commit()
    return {"cohort_id": cohort.id}


def median_ms(run: Callable[[], Any], runs: int = RUNS) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``run``."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    from trainingmgr import create_app
    from trainingmgr.certificates import export, runs, services
    from trainingmgr.cohorts.models import Cohort
    from trainingmgr.extensions import db

    tmp = tempfile.mkdtemp(prefix="trainingmgr-bench-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": tmp,
            "SQLALCHEMY_DATABASE_URI": url,
            "BASE_URL": "https://training.example.org",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        try:
            data = build(db)
            cohort = db.session.get(Cohort, data["cohort_id"])
            counter = Counter()
            sa.event.listen(sa.engine.Engine, "before_cursor_execute", counter)
            started, started_cpu = time.perf_counter(), time.process_time()
            run = runs.issue_all(cohort, actor=None)  # "Issue to all eligible": the request
            db.session.commit()
            issue_ms = (time.perf_counter() - started) * 1000
            issue_cpu_ms = (time.process_time() - started_cpu) * 1000
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", counter)
            assert run.total == PEOPLE, run.total
            worker_ms, worker_cpu_ms = median_ms(lambda: _drain(runs), runs=1)  # the worker
            assert run.issued == PEOPLE and run.state == "done", (run.issued, run.state)

            certificates = export.cohort_certificates(cohort.id)
            started = time.perf_counter()
            first = services.render_snapshot(certificates[0])
            first_ms = (time.perf_counter() - started) * 1000
            single_ms, single_cpu_ms = median_ms(lambda: services.render_snapshot(certificates[0]))

            def bulk() -> None:
                for certificate in certificates:
                    services.render_snapshot(certificate)

            bulk()  # every name's glyphs and shapes seen once
            bulk_ms, bulk_cpu_ms = median_ms(bulk, runs=5)

            sizes: list[int] = []

            def zip_cohort() -> None:
                sizes.append(sum(len(chunk) for chunk in export.iter_zip(certificates)))

            zip_ms, zip_cpu_ms = median_ms(zip_cohort, runs=5)

            merged_sizes: list[int] = []

            def merged() -> None:
                merged_sizes.append(len(export.merged_pdf(certificates, title="bench")))

            merged_ms, merged_cpu_ms = median_ms(merged, runs=5)
            signed_ms = _issue_signed(db, cohort, runs)
        finally:
            db.session.rollback()
            db.drop_all()
            db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)

    per_core = PEOPLE / (bulk_cpu_ms / 1000)
    from reportlab.lib import rl_accel

    accelerated = (
        "C" if type(rl_accel.fp_str).__name__ == "builtin_function_or_method" else "Python"
    )
    print(f"   database: {url.split(':', 1)[0]}; {PEOPLE} certificates, en+az, logo, 2 signatures")
    print(f"   ReportLab's accelerator (rl-accel): {accelerated}")
    print(f"   first render in the process (fonts, images):  {first_ms:8.1f} ms")
    print(
        f"   one certificate, rendered again (median of {RUNS}): {single_ms:6.2f} ms "
        f"(CPU {single_cpu_ms:.2f} ms), {len(first) / 1024:.0f} KiB"
    )
    print(
        f"   {PEOPLE} certificates rendered in one loop:        {bulk_ms:8.0f} ms "
        f"({bulk_ms / PEOPLE:.2f} ms each; CPU {bulk_cpu_ms:.0f} ms)"
    )
    print(f"   certificates per second per core (CPU time):   {per_core:8.0f}")
    print(
        f"   ZIP of the {PEOPLE}-person cohort (export.iter_zip): {zip_ms:6.0f} ms "
        f"(CPU {zip_cpu_ms:.0f} ms), {sizes[-1] / 1024 / 1024:.1f} MiB"
    )
    print(
        f"   merged print PDF of {PEOPLE} (export.merged_pdf):  {merged_ms:6.0f} ms "
        f"({merged_ms / PEOPLE:.2f} ms a page; CPU {merged_cpu_ms:.0f} ms, "
        f"{merged_cpu_ms / PEOPLE:.2f} ms a page), {merged_sizes[-1] / 1024 / 1024:.1f} MiB"
    )
    print(
        f"   issue to all {PEOPLE} (the request: checks, then queued for the worker): "
        f"{issue_ms:6.0f} ms (CPU {issue_cpu_ms:.0f} ms), {counter.count} SQL statements"
    )
    print(
        f"   the worker issuing them (batches of 50): {worker_ms:6.0f} ms "
        f"(CPU {worker_cpu_ms:.0f} ms); again with a signing key (PAdES): {signed_ms:6.0f} ms"
    )


def _drain(runs: Any) -> None:
    while runs.work():
        pass


def _issue_signed(db: Any, cohort: Any, runs: Any) -> float:
    """The worker's time for the cohort again, every certificate signed (PAdES)."""
    from trainingmgr.certificates.models import Certificate, CertificateRun
    from trainingmgr.credentials import keys

    db.session.execute(sa.delete(Certificate))
    db.session.execute(sa.delete(CertificateRun))
    keys.generate("Bench Training Centre", actor=None)
    runs.issue_all(cohort, actor=None)
    db.session.commit()
    started = time.perf_counter()
    _drain(runs)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
