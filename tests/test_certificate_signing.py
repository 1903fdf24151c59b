"""PAdES signatures of certificates (issue 21): every PDF issued once a key is set up is
signed at its issue time, pyHanko's validator accepts it, one changed byte fails it, and
certificates issued before (or without a key) stay unsigned and keep their bytes."""

from __future__ import annotations

import hashlib
from io import BytesIO
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from tests.signing_helpers import generate_key
from tests.test_certificates_services import P, attend, course
from trainingmgr.certificates import export, services, signing
from trainingmgr.credentials import keys
from trainingmgr.extensions import db


def _status(data: bytes, key: Any) -> Any:
    """pyHanko's validation of the PDF's one signature, trusting the key's own certificate."""
    root = keys.pdf_key(key).certificates[0].public_bytes(serialization.Encoding.DER)
    reader = PdfFileReader(BytesIO(data))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(root)])
    # Through signing._run: the browser tests leave an event loop running in this thread.
    return signing._run(async_validate_pdf_signature(signature, context))


def _stamp_text(data: bytes) -> str:
    """The text drawn by the signature field's appearance (the visible line)."""
    page = PdfReader(BytesIO(data)).pages[0]
    (widget,) = [a.get_object() for a in page["/Annots"] if a.get_object().get("/FT") == "/Sig"]
    return widget["/AP"]["/N"].get_object().get_data().decode("latin-1")


def test_a_certificate_issued_with_a_key_is_signed_and_valid(make: Any, db_session: Any) -> None:
    key = generate_key(actor=make.user())
    certificate = make.certificate()
    data = services.render_pdf(certificate)

    status = _status(data, key)
    assert status.bottom_line and status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    # Signed at the issue time (to the second), which is what makes the bytes reproducible.
    assert status.signer_reported_dt == certificate.issued_at.replace(microsecond=0)
    assert certificate.signing_key_id == key.id
    assert certificate.pdf_sha256 == hashlib.sha256(data).hexdigest()
    # The visible line a reader of the printed or displayed page sees.
    assert "Digitally signed by Regional Training Centre" in _stamp_text(data)


def test_one_changed_byte_fails_validation(make: Any, db_session: Any) -> None:
    key = generate_key(actor=make.user())
    data = services.render_pdf(make.certificate())
    # A byte inside the signed range (the page's content), not the signature itself.
    position = data.index(b"/Author")
    changed = data[:position] + b"/Buthor" + data[position + 7 :]

    status = _status(changed, key)
    assert not status.intact
    assert not status.bottom_line


def test_signing_is_reproducible_for_the_same_key_and_time(make: Any, db_session: Any) -> None:
    key = generate_key(actor=make.user())
    certificate = make.certificate()
    unsigned = services.render_snapshot(certificate)
    signer = keys.pdf_key(key)

    first = signing.sign_pdf(unsigned, signer, certificate.issued_at)
    again = signing.sign_pdf(unsigned, signer, certificate.issued_at)
    assert first == again == services.render_pdf(certificate)
    # The unsigned rendering is the first revision of the signed file, byte for byte.
    assert first.startswith(unsigned)


def test_without_a_key_certificates_stay_unsigned(make: Any, db_session: Any) -> None:
    certificate = make.certificate()
    data = services.render_pdf(certificate)
    assert certificate.signing_key_id is None
    assert PdfFileReader(BytesIO(data)).embedded_signatures == []
    assert data == services.render_snapshot(certificate)


def test_a_certificate_issued_before_the_key_keeps_its_bytes(make: Any, db_session: Any) -> None:
    before = make.certificate()
    stored = services.render_pdf(before)
    generate_key(actor=make.user())
    after = make.certificate()

    assert services.render_pdf(before) == stored
    assert before.signing_key_id is None
    assert after.signing_key_id is not None


def test_rotation_keeps_old_signatures_valid(make: Any, db_session: Any) -> None:
    admin = make.user()
    old_key = generate_key(actor=admin)
    old = make.certificate()
    new_key = generate_key("Regional Training Centre 2027", other=True, actor=admin)
    new = make.certificate()

    assert old_key.retired_at is not None and new_key.retired_at is None
    assert keys.current_key() == new_key
    assert _status(services.render_pdf(old), old_key).bottom_line
    assert _status(services.render_pdf(new), new_key).bottom_line
    assert (old.signing_key_id, new.signing_key_id) == (old_key.id, new_key.id)


def test_a_changed_secret_makes_the_key_unusable_with_a_message(
    app: Any, make: Any, db_session: Any
) -> None:
    key = generate_key(actor=make.user())
    app.config["SIGNING_KEY_SECRET"] = "another secret"
    try:
        with pytest.raises(keys.UnreadableKey) as caught:
            keys.pdf_key(key)
        assert "SIGNING_KEY_SECRET" in caught.value.message
    finally:
        app.config["SIGNING_KEY_SECRET"] = ""


def test_issuing_a_cohort_signed_runs_a_bounded_number_of_queries(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    key = generate_key(actor=make.user())
    counts = []
    for size in (3, 12):
        actor = make.user()
        cohort = course(make, n_sessions=2, code=f"S{size}")
        for _ in range(size):
            attend(make, cohort, [P, P])
        db.session.expire_all()
        cohort = db.session.get(type(cohort), cohort.id)
        with count_queries() as q:
            result = services.issue_all_eligible(cohort, actor=actor)
        assert len(result.issued) == size
        assert {c.signing_key_id for c in result.issued} == {key.id}
        inserts = [s for s in q.statements if s.lstrip().upper().startswith("INSERT")]
        counts.append(q.count - len(inserts))
    assert counts[0] == counts[1], counts
    assert _status(services.render_pdf(result.issued[-1]), key).bottom_line


def test_signed_certificates_merge_into_one_pdf_to_print_with_their_signature_lines(
    make: Any, db_session: Any
) -> None:
    """A signature is an incremental update of the PDF: the print merger reads both
    cross-reference sections (it used to fail on signed certificates)."""
    generate_key(actor=make.user())
    cohort = course(make, n_sessions=2, code="PRT")
    for _ in range(3):
        attend(make, cohort, [P, P])
    issued = services.issue_all_eligible(cohort, actor=make.user()).issued

    merged = export.merged_pdf(issued, title="Print")

    reader = PdfReader(BytesIO(merged))
    assert len(reader.pages) == 3
    for page, certificate in zip(reader.pages, issued, strict=True):
        assert certificate.serial in page.extract_text()
        widgets = [a.get_object() for a in page.get("/Annots", [])]
        appearance = [w["/AP"]["/N"].get_object().get_data() for w in widgets if "/AP" in w]
        assert any(b"Digitally signed by Regional Training Centre" in a for a in appearance)
