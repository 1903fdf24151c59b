"""A cohort's certificates in one file: a ZIP of PDFs (streamed) or one PDF to print.

Free of request objects, so both the download views and the command line
(``flask certificates export``) use it:

- ``cohort_certificates(cohort_id)``: the valid certificates, by holder's surname;
- ``iter_zip(certificates)``: a ZIP built piece by piece, one PDF rendered at a time (the
  whole archive is never in memory), entries named ``<serial> <holder name>.pdf``;
- ``merged_pdf(certificates)``: every certificate as one page of one PDF, with a bookmark
  per holder (for printing);
- ``safe_file_name`` / ``content_disposition``: file names safe on every system, names in
  any script kept, with an ASCII fallback for HTTP headers.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import IO, cast
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from anyascii import anyascii
from pypdf import PdfReader, PdfWriter
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from trainingmgr.certificates import merge, services
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.core.streams import ChunkSink
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

Renderer = Callable[[Certificate], bytes]

# Characters no file system or archive tool accepts in a name, and path separators.
_RESERVED = re.compile(r'[/\\:*?"<>|]')
NAME_MAX_CHARS = 120
DOCUMENT_BATCH = 25


# --- Loading ------------------------------------------------------------------------------


def name_order(person: Person) -> tuple[str, ...]:
    """Sort key for people of a cohort whose names are in several scripts: surname then first
    name, compared in a Latin spelling (Beridze (ბერიძე), Əliyeva, Petrov (Петров), Yılmaz),
    then as written."""
    last, first = person.last_name or "", person.first_name or ""
    return (_latin(last), _latin(first), last, first)


@lru_cache(maxsize=8192)
def _latin(name: str) -> str:
    """A name in a Latin spelling, case-folded (names repeat: cached per process)."""
    return anyascii(name).casefold()


def cohort_certificates(cohort_id: int) -> list[Certificate]:
    """The cohort's valid certificates, by holder's surname then first name (``name_order``),
    with what rendering needs (enrolment, cohort, programme) loaded in a bounded number of
    queries."""
    certificates = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.cohort_id == cohort_id,
            Certificate.status == CertificateStatus.VALID,
        )
        .options(
            selectinload(Certificate.enrolment).options(
                joinedload(Enrolment.person),
                joinedload(Enrolment.cohort).joinedload(Cohort.programme),
            )
        )
        .order_by(Certificate.serial)
    )
    return sorted(certificates, key=lambda c: name_order(c.enrolment.person))


# --- File names ---------------------------------------------------------------------------


def safe_file_name(text: str, max_chars: int = NAME_MAX_CHARS) -> str:
    """``text`` usable as a file name on Windows, macOS and Linux, in its own script.

    Control and invisible formatting characters (including right-to-left overrides, which
    can disguise a name) are dropped; reserved characters become spaces; spaces are
    collapsed; no leading or trailing dots or spaces. May return "".
    """
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if ch.isspace() else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _RESERVED.sub(" ", text)
    text = " ".join(text.split())[:max_chars]
    return text.strip(" .")


def ascii_file_name(text: str) -> str:
    """An ASCII spelling of a file name (``Ləman Əliyeva`` -> ``Leman Eliyeva``)."""
    return safe_file_name(anyascii(unicodedata.normalize("NFC", text or "")))


def holder_name(certificate: Certificate) -> str:
    """The holder's name as printed on the certificate."""
    holder = (certificate.snapshot or {}).get("holder") or {}
    return str(holder.get("name") or holder.get("name_latin") or "")


