"""Issuing, revoking, reissuing and verifying certificates (services, without a request)."""

from __future__ import annotations

import email
import hashlib
import io
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from email import policy
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from pypdf import PdfReader

from tests.conftest import on_postgres
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import issuing, services
from trainingmgr.certificates.models import Certificate, CertificateAsset, CertificateStatus
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.mail import deferred
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.organisation.models import Signatory
from trainingmgr.organisation.services import get_settings
from trainingmgr.programmes.models import CertificateLanguage, PartnerRole, ProgrammePartner

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def certificates() -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def course(make: Any, n_sessions: int = 4, code: str = "RTCM", **cohort_kw: Any) -> Any:
    """A cohort (80% rule) of a programme with two modules; sessions alternate the modules."""
    programme = make.programme(code=code, title="Road Traffic Crash Management")
    m1 = make.module(programme, code="M1", title="Scene safety", position=1)
    m2 = make.module(programme, code="M2", title="Triage", position=2)
    cohort = make.cohort(programme, min_attendance_pct=80, **cohort_kw)
    for i in range(n_sessions):
        make.session(
            cohort=cohort,
            module=(m1, m2)[i % 2],
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=3),
        )
    return cohort


def attend(make: Any, cohort: Any, statuses: list[AttendanceStatus], **person_kw: Any) -> Any:
    enrolment = make.enrolment(cohort=cohort, person=make.person(**person_kw))
    for session, status in zip(cohort.sessions, statuses, strict=False):
        make.attendance(session, enrolment, status)
    return enrolment


def test_issue_to_an_eligible_participant(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P], first_name="Ləman", last_name="Əliyeva")

    certificate = services.issue(enrolment, actor=actor)

    year = issuing._issued_on(cohort).year
    assert certificate.serial == f"RTCM-{year}-0001"
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", certificate.verification_code)
    assert certificate.status == CertificateStatus.VALID
    assert certificate.issued_by_id == actor.id and certificate.issued_at is not None
    assert certificate.override_reason is None
    assert (certificate.person_id, certificate.cohort_id) == (enrolment.person_id, cohort.id)
    assert certificate.snapshot["holder"]["name"] == "Ləman Əliyeva"
    assert certificate.snapshot["serial"] == certificate.serial
    assert certificate.snapshot["hours"] == "12"
    [event] = events("certificate.issue")
    assert event.object_id == certificate.id and event.actor_id == actor.id
    assert event.programme_id == cohort.programme_id


def test_not_eligible_needs_a_written_reason(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    enrolment = attend(make, cohort, [P, A, A, A])

    for reason in (None, "", "   "):
        with pytest.raises(DomainError) as refused:
            services.issue(enrolment, override_reason=reason, actor=actor)
        assert refused.value.field == "override_reason"
        assert "1 of 4 sessions, 25% is below 80%" in refused.value.message
    assert certificates() == [] and events("certificate.issue") == []

    certificate = services.issue(
        enrolment, override_reason="  Missed sessions for a hospital stay  ", actor=actor
    )

    assert certificate.override_reason == "Missed sessions for a hospital stay"
    [event] = events("certificate.issue")
    assert event.changes["override_reason"] == "Missed sessions for a hospital stay"


def test_an_eligible_participant_needs_no_reason_and_none_is_stored(
    make: Any, db_session: Any
) -> None:
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P])

    certificate = services.issue(enrolment, override_reason="not needed", actor=make.user())

    assert certificate.override_reason is None


def test_issuing_twice_gives_the_same_certificate(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P])

    first = services.issue(enrolment, actor=actor)
    second = services.issue(enrolment, actor=actor)

    assert second.id == first.id
    assert len(certificates()) == 1 and len(events("certificate.issue")) == 1


