"""A cohort's certificates as a streamed ZIP and as one PDF to print (export.py, no request)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from pypdf import PdfReader

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.certificates import export, services
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Cohort

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
NAMES = [("Ləman", "Əliyeva"), ("Иван", "Петров"), ("ნინო", "ბერიძე"), ("Şükrü", "Yılmaz")]


def cohort_with_certificates(make: Any, names: list[tuple[str, str]] = NAMES) -> Cohort:
    """A cohort in Baku where everyone attended its two sessions and has a certificate."""
    cohort = make.cohort(
        make.programme(code="RTCM", title="Road Traffic Crash Management"),
        name="RTCM Baku 2026",
        timezone="Asia/Baku",
    )
    sessions = [make.session(cohort=cohort, starts_at=START + timedelta(days=i)) for i in range(2)]
    actor = make.user()
    for first, last in names:
        enrolment = make.enrolment(
            cohort=cohort, person=make.person(first_name=first, last_name=last)
        )
        for session in sessions:
            make.attendance(session, enrolment, AttendanceStatus.PRESENT)
        services.issue(enrolment, actor=actor)
    return cohort


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Ləman Əliyeva", "Ləman Əliyeva"),
        ("Иван Петров", "Иван Петров"),
        ("محمد علي", "محمد علي"),
        ('AC/DC: "live" <1> | 2?*', "AC DC live 1 2"),
        ("..\\..\\etc\\passwd", "etc passwd"),
        ("  Tab\tand\nnewline  ", "Tab and newline"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # a right-to-left override hides the extension
        ("Cafe\u0301", "Café"),  # combining accent composed (NFC)
        ("...", ""),
        ("", ""),
    ],
)
def test_safe_file_names_keep_every_script_and_drop_what_breaks_systems(
    raw: str, safe: str
) -> None:
    assert export.safe_file_name(raw) == safe


def test_long_names_are_cut() -> None:
    assert len(export.safe_file_name("Ä" * 500)) == export.NAME_MAX_CHARS


def test_content_disposition_has_an_ascii_fallback_and_the_real_name() -> None:
    assert export.content_disposition("RTCM-2026-0001.pdf") == (
        'attachment; filename="RTCM-2026-0001.pdf"'
    )
    value = export.content_disposition("RTCM Gəncə — сертификаты.zip")
    plain, star = value.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="RTCM Gence - sertifikaty.zip"'
    assert unquote(star) == "RTCM Gəncə — сертификаты.zip"
    assert export.content_disposition('a"b.pdf') == 'attachment; filename="a b.pdf"'


# --------------------------------------------------------------------------- ZIP


def test_zip_has_one_pdf_per_certificate_named_by_serial_and_holder(
    make: Any, db_session: Any
) -> None:
    cohort = cohort_with_certificates(make)
    certificates = export.cohort_certificates(cohort.id)

    data = b"".join(export.iter_zip(certificates))

    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    # By surname; every name in its own script, stored as UTF-8 (flag 0x800 when not ASCII).
    assert names == [f"{c.serial} {c.snapshot['holder']['name']}.pdf" for c in certificates]
    assert {n.split(" ", 1)[1] for n in names} == {
        "Ləman Əliyeva.pdf",
        "Иван Петров.pdf",
        "ნინო ბერიძე.pdf",
        "Şükrü Yılmaz.pdf",
    }
    for info, certificate in zip(archive.infolist(), certificates, strict=True):
        assert info.flag_bits & 0x800
        assert archive.read(info).startswith(b"%PDF")
        assert archive.read(info) == services.render_pdf(certificate)
        local = certificate.issued_at.astimezone(cohort.tz)
        assert info.date_time[:5] == (local.year, local.month, local.day, local.hour, local.minute)


def test_zip_is_made_one_certificate_at_a_time(make: Any, db_session: Any) -> None:
    """The archive is sent while it is made: after the first piece only the first
    certificate has been written (its stored PDF loaded with at most one batch of others),
    and no piece holds more than one PDF."""
    cohort = cohort_with_certificates(make)
    certificates = export.cohort_certificates(cohort.id)
    taken: list[Certificate] = []
    rendered: list[str] = []

    def lazily() -> Iterator[Certificate]:
        for certificate in certificates:
            taken.append(certificate)
            yield certificate

    def render(certificate: Certificate) -> bytes:
        rendered.append(certificate.serial)
        return services.render_pdf(certificate)

    pieces = export.iter_zip(lazily(), render=render)
    first = next(pieces)

    assert len(taken) <= export.DOCUMENT_BATCH and len(rendered) == 1
    assert first.startswith(b"PK\x03\x04")  # a local file header: the archive has begun
    rest = list(pieces)
    assert len(rendered) == len(certificates)
    sizes = [len(first), *map(len, rest)]
    biggest_pdf = max(len(services.render_pdf(c)) for c in certificates)
    assert max(sizes) < biggest_pdf + 1024  # one (compressed) PDF per piece at most
    assert zipfile.ZipFile(io.BytesIO(first + b"".join(rest))).testzip() is None


def test_same_file_names_are_numbered(make: Any, db_session: Any) -> None:
    cohort = cohort_with_certificates(make, [("Anna", "Smith")])
    [certificate] = export.cohort_certificates(cohort.id)

    data = b"".join(export.iter_zip([certificate, certificate], render=lambda c: b"%PDF-1.4"))

    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == [
        f"{certificate.serial} Anna Smith.pdf",
        f"{certificate.serial} Anna Smith (2).pdf",
    ]


def test_an_empty_zip_is_still_a_zip() -> None:
    data = b"".join(export.iter_zip([]))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []


def test_write_zip_writes_the_same_bytes_to_a_file(make: Any, db_session: Any) -> None:
    cohort = cohort_with_certificates(make, NAMES[:2])
    certificates = export.cohort_certificates(cohort.id)
    out = io.BytesIO()

    size = export.write_zip(certificates, out)

    assert size == len(out.getvalue())
    assert len(zipfile.ZipFile(out).namelist()) == 2


# --------------------------------------------------------------------------- loading


def test_only_valid_certificates_are_exported_by_surname(make: Any, db_session: Any) -> None:
    cohort = cohort_with_certificates(make, [("Zeynab", "Abbasova"), ("Aydin", "Zeynalov")])
    first, second = export.cohort_certificates(cohort.id)
    assert (first.snapshot["holder"]["name"], second.snapshot["holder"]["name"]) == (
        "Zeynab Abbasova",
        "Aydin Zeynalov",
    )
    actor = make.user()
    services.revoke(first, "Issued by mistake", actor=actor)
    new = services.reissue(second, reason="Name corrected", actor=actor)

    assert export.cohort_certificates(cohort.id) == [new]
    assert second.status == CertificateStatus.SUPERSEDED


# --------------------------------------------------------------------------- merged PDF


def test_merged_pdf_has_a_page_and_a_bookmark_per_certificate(make: Any, db_session: Any) -> None:
    cohort = cohort_with_certificates(make)
    certificates = export.cohort_certificates(cohort.id)

    data = export.merged_pdf(certificates, title="RTCM Baku 2026")

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == len(certificates) == 4
    for page, certificate in zip(reader.pages, certificates, strict=True):
        assert certificate.serial in page.extract_text()
    assert [item.title for item in reader.outline] == [
        f"{c.serial} {c.snapshot['holder']['name']}" for c in certificates
    ]
    assert reader.metadata is not None and reader.metadata.title == "RTCM Baku 2026"


def test_people_are_sorted_by_surname_across_scripts(make: Any, db_session: Any) -> None:
    cohort = cohort_with_certificates(make)

    holders = [c.snapshot["holder"]["name"] for c in export.cohort_certificates(cohort.id)]

    # In a Latin spelling: Beridze (ბერიძე), Əliyeva (Ə after E), Petrov (Петров), Yılmaz;
    # by code point Cyrillic and Georgian would come last, after "Yılmaz".
    assert holders == ["ნინო ბერიძე", "Ləman Əliyeva", "Иван Петров", "Şükrü Yılmaz"]


def _page_streams(data: bytes) -> list[bytes]:
    reader = PdfReader(io.BytesIO(data), strict=True)
    return [page.get_contents().get_data() for page in reader.pages]


def _png(data: bytes, tmp: Any, name: str, page: int = 1) -> bytes:
    import subprocess

    path = tmp / f"{name}.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", str(page), "-l", str(page), "-singlefile"]
        + [str(path), str(tmp / name)],
        capture_output=True,
        check=True,
    )
    assert done.stderr == b""  # poppler found nothing to complain about
    return (tmp / f"{name}.png").read_bytes()


def test_the_merged_pdf_holds_exactly_the_stored_certificates(
    make: Any, db_session: Any, tmp_path: Any
) -> None:
    import re

    cohort = cohort_with_certificates(make)
    certificates = export.cohort_certificates(cohort.id)
    stored = [services.render_pdf(c) for c in certificates]

    data = export.merged_pdf(certificates, title="RTCM Baku 2026 — печать")

    merged_streams = _page_streams(data)
    assert merged_streams == [_page_streams(one)[0] for one in stored]
    for i, one in enumerate(stored):
        assert _png(data, tmp_path, f"merged{i}", i + 1) == _png(one, tmp_path, f"one{i}")
    # Each font subset (its embedded bytes) appears under one tag only, and no tag names two
    # different subsets.
    fonts: dict[bytes, set[bytes]] = {}
    for one in stored:
        for tag in re.findall(rb"/BaseFont /([A-Z]{6}\+[\w-]+)", one):
            fonts.setdefault(tag, set()).add(one)
    tags = re.findall(rb"/BaseFont /([A-Z]{6}\+[\w-]+)", data)
    assert sorted(set(tags)) == sorted(fonts)
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is not None and reader.metadata.title == "RTCM Baku 2026 — печать"
    assert [item.title for item in reader.outline] == [
        f"{c.serial} {c.snapshot['holder']['name']}" for c in certificates
    ]
    assert [reader.get_destination_page_number(item) for item in reader.outline] == [0, 1, 2, 3]


def test_layout_1_certificates_merge_too(make: Any, db_session: Any) -> None:
    from trainingmgr.certificates import pdf_v1

    cohort = cohort_with_certificates(make)
    certificates = export.cohort_certificates(cohort.id)
    old = pdf_v1.render_certificate(certificates[0].snapshot, "https://x.example/verify/A")

    data = export.merged_pdf(certificates[:1], render=lambda _c: old)

    assert _page_streams(data) == _page_streams(old)