def pdf_file_name(certificate: Certificate) -> str:
    """``<serial> <holder name>.pdf``, or ``<serial>.pdf`` when the name leaves nothing."""
    serial = safe_file_name(certificate.serial) or f"certificate-{certificate.id}"
    name = safe_file_name(holder_name(certificate))
    return f"{serial} {name}.pdf" if name else f"{serial}.pdf"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A Content-Disposition header value: a plain ASCII ``filename`` every browser reads,
    plus ``filename*`` (RFC 6266) with the name in its own script when it is not ASCII."""
    safe = safe_file_name(filename) or "download"
    fallback = ascii_file_name(safe) or "download"
    value = f'{disposition}; filename="{fallback}"'
    if fallback != safe:
        value += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return value


def with_documents(
    certificates: Iterable[Certificate], batch: int = DOCUMENT_BATCH
) -> Iterator[Certificate]:
    """The certificates with their stored PDFs loaded, ``batch`` at a time (one query per
    batch instead of one per certificate; only one batch of PDFs held at once)."""
    pending: list[Certificate] = []

    def load(items: list[Certificate]) -> list[Certificate]:
        wanted = [c.id for c in items if "pdf" in sa.inspect(c).unloaded]
        if wanted:
            rows = db.session.execute(
                sa.select(Certificate.id, Certificate.pdf).where(Certificate.id.in_(wanted))
            )
            stored = dict(rows.all())
            for c in items:
                if c.id in stored:
                    set_committed_value(c, "pdf", stored[c.id])
        return items

    for certificate in certificates:
        pending.append(certificate)
        if len(pending) >= batch:
            yield from load(pending)
            pending = []
    yield from load(pending)


# --- ZIP ----------------------------------------------------------------------------------


def _zip_time(certificate: Certificate) -> tuple[int, int, int, int, int, int]:
    """The entry's date: when the certificate was issued, in the cohort's time zone."""
    issued: datetime = certificate.issued_at
    tz = certificate.enrolment.cohort.timezone if certificate.enrolment else "UTC"
    local = issued.astimezone(ZoneInfo(tz or "UTC"))
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


def iter_zip(
    certificates: Iterable[Certificate], *, render: Renderer | None = None
) -> Iterator[bytes]:
    """A ZIP archive of the certificates' PDFs, yielded piece by piece.

    One PDF is rendered, stored (PDFs are already compressed) and yielded at a time
    (``certificates`` may be a lazy iterable), so memory stays flat whatever the cohort's
    size. Entries are named ``<serial> <holder name>.pdf`` in UTF-8 (the archive marks them
    so); two entries never get the same name.
    """
    render = render or services.render_pdf
    certificates = with_documents(certificates)
    sink = ChunkSink()
    used: set[str] = set()
    target = cast(IO[bytes], sink)  # zipfile only writes and flushes it
    with zipfile.ZipFile(target, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            name = pdf_file_name(certificate)
            stem, n = name[:-4], 2
            while name.casefold() in used:
                name, n = f"{stem} ({n}).pdf", n + 1
            used.add(name.casefold())
            info = zipfile.ZipInfo(name, date_time=_zip_time(certificate))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, render(certificate))
            chunk = sink.take()
            if chunk:
                yield chunk
    tail = sink.take()  # the central directory
    if tail:
        yield tail


def write_zip(certificates: Iterable[Certificate], out: IO[bytes]) -> int:
    """Write ``iter_zip(certificates)`` to a binary file; returns the number of bytes."""
    size = 0
    for chunk in iter_zip(certificates):
        out.write(chunk)
        size += len(chunk)
    return size


# --- One PDF to print ---------------------------------------------------------------------


def merged_pdf(
    certificates: Iterable[Certificate], *, title: str = "", render: Renderer | None = None
) -> bytes:
    """All the certificates in one PDF, one page each, in the given order, with a bookmark
    per certificate (``<serial> <holder name>``).

    The stored PDFs are joined as they are (``merge.merge``: objects copied, not parsed);
    pypdf only for a PDF that merger does not understand."""
    render = render or services.render_pdf
    certificates = list(certificates)
    documents = [render(certificate) for certificate in certificates]
    titles = [f"{c.serial} {holder_name(c)}" for c in certificates]
    try:
        return merge.merge(documents, titles, title=title or "Certificates")
    except merge.NotMergeable:
        pass
    writer = PdfWriter()
    for document, outline_item in zip(documents, titles, strict=True):
        writer.append(PdfReader(io.BytesIO(document)), outline_item=outline_item)
    writer.add_metadata({"/Title": title or "Certificates", "/Creator": "trainingmgr"})
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