@pytest.mark.parametrize(
    ("status", "extra"),
    [
        (EnrolmentStatus.WITHDRAWN, {}),
        (EnrolmentStatus.APPLIED, {}),
        (EnrolmentStatus.WAITLISTED, {"waitlist_position": 1}),
    ],
)
def test_enrolments_that_are_not_active_are_refused(
    make: Any, db_session: Any, status: EnrolmentStatus, extra: dict[str, Any]
) -> None:
    cohort = course(make)
    enrolment = make.enrolment(cohort=cohort, status=status, **extra)

    with pytest.raises(DomainError):
        services.issue(enrolment, override_reason="Please", actor=make.user())

    assert certificates() == []


def test_serials_follow_each_other_within_a_programme(make: Any, db_session: Any) -> None:
    cohort = course(make)
    first = services.issue(attend(make, cohort, [P, P, P, P]), actor=make.user())
    second = services.issue(attend(make, cohort, [P, P, P, P]), actor=make.user())

    assert int(second.serial[-4:]) == int(first.serial[-4:]) + 1


def test_revoke_requires_a_reason_and_is_audited(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    certificate = services.issue(attend(make, cohort, [P, P, P, P]), actor=actor)

    with pytest.raises(DomainError) as refused:
        services.revoke(certificate, "  ", actor=actor)
    assert refused.value.field == "reason"
    assert certificate.status == CertificateStatus.VALID

    services.revoke(certificate, "Attendance sheets were falsified", actor=actor)

    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_at is not None and certificate.revoked_by_id == actor.id
    assert certificate.revoke_reason == "Attendance sheets were falsified"
    [event] = events("certificate.revoke")
    assert event.object_id == certificate.id
    assert event.changes["reason"] == "Attendance sheets were falsified"
    assert event.programme_id == cohort.programme_id
    with pytest.raises(DomainError):
        services.revoke(certificate, "again", actor=actor)


def test_a_revoked_certificate_lets_a_new_one_be_issued(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P])
    old = services.issue(enrolment, actor=actor)
    services.revoke(old, "Wrong cohort", actor=actor)

    new = services.issue(enrolment, actor=actor)

    assert new.id != old.id and new.status == CertificateStatus.VALID


def test_reissue_after_a_name_correction_supersedes_the_old_one(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P], first_name="Lamen", last_name="Aliyeva")
    old = services.issue(enrolment, actor=actor)
    enrolment.person.first_name = "Ləman"
    enrolment.person.last_name = "Əliyeva"

    with pytest.raises(DomainError):
        services.reissue(old, reason="", actor=actor)
    new = services.reissue(old, reason="Name misspelt", actor=actor)

    assert new.id != old.id
    assert new.serial != old.serial and new.verification_code != old.verification_code
    assert new.snapshot["holder"]["name"] == "Ləman Əliyeva"
    assert old.snapshot["holder"]["name"] == "Lamen Aliyeva"
    assert old.status == CertificateStatus.SUPERSEDED and old.superseded_by_id == new.id
    assert new.status == CertificateStatus.VALID
    assert services.issue(enrolment, actor=actor).id == new.id
    [event] = events("certificate.reissue")
    assert event.object_id == old.id
    assert event.changes["reason"] == "Name misspelt"
    assert event.changes["superseded_by"] == new.serial
    assert len(events("certificate.issue")) == 2
    with pytest.raises(DomainError):
        services.reissue(old, reason="again", actor=actor)
    with pytest.raises(DomainError):
        services.revoke(old, "superseded ones cannot be revoked", actor=actor)


def test_find_by_code_accepts_typed_variants(make: Any, db_session: Any) -> None:
    certificate = services.issue(attend(make, course(make), [P, P, P, P]), actor=make.user())
    code = certificate.verification_code
    bare = code.replace("-", "")

    variants = [
        code,
        code.lower(),
        " ".join(bare[i : i + 4] for i in range(0, 16, 4)),
        f"  {bare.lower()}  ",
        code.replace("0", "O").replace("1", "I"),
    ]
    for typed in variants:
        assert services.find_by_code(typed) == certificate, typed
    assert services.find_by_code("") is None
    assert services.find_by_code("not a code") is None
    assert services.find_by_code("0000-0000-0000-0000") is None


