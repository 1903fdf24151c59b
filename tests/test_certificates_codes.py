"""Verification codes (unguessable, easy to type) and serial numbers (unique per programme and
year, also when several coordinators issue at the same moment)."""

from __future__ import annotations

import re
import threading
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tests.conftest import on_postgres
from trainingmgr.certificates import codes
from trainingmgr.certificates.models import CertificateSerialCounter
from trainingmgr.extensions import db

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_code_format_and_entropy() -> None:
    generated = [codes.new_verification_code() for _ in range(2000)]

    assert all(CODE.match(c) for c in generated)
    assert len(set(generated)) == len(generated)
    assert codes.CODE_LENGTH * 5 >= 80
    # Every character of the alphabet appears in every position: the bits are all random.
    for position in range(19):
        if position % 5 != 4:
            assert len({c[position] for c in generated}) == 32


def test_encode_is_crockford_base32() -> None:
    assert codes.encode(0) == "0" * 16
    assert codes.encode(2**80 - 1) == "Z" * 16
    assert codes.encode(31, length=2) == "0Z"


def test_typed_codes_are_normalised() -> None:
    code = "7KQ4-9XM2-HT8D-3VWR"
    for typed in (
        "7kq4 9xm2 ht8d 3vwr",
        " 7KQ49XM2HT8D3VWR ",
        "7kq4-9xm2-ht8d-3vwr",
        "7KQ4.9XM2.HT8D.3VWR",
    ):
        assert codes.normalise_code(typed) == code
    assert codes.normalise_code("O1IL-oiil-0000-0000") == "0111-0111-0000-0000"


def test_impossible_codes_are_refused() -> None:
    for typed in ("", "7KQ4-9XM2-HT8D", "7KQ4-9XM2-HT8D-3VWRX", "7KQ4-9XM2-HT8D-3VWU", "Ə" * 16):
        assert codes.normalise_code(typed) is None


def test_serials_count_per_programme_and_year(make: Any, db_session: Any) -> None:
    rtcm, other = make.programme(code="RTCM"), make.programme(code="mmpaf")

    serials = [codes.allocate_serial(rtcm.id, rtcm.code, 2022) for _ in range(3)]

    assert serials == ["RTCM-2022-0001", "RTCM-2022-0002", "RTCM-2022-0003"]
    assert codes.allocate_serial(rtcm.id, rtcm.code, 2023) == "RTCM-2023-0001"
    assert codes.allocate_serial(other.id, other.code, 2022) == "MMPAF-2022-0001"
    assert codes.format_serial("RTCM", 2022, 12345) == "RTCM-2022-12345"


def _issue_serials(app: Flask, programme_id: int, n: int, out: list[str], errors: list[Any]):
    try:
        for _ in range(n):
            with app.app_context():
                serial = codes.allocate_serial(programme_id, "RTCM", 2022)
                # Hold the lock a little, as issuing a certificate would.
                db.session.execute(sa.select(sa.literal(1)))
                db.session.commit()
                out.append(serial)
                db.session.remove()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)


def test_concurrent_issuers_never_share_a_serial(app: Flask, make: Any, committed_db: Any):
    """Four issuers at once on PostgreSQL (row lock); one after the other on SQLite."""
    programme_id = make.programme(code="RTCM").id
    db.session.commit()
    db.session.close()  # no open transaction here (SQLite would stay locked)
    out: list[str] = []
    errors: list[Any] = []
    workers = [
        threading.Thread(target=_issue_serials, args=(app, programme_id, 10, out, errors))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
        if not on_postgres():
            worker.join()
    for worker in workers:
        worker.join()

    assert errors == []
    assert sorted(out) == [f"RTCM-2022-{n:04d}" for n in range(1, 41)]
    counter = db.session.get(CertificateSerialCounter, (programme_id, 2022))
    assert counter.last_number == 40
