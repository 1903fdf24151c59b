"""Issuing, revoking, reissuing and verifying certificates (services, without a request)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import services
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
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

    certificate = services.issue(actor, enrolment)

    year = services._issued_on(cohort).year
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
            services.issue(actor, enrolment, override_reason=reason)
        assert refused.value.field == "override_reason"
        assert "1 of 4 sessions, 25% is below 80%" in refused.value.message
    assert certificates() == [] and events("certificate.issue") == []

    certificate = services.issue(
        actor, enrolment, override_reason="  Missed sessions for a hospital stay  "
    )

    assert certificate.override_reason == "Missed sessions for a hospital stay"
    [event] = events("certificate.issue")
    assert event.changes["override_reason"] == "Missed sessions for a hospital stay"


def test_an_eligible_participant_needs_no_reason_and_none_is_stored(
    make: Any, db_session: Any
) -> None:
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P])

    certificate = services.issue(make.user(), enrolment, override_reason="not needed")

    assert certificate.override_reason is None


def test_issuing_twice_gives_the_same_certificate(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P])

    first = services.issue(actor, enrolment)
    second = services.issue(actor, enrolment)

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
        services.issue(make.user(), enrolment, override_reason="Please")

    assert certificates() == []


def test_serials_follow_each_other_within_a_programme(make: Any, db_session: Any) -> None:
    cohort = course(make)
    first = services.issue(make.user(), attend(make, cohort, [P, P, P, P]))
    second = services.issue(make.user(), attend(make, cohort, [P, P, P, P]))

    assert int(second.serial[-4:]) == int(first.serial[-4:]) + 1


def test_revoke_requires_a_reason_and_is_audited(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    certificate = services.issue(actor, attend(make, cohort, [P, P, P, P]))

    with pytest.raises(DomainError) as refused:
        services.revoke(actor, certificate, "  ")
    assert refused.value.field == "reason"
    assert certificate.status == CertificateStatus.VALID

    services.revoke(actor, certificate, "Attendance sheets were falsified")

    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoked_at is not None and certificate.revoked_by_id == actor.id
    assert certificate.revoke_reason == "Attendance sheets were falsified"
    [event] = events("certificate.revoke")
    assert event.object_id == certificate.id
    assert event.changes["reason"] == "Attendance sheets were falsified"
    assert event.programme_id == cohort.programme_id
    with pytest.raises(DomainError):
        services.revoke(actor, certificate, "again")


def test_a_revoked_certificate_lets_a_new_one_be_issued(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P])
    old = services.issue(actor, enrolment)
    services.revoke(actor, old, "Wrong cohort")

    new = services.issue(actor, enrolment)

    assert new.id != old.id and new.status == CertificateStatus.VALID


def test_reissue_after_a_name_correction_supersedes_the_old_one(make: Any, db_session: Any) -> None:
    actor = make.user()
    enrolment = attend(make, course(make), [P, P, P, P], first_name="Lamen", last_name="Aliyeva")
    old = services.issue(actor, enrolment)
    enrolment.person.first_name = "Ləman"
    enrolment.person.last_name = "Əliyeva"

    with pytest.raises(DomainError):
        services.reissue(actor, old, reason="")
    new = services.reissue(actor, old, reason="Name misspelt")

    assert new.id != old.id
    assert new.serial != old.serial and new.verification_code != old.verification_code
    assert new.snapshot["holder"]["name"] == "Ləman Əliyeva"
    assert old.snapshot["holder"]["name"] == "Lamen Aliyeva"
    assert old.status == CertificateStatus.SUPERSEDED and old.superseded_by_id == new.id
    assert new.status == CertificateStatus.VALID
    assert services.issue(actor, enrolment).id == new.id
    [event] = events("certificate.reissue")
    assert event.object_id == old.id
    assert event.changes["reason"] == "Name misspelt"
    assert event.changes["superseded_by"] == new.serial
    assert len(events("certificate.issue")) == 2
    with pytest.raises(DomainError):
        services.reissue(actor, old, reason="again")
    with pytest.raises(DomainError):
        services.revoke(actor, old, "superseded ones cannot be revoked")


def test_find_by_code_accepts_typed_variants(make: Any, db_session: Any) -> None:
    certificate = services.issue(make.user(), attend(make, course(make), [P, P, P, P]))
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
    certificate = services.issue(actor, attend(make, cohort, [P, P, P, P]))
    other = services.issue(actor, attend(make, cohort, [P, P, P, P]))

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

    assert snapshot["holder"] == {"name": f"{first} {last}", "name_latin": "Latin"}


def test_snapshot_contents(make: Any, db_session: Any, app: Any, monkeypatch: Any) -> None:
    monkeypatch.setitem(
        app.config,
        "CERTIFICATE_SIGNATORIES",
        [{"name": "Dr A. Mammadov", "title": "Director"}, {"name": "", "title": "ignored"}],
    )
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
    assert snapshot["signatories"] == [{"name": "Dr A. Mammadov", "title": "Director"}]
    assert snapshot["issuer"] == {"name": "Emergency Training Centre"}
    assert snapshot["holder"]["name_latin"] is None
    given = services.build_snapshot(enrolment, signatories=[{"name": "X", "title": "Y"}])
    assert given["signatories"] == [{"name": "X", "title": "Y"}]


def test_no_signatories_configured_gives_none(make: Any, db_session: Any) -> None:
    enrolment = attend(make, course(make), [P])

    assert services.build_snapshot(enrolment)["signatories"] == []


def test_issue_all_eligible_sorts_the_cohort(make: Any, db_session: Any) -> None:
    actor = make.user()
    cohort = course(make)
    done = attend(make, cohort, [P, P, P, P])
    already = services.issue(actor, done)
    good = [attend(make, cohort, [P, P, P, P]) for _ in range(2)]
    weak = attend(make, cohort, [P, A, A, A])
    make.enrolment(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)

    result = services.issue_all_eligible(actor, cohort)

    assert [c.enrolment_id for c in result.issued] == [e.id for e in good]
    assert result.already == [already]
    assert [(e.id, r.eligible) for e, r in result.not_eligible] == [(weak.id, False)]
    assert result.not_eligible[0][1].reasons == ["1 of 4 sessions, 25% is below 80%"]
    assert len(certificates()) == 3
    assert len({c.serial for c in certificates()}) == 3
    assert len(events("certificate.issue")) == 3

    again = services.issue_all_eligible(actor, cohort)
    assert again.issued == [] and len(again.already) == 3


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
            result = services.issue_all_eligible(actor, cohort)
        assert len(result.issued) == size
        inserts = [s for s in q.statements if s.lstrip().upper().startswith("INSERT")]
        # At most a certificate and its audit event each (batched where the driver can),
        # plus the year's serial counter row.
        assert len(inserts) <= 2 * size + 1
        counts.append(q.count - len(inserts))

    assert counts[0] == counts[1], counts