def test_render_is_deterministic_and_the_sha_stable(make: Any, db_session: Any, app: Any) -> None:
    actor = make.user()
    cohort = course(make)
    certificate = services.issue(attend(make, cohort, [P, P, P, P]), actor=actor)
    other = services.issue(attend(make, cohort, [P, P, P, P]), actor=actor)

    first = services.render_pdf(certificate)

    assert first.startswith(b"%PDF-")
    assert services.render_pdf(certificate) == first
    assert services.pdf_sha256(certificate) == hashlib.sha256(first).hexdigest()
    assert services.pdf_sha256(certificate) != services.pdf_sha256(other)
    text = PdfReader(io.BytesIO(first)).pages[0].extract_text()
    assert certificate.serial in text
    assert f"{app.config['BASE_URL']}/verify/{certificate.verification_code}" in text


@pytest.mark.parametrize(
    ("first", "last"),
    [("Ləman", "Əliyeva"), ("Нино", "Беридзе"), ("ნინო", "ბერიძე"), ("Արամ", "Պետրոսյան")],
)
def test_snapshot_holds_the_name_in_its_script(
    make: Any, db_session: Any, first: str, last: str
) -> None:
    cohort = course(make)
    enrolment = attend(make, cohort, [P], first_name=first, last_name=last, name_latin="Latin")

    snapshot = services.build_snapshot(enrolment)

    assert snapshot["holder"] == {"name": f"{first} {last}", "name_latin": "Latin", "sex": None}


