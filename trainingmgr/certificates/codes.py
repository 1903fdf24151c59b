"""Verification codes and serial numbers of certificates.

- A verification code is 80 random bits (``secrets``) written in Crockford's base32 as four
  groups of four characters, ``7KQ4-9XM2-HT8D-3VWR``: no I, L, O or U, so it reads out and
  types easily. Typed input is normalised (spaces, dashes and case ignored; I and L read as
  1, O as 0) before it is looked up.
- A serial number is ``<PROGRAMME CODE>-<YEAR>-<NNNN>``, numbered per programme and year from
  ``CertificateSerialCounter``. The counter row is locked (``SELECT ... FOR UPDATE`` on
  PostgreSQL) while a number is taken, so two coordinators issuing at the same moment never get
  the same one; the number is used by the caller's transaction, never reused.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trainingmgr.certificates.models import CertificateSerialCounter
from trainingmgr.extensions import db, on_postgresql

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_BITS = 80
CODE_LENGTH = CODE_BITS // 5  # 16 characters
GROUP = 4
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-_.·/]+")


def _group(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def encode(number: int, length: int = CODE_LENGTH) -> str:
    """``number`` in Crockford base32, ``length`` characters (leading zeros kept)."""
    chars = []
    for _i in range(length):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    if number:
        raise ValueError("number too large for the length")
    return "".join(reversed(chars))


def new_verification_code() -> str:
    """A fresh code of 80 random bits, grouped: ``7KQ4-9XM2-HT8D-3VWR``."""
    return _group(encode(secrets.randbits(CODE_BITS)))


def normalise_code(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one.

    Spaces, dashes and case are ignored; I and L read as 1, O as 0.
    """
    chars = _SEPARATORS.sub("", typed or "").upper().translate(_READ_AS)
    if len(chars) != CODE_LENGTH or any(c not in ALPHABET for c in chars):
        return None
    return _group(chars)


def format_serial(programme_code: str, year: int, number: int) -> str:
    return f"{programme_code.strip().upper()}-{year}-{number:04d}"


def _insert_ignore(programme_id: int, year: int) -> sa.Executable:
    """INSERT of a new counter row that does nothing when the row already exists."""
    dialect = postgresql if on_postgresql() else sqlite
    return (
        dialect.insert(CertificateSerialCounter)
        .values(programme_id=programme_id, year=year, last_number=0)
        .on_conflict_do_nothing()
    )


def next_serial_number(programme_id: int, year: int) -> int:
    """Take the next number of a programme's year (the counter row stays locked until the
    caller's transaction ends)."""
    locked = (
        sa.select(CertificateSerialCounter)
        .where(
            CertificateSerialCounter.programme_id == programme_id,
            CertificateSerialCounter.year == year,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    counter = db.session.scalars(locked).first()
    if counter is None:
        # The first certificate of the year: create the row unless a concurrent issuer just
        # did, then lock it like any other.
        db.session.execute(_insert_ignore(programme_id, year))
        counter = db.session.scalars(locked).one()
    counter.last_number += 1
    db.session.flush()
    return counter.last_number


def allocate_serial(programme_id: int, programme_code: str, year: int) -> str:
    """The next serial of a programme and year, for example ``RTCM-2022-0042``."""
    return format_serial(programme_code, year, next_serial_number(programme_id, year))