def png(colour: tuple[int, int, int], size: tuple[int, int] = (120, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signatory(programme_id: int | None, name: str, position: int, **kw: Any) -> Signatory:
    row = Signatory(programme_id=programme_id, name=name, position=position, **kw)
    db.session.add(row)
    db.session.flush()
    return row


def assets() -> dict[str, CertificateAsset]:
    return {a.sha256: a for a in db.session.scalars(sa.select(CertificateAsset))}


def test_snapshot_contents(make: Any, db_session: Any, app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(app.config, "ORGANISATION_NAME", "Emergency Training Centre")
    cohort = course(
        make,
        venue="Red Crescent Hall",
        city="Baku",
        country="AZ",
        certificate_language=CertificateLanguage.EN_AZ,
    )
    programme = cohort.programme
    programme.partners = [
        ProgrammePartner(name="Red Crescent", role=PartnerRole.PARTNER, position=1),
        ProgrammePartner(name="Ministry of Health", role=PartnerRole.PARTNER, position=2),
        ProgrammePartner(name="Good Fund", role=PartnerRole.FUNDER, position=3),
    ]
    signatory(None, "Dr A. Mammadov", 0, title="Director")
    db.session.flush()
    # Attended only the M1 sessions (0 and 2), 6 hours.
    enrolment = attend(make, cohort, [P, A, P, A])

    snapshot = services.build_snapshot(enrolment)

    assert snapshot["language"] == "en+az"
    assert snapshot["programme"] == {
        "code": "RTCM",
        "title": "Road Traffic Crash Management",
        "partners": ["Red Crescent", "Ministry of Health"],
        "funders": ["Good Fund"],
    }
    assert snapshot["cohort"] == {
        "name": cohort.name,
        "place": "Red Crescent Hall, Baku, Azerbaijan",
        "start_date": "2026-03-02",
        "end_date": "2026-03-13",
    }
    assert snapshot["hours"] == "6"
    assert snapshot["modules"] == [{"code": "M1", "title": "Scene safety"}]
    assert snapshot["signatories"] == [
        {"name": "Dr A. Mammadov", "title": "Director", "signature": None}
    ]
    assert snapshot["logo"] is None
    assert snapshot["issuer"] == {"name": "Emergency Training Centre"}
    assert snapshot["holder"]["name_latin"] is None
    given = services.build_snapshot(
        enrolment, signatories=[{"name": "X", "title": "Y"}, {"name": " ", "title": "ignored"}]
    )
    assert given["signatories"] == [{"name": "X", "title": "Y", "signature": None}]


def test_the_issuer_is_the_organisation_name_from_its_settings(make: Any, db_session: Any) -> None:
    get_settings().name = "Centre for Emergency Training"
    enrolment = attend(make, course(make), [P])

    assert services.build_snapshot(enrolment)["issuer"] == {"name": "Centre for Emergency Training"}


def test_no_signatories_gives_none(make: Any, db_session: Any) -> None:
    enrolment = attend(make, course(make), [P])

    assert services.build_snapshot(enrolment)["signatories"] == []


def test_a_programme_s_own_signatories_replace_the_organisation_s(
    make: Any, db_session: Any
) -> None:
    cohort = course(make)
    other = course(make, code="MMPAF")
    signature = png((10, 10, 10), (200, 80))
    signatory(None, "Default Director", 0, title="Director")
    signatory(cohort.programme_id, "Nino Beridze", 1, title="Lead trainer")
    signatory(
        cohort.programme_id,
        "Ləman Əliyeva",
        0,
        title="Programme manager",
        signature=signature,
        signature_mimetype="image/png",
    )

    own = services.build_snapshot(attend(make, cohort, [P]))["signatories"]
    default = services.build_snapshot(attend(make, other, [P]))["signatories"]

    assert own == [
        {"name": "Ləman Əliyeva", "title": "Programme manager", "signature": sha(signature)},
        {"name": "Nino Beridze", "title": "Lead trainer", "signature": None},
    ]
    assert default == [{"name": "Default Director", "title": "Director", "signature": None}]
    kept = assets()[sha(signature)]
    assert bytes(kept.data) == signature and kept.mimetype == "image/png"


def test_the_logo_is_the_programme_s_else_the_organisation_s(make: Any, db_session: Any) -> None:
    own, organisation = png((200, 30, 30)), png((30, 30, 200))
    cohort = course(make)
    cohort.programme.logo, cohort.programme.logo_mimetype = own, "image/png"
    other = course(make, code="MMPAF")
    settings = get_settings()
    settings.logo, settings.logo_mimetype = organisation, "image/png"
    db.session.flush()

    assert services.build_snapshot(attend(make, cohort, [P]))["logo"] == sha(own)
    assert services.build_snapshot(attend(make, other, [P]))["logo"] == sha(organisation)
    settings.logo = None
    assert services.build_snapshot(attend(make, other, [P]))["logo"] is None
    assert set(assets()) == {sha(own), sha(organisation)}


def test_images_are_kept_once_whatever_the_number_of_certificates(
    make: Any, db_session: Any
) -> None:
    logo, signature = png((200, 30, 30)), png((5, 5, 5), (300, 100))
    cohort = course(make)
    cohort.programme.logo = logo
    signatory(None, "Dr A. Mammadov", 0, signature=signature)
    for _ in range(3):
        attend(make, cohort, [P, P, P, P])

    result = services.issue_all_eligible(cohort, actor=make.user())
    services.issue(attend(make, cohort, [P, P, P, P]), actor=make.user())

    assert len(result.issued) == 3
    assert set(assets()) == {sha(logo), sha(signature)}
    assert services.store_assets([(logo, None), (png((1, 2, 3)), None)])[0] == sha(logo)
    assert len(assets()) == 3
    assert assets()[sha(png((1, 2, 3)))].mimetype == "image/png"  # recognised by content


def images_in(document: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image drawn on the page."""
    page = PdfReader(io.BytesIO(document)).pages[0]
    xobjects = page["/Resources"].get("/XObject")
    if xobjects is None:
        return []
    found = []
    for ref in xobjects.get_object().values():
        obj = ref.get_object()
        if obj["/Subtype"] == "/Image":
            found.append((int(obj["/Width"]), int(obj["/Height"])))
    return sorted(found)


def test_changing_a_logo_or_a_signature_later_does_not_change_issued_certificates(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    """The images are kept with the certificate: the PDF (and its SHA-256 on the
    verification page) stays the same when the programme's logo or a signature changes."""
    actor = make.user()
    cohort = course(make)
    programme = cohort.programme
    programme.logo, programme.logo_mimetype = png((200, 30, 30), (240, 120)), "image/png"
    signer = signatory(
        None, "Dr A. Mammadov", 0, signature=png((5, 5, 5), (300, 100)), signature_mimetype="x"
    )
    certificate = services.issue(attend(make, cohort, [P, P, P, P]), actor=actor)
    before = services.render_pdf(certificate)
    digest = services.pdf_sha256(certificate)
    assert images_in(before) == [(240, 120), (300, 100)]

    programme.logo = png((30, 200, 30), (160, 160))
    signer.signature = png((90, 90, 90), (320, 90))
    signer.name = "Someone Else"
    db.session.flush()
    db.session.expire_all()
    certificate = db.session.get(Certificate, certificate.id)

    with count_queries() as q:
        again = services.render_pdf(certificate)
    assert again == before
    assert services.pdf_sha256(certificate) == digest
    assert q.count <= 1  # the images, unless this process has them ready
    # Certificates issued from now on show the new logo, signature and name.
    new = services.issue(attend(make, cohort, [P, P, P, P]), actor=actor)
    assert images_in(services.render_pdf(new)) == [(160, 160), (320, 90)]
    assert new.snapshot["signatories"][0]["name"] == "Someone Else"


def test_render_pdf_loads_the_images_in_one_query(make: Any, db_session: Any, count_queries: Any):
    cohort = course(make)
    # Images this process has never prepared: rendering must load them from the database.
    logo = png((11, 22, 33), (97, 41))
    signatures = [png((i, i, i), (150 + i, 50)) for i in (1, 2, 3)]
    cohort.programme.logo = logo
    for i, signature in enumerate(signatures):
        signatory(cohort.programme_id, f"Signer {i}", i, signature=signature)
    certificate = services.issue(attend(make, cohort, [P, P, P, P]), actor=make.user())
    db.session.expire_all()
    certificate = db.session.get(Certificate, certificate.id)
    certificate.snapshot  # noqa: B018 (loaded before counting)

    with count_queries() as q:
        document = services.render_pdf(certificate)

    assert q.count == 1
    assert images_in(document) == [(97, 41), (151, 50), (152, 50), (153, 50)]


def test_a_snapshot_from_before_images_were_kept_still_renders(make: Any, db_session: Any):
    certificate = services.issue(attend(make, course(make), [P, P, P, P]), actor=make.user())
    old = dict(certificate.snapshot)
    del old["logo"]
    old["signatories"] = [{"name": "Ivan Petrov", "title": "Programme Manager"}]
    certificate.snapshot = old
    db.session.flush()

    document = services.render_snapshot(certificate)

    assert document.startswith(b"%PDF-") and document == services.render_snapshot(certificate)
    assert images_in(document) == []
    assert "Ivan Petrov" in PdfReader(io.BytesIO(document)).pages[0].extract_text()


def _store(app: Flask, image: bytes, stored: threading.Event, errors: list[Any], first: bool):
    try:
        with app.app_context():
            if not first:
                stored.wait(5)
            services.store_assets([(image, "image/png")])
            if first:
                stored.set()
                time.sleep(0.3)  # the other issuer now inserts the same image
            db.session.commit()
            db.session.remove()
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
        stored.set()


def test_two_issuers_storing_the_same_new_image_both_succeed(app: Flask, committed_db: Any) -> None:
    """The second one's INSERT waits for the first's commit and then does nothing."""
    image = png((123, 45, 67), (33, 33))
    stored = threading.Event()
    errors: list[Any] = []
    workers = [
        threading.Thread(target=_store, args=(app, image, stored, errors, first))
        for first in (True, False)
    ]
    for worker in workers:
        worker.start()
        if not on_postgres():  # SQLite has one writer at a time: one after the other
            worker.join()
    for worker in workers:
        worker.join()

    assert errors == []
    rows = list(committed_db.scalars(sa.select(CertificateAsset)))
    assert [r.sha256 for r in rows] == [sha(image)]


def test_issue_all_eligible_sorts_the_cohort(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    done = attend(make, cohort, [P, P, P, P])
    already = services.issue(done, actor=actor)
    good = [attend(make, cohort, [P, P, P, P]) for _ in range(2)]
    weak = attend(make, cohort, [P, A, A, A])
    make.enrolment(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)

    result = services.issue_all_eligible(cohort, actor=actor)

    assert [c.enrolment_id for c in result.issued] == [e.id for e in good]
    assert result.already == [already]
    assert [(e.id, r.eligible) for e, r in result.not_eligible] == [(weak.id, False)]
    assert result.not_eligible[0][1].reasons == ["1 of 4 sessions, 25% is below 80%"]
    assert len(certificates()) == 3
    assert len({c.serial for c in certificates()}) == 3
    assert len(events("certificate.issue")) == 3

    again = services.issue_all_eligible(cohort, actor=actor)
    assert again.issued == [] and len(again.already) == 3


def test_issue_all_eligible_does_not_undo_a_revocation(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    revoked = services.revoke(
        services.issue(attend(make, cohort, [P, P, P, P]), actor=actor), "Forged", actor=actor
    )
    other = attend(make, cohort, [P, P, P, P])

    result = services.issue_all_eligible(cohort, actor=actor)

    assert [c.enrolment_id for c in result.issued] == [other.id]
    assert result.revoked == [revoked.enrolment]
    assert revoked.status == CertificateStatus.REVOKED
    # Issuing to that one participant on purpose still works.
    again = services.issue(revoked.enrolment, actor=actor)
    assert again.status == CertificateStatus.VALID and again.serial != revoked.serial


def test_issuing_queues_the_certificate_issued_mail_for_each_holder(
    make: Any, db_session: Any
) -> None:
    actor = make.user()
    cohort = course(make)
    people = [attend(make, cohort, [P, P, P, P]) for _ in range(3)]
    people[2].person.email = None

    result = services.issue_all_eligible(cohort, actor=actor)
    db.session.commit()
    queued = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued")
    ).all()
    assert [r.message for r in queued] == [None, None]  # written by the worker, after the commit
    assert deferred.render_pending() == 2

    rows = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued")
    ).all()
    for row in rows:
        db.session.refresh(row)
    assert len(result.issued) == 3
    assert sorted(r.recipient for r in rows) == sorted(p.person.email for p in people[:2])
    assert all(r.status == OutboxStatus.PENDING and r.cohort_id == cohort.id for r in rows)
    codes_sent = {
        c.verification_code
        for c in result.issued
        for r in rows
        if c.verification_code
        in email.message_from_bytes(r.message, policy=policy.default)
        .get_body(("plain",))
        .get_content()
    }
    assert len(codes_sent) == 2  # each holder's message links to their own verification page


def test_issue_all_eligible_runs_a_bounded_number_of_queries(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    counts = []
    for size in (3, 60):
        actor = make.user()
        cohort = course(make, n_sessions=2, code=f"C{size}")
        for _ in range(size):
            attend(make, cohort, [P, P])
        db.session.expire_all()
        cohort = db.session.get(type(cohort), cohort.id)
        with count_queries() as q:
            result = services.issue_all_eligible(cohort, actor=actor)
        assert len(result.issued) == size
        inserts = [s for s in q.statements if s.lstrip().upper().startswith("INSERT")]
        # At most a certificate, its audit event and the enrolment's status event each
        # (batched where the driver can), plus the year's serial counter row and the
        # organisation's settings row (created when first read).
        assert len(inserts) <= 3 * size + 2
        counts.append(q.count - len(inserts))

    assert counts[0] == counts[1], counts


def status_events(enrolment: Any) -> list[AuditEvent]:
    return [e for e in events("enrolment.status") if e.object_id == enrolment.id]


def test_issuing_completes_the_enrolment(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P], first_name="Ləman", last_name="Əliyeva")

    certificate = services.issue(enrolment, actor=actor)

    assert enrolment.status == EnrolmentStatus.COMPLETED
    [event] = status_events(enrolment)
    assert event.changes == {"status": ["enrolled", "completed"], "certificate": certificate.serial}
    assert event.actor_id == actor.id and event.programme_id == enrolment.cohort.programme_id
    assert event.summary == "Ləman Əliyeva: enrolled -> completed"


def test_issuing_to_someone_marked_not_completed_completes_them(make: Any, db_session: Any):
    enrolment = attend(make, course(make), [P, A, A, A])
    enrolment.status = EnrolmentStatus.NOT_COMPLETED

    services.issue(
        enrolment, override_reason="Exam passed after a hospital stay", actor=make.user()
    )

    assert enrolment.status == EnrolmentStatus.COMPLETED
    [event] = status_events(enrolment)
    assert event.changes["status"] == ["not_completed", "completed"]


def test_revoking_and_reissuing_leave_the_status_alone(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P])
    certificate = services.issue(enrolment, actor=actor)

    new = services.reissue(certificate, reason="Name misspelt", actor=actor)
    services.revoke(new, "Issued in the wrong cohort", actor=actor)

    assert enrolment.status == EnrolmentStatus.COMPLETED
    assert len(status_events(enrolment)) == 1  # only the first issue changed it


def test_issue_all_eligible_completes_those_it_issues_to(make: Any, db_session: Any) -> None:
    cohort = course(make)
    good = [attend(make, cohort, [P, P, P, P]) for _ in range(3)]
    weak = attend(make, cohort, [P, A, A, A])

    result = services.issue_all_eligible(cohort, actor=make.user())

    assert len(result.issued) == 3
    assert [e.status for e in good] == [EnrolmentStatus.COMPLETED] * 3
    assert weak.status == EnrolmentStatus.ENROLLED
    assert len(events("enrolment.status")) == 3


def test_a_name_the_fonts_cannot_print_is_refused_and_nothing_is_written(
    make: Any, db_session: Any
) -> None:
    actor = make.user()
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P])
    enrolment.person.first_name = "王"  # no bundled font has Chinese characters
    db.session.flush()

    with pytest.raises(DomainError) as refused:
        services.issue(enrolment, actor=actor)

    assert "cannot print (王)" in refused.value.message
    assert certificates() == []


def test_issue_to_all_issues_everyone_printable_and_names_the_others(
    make: Any, db_session: Any
) -> None:
    cohort = course(make)
    good = [attend(make, cohort, [P, P, P, P]) for _ in range(2)]
    chinese = attend(make, cohort, [P, P, P, P], first_name="小明", last_name="王")

    result = services.issue_all_eligible(cohort, actor=make.user())

    assert sorted(c.enrolment_id for c in result.issued) == sorted(e.id for e in good)
    assert [(e.id, letters) for e, letters in result.unprintable] == [
        (chinese.id, ["小", "明", "王"])
    ]
    assert chinese.status == EnrolmentStatus.ENROLLED
    assert len(certificates()) == 2


def test_issuing_a_cohort_takes_the_same_statements_for_3_and_30(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    """Certificates, audit events and e-mails of a batch are inserted in one statement each:
    issuing 30 costs no more statements than issuing 3."""
    get_settings()  # the settings row exists (else the first batch creates it)
    counts = []
    for size in (3, 30):
        cohort = course(make, code=f"B{size}")
        for i in range(size):
            attend(make, cohort, [P, P, P, P], first_name=f"N{i}", email=f"p{size}-{i}@example.org")
        with count_queries() as q:
            result = services.issue_all_eligible(cohort, actor=make.user())
        assert len(result.issued) == size
        assert len(events("certificate.issue")) == sum((3, 30)[: len(counts) + 1])
        counts.append(q.count)
    assert counts[0] == counts[1]
    assert counts[1] <= 40
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued")
    ).all()
    assert len(messages) == 33
