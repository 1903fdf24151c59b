"""The coordinator's certificate screens and the downloads (issue 6), through HTTP."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from pypdf import PdfReader

from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import runs
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.extensions import db

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
P, L, A = AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.ABSENT


@dataclass
class Course:
    cohort: Cohort
    leman: Enrolment  # eligible
    ivan: Enrolment  # eligible (late once)
    nino: Enrolment  # 1 of 4 sessions and module M2 missed: not eligible

    @property
    def url(self) -> str:
        return f"/cohorts/{self.cohort.id}/certificates"


def course(make: Any, code: str = "RTCM", extra: int = 0) -> Course:
    """A cohort in Baku (80% and module M2 required) with four sessions alternating two
    modules; two participants attended everything (one was late once), one attended one
    session. ``extra`` more
    participants attend everything."""
    programme = make.programme(code=code, title="Road Traffic Crash Management")
    m1 = make.module(programme, code="M1", title="Scene safety", position=1)
    m2 = make.module(programme, code="M2", title="Triage", position=2)
    cohort = make.cohort(
        programme, name="RTCM Baku 2026", min_attendance_pct=80, timezone="Asia/Baku"
    )
    cohort.required_modules.append(m2)
    for i in range(4):
        make.session(
            cohort=cohort,
            module=(m1, m2)[i % 2],
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=3),
        )

    def attend(first: str, last: str, statuses: list[AttendanceStatus]) -> Enrolment:
        person = make.person(first_name=first, last_name=last)
        enrolment = make.enrolment(cohort=cohort, person=person)
        for session, status in zip(cohort.sessions, statuses, strict=True):
            make.attendance(session, enrolment, status)
        return enrolment

    result = Course(
        cohort=cohort,
        leman=attend("Ləman", "Əliyeva", [P, P, P, P]),
        ivan=attend("Иван", "Петров", [P, L, P, P]),
        nino=attend("ნინო", "ბერიძე", [P, A, A, A]),
    )
    for i in range(extra):
        attend(f"Extra{i}", f"Participant{i:03d}", [P, P, P, P])
    return result


def coordinator_of(login: Any, cohort: Cohort) -> User:
    user = login(Role.COORDINATOR)
    user.programmes.append(cohort.programme)
    db.session.flush()
    return user


def certificates() -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def flashes(response: Any) -> list[str]:
    return [
        re.sub(r"\s+", " ", m).strip()
        for m in re.findall(r'<div class="alert[^"]*"[^>]*>(.*?)</div>', response.text, re.S)
    ]


def text(response: Any) -> str:
    """The page's visible text, spaces collapsed (for phrases split over lines)."""
    body = re.sub(r"<[^>]+>", " ", response.text)
    return re.sub(r"\s+", " ", body.replace("&#39;", "'").replace("&amp;", "&"))


# --------------------------------------------------------------------------- the page


def test_page_shows_the_rule_counts_and_the_reasons_in_words(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)

    page = client.get(c.url)

    assert page.status_code == 200
    shown = text(page)
    assert "Attendance of at least 80% of the sessions held" in shown
    assert "Each of these modules attended at least once: M2 (Triage)." in shown
    assert 'data-testid="count-eligible">2<' in page.text
    assert 'data-testid="count-not-eligible">1<' in page.text
    assert 'data-testid="count-issued">0<' in page.text
    assert 'data-testid="count-waiting">2<' in page.text
    nino = re.search(rf'data-testid="reasons-{c.nino.id}">(.*?)</ul>', page.text, re.S)
    assert nino is not None
    assert "1 of 4 sessions, 25% is below 80%" in nino.group(1)
    assert "module M2 not attended" in nino.group(1)
    assert f'data-testid="reasons-{c.leman.id}"' not in page.text  # eligible: no reasons
    assert "4 of 4 sessions" in shown and "100%" in shown and "12 hours attended" in shown
    assert "1 of 4 sessions" in shown and "3 hours attended" in shown  # Nino's summary
    for name in ("Ləman Əliyeva", "Иван Петров", "ნინო ბერიძე"):
        assert name in page.text
    assert 'data-testid="issue-all"' in page.text
    assert f'data-testid="issue-anyway-{c.nino.id}"' in page.text
    assert f'data-testid="issue-{c.leman.id}"' in page.text


def test_the_cohort_hub_links_to_the_certificates_page(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)

    hub = client.get(f"/cohorts/{c.cohort.id}")

    assert f'href="{c.url}"' in hub.text


def test_the_page_loads_with_the_same_number_of_queries_for_3_and_60_participants(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    small, large = course(make, code="SML"), course(make, code="LRG", extra=57)
    user = login(Role.COORDINATOR)
    user.programmes.extend([small.cohort.programme, large.cohort.programme])
    db.session.flush()
    for c in (small, large):  # some certificates, one revoked, to show every kind of row
        client.post(f"{c.url}/issue-all")
        while runs.work():  # the large cohort's are issued by the worker
            pass
        first = db.session.scalars(
            sa.select(Certificate).where(Certificate.cohort_id == c.cohort.id)
        ).first()
        client.post(f"{c.url}/{first.id}/revoke", data={"reason": "Test"})
    urls = [small.url, large.url]
    for url in urls:  # warm up (and the worker's summary, shown once)
        client.get(url)

    counts = []
    for url in urls:
        with count_queries() as q:
            page = client.get(url)
        assert page.status_code == 200
        counts.append(q.count)

    assert page.text.count('data-testid="enrolment-') == 60
    assert counts[0] == counts[1], counts


# --------------------------------------------------------------------------- issuing


def test_issue_to_all_eligible_in_one_click_then_again(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)

    page = client.post(f"{c.url}/issue-all", follow_redirects=True)

    assert "2 issued, 0 already had one, 1 not eligible." in flashes(page)
    certificate, second = certificates()
    assert {certificate.enrolment_id, second.enrolment_id} == {c.leman.id, c.ivan.id}
    if certificate.enrolment_id != c.leman.id:
        certificate = second
    assert certificate.serial in page.text
    assert f'data-testid="serial-{c.leman.id}">{certificate.serial}<' in page.text
    assert 'data-testid="count-issued">2<' in page.text
    assert 'data-testid="issue-all"' not in page.text  # nobody eligible is left waiting
    assert "Every eligible participant has a certificate." in page.text
    issued_local = certificate.issued_at.astimezone(c.cohort.tz).strftime("%H:%M")
    assert issued_local in page.text  # the time of issue, in Baku time

    again = client.post(f"{c.url}/issue-all", follow_redirects=True)

    assert "0 issued, 2 already had one, 1 not eligible." in flashes(again)
    assert len(certificates()) == 2


def test_issue_to_one_eligible_participant_and_twice_gives_one_certificate(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    url = f"{c.url}/issue/{c.leman.id}"

    page = client.post(url, follow_redirects=True)

    [certificate] = certificates()
    assert f"Certificate {certificate.serial} issued to Ləman Əliyeva." in flashes(page)
    assert certificate.override_reason is None
    assert certificate.issued_by_id is not None

    again = client.post(url, follow_redirects=True)

    assert f"Ləman Əliyeva already has certificate {certificate.serial}." in flashes(again)
    assert len(certificates()) == 1


def test_issuing_to_someone_not_eligible_needs_a_written_reason(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    url = f"{c.url}/issue/{c.nino.id}"

    form = client.get(url)

    assert form.status_code == 200
    assert "The completion rule does not find ნინო ბერიძე eligible" in form.text
    assert "1 of 4 sessions, 25% is below 80%" in form.text
    assert "module M2 not attended" in form.text
    assert 'name="override_reason"' in form.text

    for blank in ("", "   "):
        refused = client.post(url, data={"override_reason": blank})
        assert refused.status_code == 200
        assert "write why the certificate is issued anyway" in refused.text
        assert 'class="invalid-feedback"' in refused.text
    assert certificates() == []
    assert db.session.scalars(sa.select(AuditEvent)).all() == []

    done = client.post(
        url,
        data={"override_reason": "Hospital stay; caught up with the trainer"},
        follow_redirects=True,
    )

    [certificate] = certificates()
    assert f"Certificate {certificate.serial} issued to ნინო ბერიძე." in flashes(done)
    assert certificate.override_reason == "Hospital stay; caught up with the trainer"
    assert "Issued with a reason: Hospital stay; caught up with the trainer" in done.text
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.issue")
    ).all()
    assert "Hospital stay" in str(event.changes)


def test_an_eligible_participant_needs_no_reason_on_the_issue_page(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)

    page = client.get(f"{c.url}/issue/{c.leman.id}")

    assert "Ləman Əliyeva meets the completion rule." in page.text
    assert 'name="override_reason"' not in page.text


# --------------------------------------------------------------------------- revoke, reissue


def test_revoke_needs_a_reason_and_keeps_the_certificate(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    certificate = make.certificate(c.leman)
    url = f"{c.url}/{certificate.id}/revoke"

    form = client.get(url)
    assert form.status_code == 200
    assert f"Revoke certificate {certificate.serial}" in form.text

    refused = client.post(url, data={"reason": "  "})
    assert refused.status_code == 200
    assert "Write the reason." in refused.text
    db.session.refresh(certificate)
    assert certificate.status == CertificateStatus.VALID

    done = client.post(url, data={"reason": "Attendance sheet was forged"}, follow_redirects=True)

    assert f"Certificate {certificate.serial} revoked: the verification page now says so." in (
        flashes(done)
    )
    db.session.refresh(certificate)
    assert certificate.status == CertificateStatus.REVOKED
    assert certificate.revoke_reason == "Attendance sheet was forged"
    assert "Attendance sheet was forged" in done.text  # in the participant's history
    assert 'data-testid="count-issued">0<' in done.text
    # Still eligible by the rule, but "issue all" leaves a revoked certificate alone.
    assert "1 eligible participant whose certificate was revoked is left out" in done.text
    assert re.search(rf'data-testid="issue-{c.leman.id}">Issue again<', done.text)
    bulk = client.post(f"{c.url}/issue-all", follow_redirects=True)
    assert "1 left out because their certificate was revoked" in " ".join(flashes(bulk))
    assert [x.status for x in certificates() if x.enrolment_id == c.leman.id] == [
        CertificateStatus.REVOKED
    ]

    twice = client.get(url, follow_redirects=True)
    assert "only a valid certificate can be revoked or reissued" in twice.text


def test_reissue_after_a_name_correction(client: FlaskClient, login: Any, make: Any) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    old = make.certificate(c.leman)
    c.leman.person.last_name = "Əliyeva-Həsənova"
    db.session.flush()

    page = client.get(c.url)
    assert f'data-testid="name-changed-{c.leman.id}"' in page.text
    assert "Printed as “Ləman Əliyeva”" in page.text

    form = client.get(f"{c.url}/{old.id}/reissue")
    assert "Ləman Əliyeva-Həsənova" in form.text and "changed" in form.text
    refused = client.post(f"{c.url}/{old.id}/reissue", data={"reason": ""})
    assert "Write the reason." in refused.text
    assert len(certificates()) == 1

    done = client.post(
        f"{c.url}/{old.id}/reissue",
        data={"reason": "Surname corrected at her request"},
        follow_redirects=True,
    )

    old_now, new = certificates()
    assert old_now.status == CertificateStatus.SUPERSEDED
    assert old_now.superseded_by_id == new.id
    assert new.snapshot["holder"]["name"] == "Ləman Əliyeva-Həsənova"
    assert (
        f"Certificate {new.serial} issued to Ləman Əliyeva-Həsənova; it replaces {old.serial}."
        in flashes(done)
    )
    assert f"replaced by {new.serial}" in done.text
    assert f'data-testid="name-changed-{c.leman.id}"' not in done.text


def test_wrong_ids_are_404_and_write_nothing(client: FlaskClient, login: Any, make: Any) -> None:
    c = course(make)
    other = course(make, code="OTH")
    user = coordinator_of(login, c.cohort)
    user.programmes.append(other.cohort.programme)
    db.session.flush()
    theirs = make.certificate(other.leman)

    assert client.post(f"{c.url}/issue/{other.leman.id}").status_code == 404
    assert client.get(f"{c.url}/issue/{other.nino.id}").status_code == 404
    assert client.post(f"{c.url}/{theirs.id}/revoke", data={"reason": "x"}).status_code == 404
    assert client.post(f"{c.url}/{theirs.id}/reissue", data={"reason": "x"}).status_code == 404
    assert client.get(f"{c.url}/{theirs.id}/revoke").status_code == 404
    assert client.post(f"{c.url}/issue/987654").status_code == 404
    assert client.post("/cohorts/987654/certificates/issue-all").status_code == 404

    assert [x.id for x in certificates()] == [theirs.id]
    db.session.refresh(theirs)
    assert theirs.status == CertificateStatus.VALID


# --------------------------------------------------------------------------- downloads


def test_coordinator_downloads_one_certificate_named_by_its_serial(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    certificate = make.certificate(c.leman)

    response = client.get(f"/certificates/{certificate.id}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{certificate.serial}.pdf"'
    )
    assert "Ləman Əliyeva" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


def test_the_holder_downloads_their_certificate_and_nobody_else_does(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    mine = make.certificate(c.leman)
    theirs = make.certificate(c.nino)
    url = f"/certificates/{mine.id}.pdf"

    login(Role.PARTICIPANT, person=c.leman.person)
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert client.get(f"/certificates/{theirs.id}.pdf").status_code == 404
    assert client.get(f"/cohorts/{c.cohort.id}/certificates").status_code == 403

    login(Role.PARTICIPANT, person=c.ivan.person)  # another participant of the cohort
    assert client.get(url).status_code == 404
    login(Role.TRAINER)
    assert client.get(url).status_code == 404
    other_programme = course(make, code="OTH")
    coordinator_of(login, other_programme.cohort)
    assert client.get(url).status_code == 404
    login(Role.ADMIN)
    assert client.get(url).status_code == 200


def test_a_revoked_certificate_is_no_longer_the_holders_to_download(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    certificate = make.certificate(c.leman)
    coordinator_of(login, c.cohort)
    client.post(f"{c.url}/{certificate.id}/revoke", data={"reason": "Issued by mistake"})

    login(Role.PARTICIPANT, person=c.leman.person)
    assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 404
    coordinator_of(login, c.cohort)  # coordinators still can (the record is kept)
    assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 200


def test_cohort_zip_has_one_pdf_per_valid_certificate_and_is_streamed(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    keep = [make.certificate(e) for e in (c.leman, c.ivan)]
    revoked = make.certificate(c.nino)
    client.post(f"{c.url}/{revoked.id}/revoke", data={"reason": "Issued by mistake"})

    response = client.get(f"{c.url}.zip")

    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="RTCM Baku 2026 certificates.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    names = sorted(archive.namelist())
    assert names == sorted(
        [f"{keep[0].serial} Ləman Əliyeva.pdf", f"{keep[1].serial} Иван Петров.pdf"]
    )
    for name in names:
        assert archive.read(name).startswith(b"%PDF")


def test_merged_pdf_has_one_page_per_valid_certificate(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    for enrolment in (c.leman, c.ivan, c.nino):
        make.certificate(enrolment)

    response = client.get(f"{c.url}.pdf")

    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 3
    # By surname, across scripts: ბერიძე (Beridze), Əliyeva, Петров (Petrov).
    texts = [page.extract_text() for page in reader.pages]
    assert "ნინო ბერიძე" in texts[0]
    assert "Ləman Əliyeva" in texts[1]
    assert "Иван Петров" in texts[2]


def test_empty_downloads_go_back_to_the_page_with_a_message(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)

    for suffix, word in ((".zip", "download"), (".pdf", "print")):
        page = client.get(f"{c.url}{suffix}", follow_redirects=True)
        assert f"There is no valid certificate to {word} yet." in flashes(page)


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_cannot_open_the_cohort_page(
    client: FlaskClient, login: Any, make: Any, role: Role
) -> None:
    c = course(make)
    login(role)

    assert client.get(c.url).status_code == 403
    assert client.post(f"{c.url}/issue-all").status_code == 403
    assert client.get(f"{c.url}.zip").status_code == 403
    assert certificates() == []


def test_a_coordinator_of_another_programme_gets_404_and_writes_nothing(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    other = course(make, code="OTH")
    coordinator_of(login, other.cohort)
    certificate = make.certificate(c.leman)

    assert client.get(c.url).status_code == 404
    assert client.post(f"{c.url}/issue-all").status_code == 404
    assert client.post(f"{c.url}/issue/{c.ivan.id}", data={"override_reason": "x"}).status_code == (
        404
    )
    assert client.post(f"{c.url}/{certificate.id}/revoke", data={"reason": "x"}).status_code == (
        404
    )
    assert client.get(f"{c.url}.zip").status_code == 404
    assert client.get(f"{c.url}.pdf").status_code == 404
    assert [x.id for x in certificates()] == [certificate.id]
    db.session.refresh(certificate)
    assert certificate.status == CertificateStatus.VALID


def test_an_admin_sees_every_cohort(client: FlaskClient, login: Any, make: Any) -> None:
    c = course(make)
    login(Role.ADMIN)

    assert client.get(c.url).status_code == 200


def test_a_withdrawn_participant_gets_no_certificate(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    coordinator_of(login, c.cohort)
    withdrawn = make.enrolment(cohort=c.cohort, status=EnrolmentStatus.WITHDRAWN)
    url = f"{c.url}/issue/{withdrawn.id}"

    page = client.get(url)
    assert 'data-testid="not-active"' in page.text and "Withdrawn" in page.text
    assert f'data-testid="enrolment-{withdrawn.id}"' not in client.get(c.url).text

    refused = client.post(url, data={"override_reason": "Please"})
    assert "A withdrawn participant cannot get a certificate." in flashes(refused)
    assert certificates() == []


def test_a_cohort_named_in_another_script_keeps_its_name_in_the_file_name(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    c.cohort.name = "Гянджа 2026"
    coordinator_of(login, c.cohort)
    make.certificate(c.leman)

    response = client.get(f"{c.url}.pdf")

    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="RTCM Gyandzha 2026 certificates.pdf"')
    assert "filename*=UTF-8''RTCM%20%D0%93%D1%8F%D0%BD%D0%B4%D0%B6%D0%B0" in disposition


def test_the_page_warns_of_unprintable_names_and_issue_all_issues_the_others(
    client: FlaskClient, login: Any, make: Any
) -> None:
    c = course(make)
    c.ivan.person.first_name, c.ivan.person.last_name = "小明", "王"
    db.session.flush()
    coordinator_of(login, c.cohort)

    before = client.get(c.url)
    warning = before.text.split('data-testid="unprintable">')[1].split("</div>")[0]
    assert f"will leave out {c.ivan.person.full_name} (小 明 王)" in warning
    assert "Organisation settings" in warning

    page = client.post(f"{c.url}/issue-all", follow_redirects=True)

    messages = flashes(page)
    assert "1 issued, 0 already had one, 1 not eligible." in messages
    assert any("Not issued" in m and "王" in m for m in messages)
    assert [cert.enrolment_id for cert in certificates()] == [c.leman.id]


def test_a_large_cohort_is_shown_a_page_at_a_time_with_the_whole_cohorts_counts(
    client: FlaskClient, login: Any, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainingmgr.certificates import queries

    monkeypatch.setattr(queries, "CERTIFICATES_PER_PAGE", 2)
    c = course(make)
    coordinator_of(login, c.cohort)
    rows = re.compile(r'<tr id="enrolment-(\d+)"')

    first = client.get(c.url).text
    second = client.get(c.url, query_string={"page": 2}).text

    # Surnames in a Latin spelling: Beridze (ბერიძე), Əliyeva, Petrov (Петров).
    assert rows.findall(first) == [str(c.nino.id), str(c.leman.id)]
    assert rows.findall(second) == [str(c.ivan.id)]
    for page in (first, second):
        assert re.search(r'data-testid="count-eligible">2<', page)
        assert re.search(r'data-testid="count-not-eligible">1<', page)
        assert "Issue to all eligible</button>" not in page
        assert 'data-testid="issue-all">Issue to all eligible (2)' in page
    assert "Showing 3–3 of 3" in second

    # Issuing from the second page comes back to it, at the row.
    form = f'action="/cohorts/{c.cohort.id}/certificates/issue/{c.ivan.id}?page=2"'
    assert form in second
    response = client.post(f"{c.url}/issue/{c.ivan.id}?page=2")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{c.url}?page=2#enrolment-{c.ivan.id}")
    assert re.search(r'data-testid="count-issued">1<', client.get(c.url).text)


def test_a_cohort_with_no_one_eligible_says_so(client: FlaskClient, login: Any, make: Any) -> None:
    programme = make.programme(code="GMB")
    cohort = make.cohort(programme, name="Banjul 2026", min_attendance_pct=80)
    session = make.session(cohort=cohort)
    for first in ("Awa", "Lamin"):
        enrolment = make.enrolment(cohort=cohort, person=make.person(first_name=first))
        make.attendance(session, enrolment, A)
    coordinator_of(login, cohort)

    html = client.get(f"/cohorts/{cohort.id}/certificates").get_data(as_text=True)

    assert 'data-testid="none-eligible"' in html
    assert "No participant is eligible for a certificate yet" in html
    assert "Every eligible participant has a certificate" not in html


def test_the_time_of_issue_names_the_cohorts_zone_when_it_is_not_the_readers(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    c = course(make)
    user = coordinator_of(login, c.cohort)
    client.post(f"{c.url}/issue-all")

    user.timezone = "Asia/Baku"  # the cohort's own zone: nothing to say
    db_session.flush()
    assert "(Azerbaijan Time)" not in client.get(c.url).text

    user.timezone = "Europe/Amsterdam"
    db_session.flush()
    assert "(Azerbaijan Time)" in client.get(c.url).text


def test_someone_excused_from_every_session_held_is_not_shown_as_not_recorded(
    client: FlaskClient, login: Any, make: Any
) -> None:
    cohort = make.cohort(make.programme(code="GMB"), name="Banjul 2026", min_attendance_pct=80)
    sessions = [
        make.session(
            cohort=cohort,
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=2),
        )
        for i in range(2)
    ]
    people = {}
    for first, status in (("Awa", AttendanceStatus.EXCUSED), ("Lamin", None), ("Fatou", P)):
        people[first] = make.enrolment(cohort=cohort, person=make.person(first_name=first))
        for session in sessions if status else ():
            make.attendance(session, people[first], status)
    coordinator_of(login, cohort)
    url = f"/cohorts/{cohort.id}/certificates"

    page = client.get(url).text
    issue_page = client.get(f"{url}/issue/{people['Awa'].id}").text

    def attendance_cell(first: str) -> str:
        row = re.search(rf'data-testid="enrolment-{people[first].id}">(.*?)</tr>', page, re.S)
        assert row is not None
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1)))

    assert "Excused from all 2 sessions held" in attendance_cell("Awa")
    assert "No attendance recorded" not in attendance_cell("Awa")
    assert "0 of 2 sessions" in attendance_cell("Lamin")  # not recorded: not attended
    assert "2 of 2 sessions" in attendance_cell("Fatou")
    assert "Excused from all 2 sessions held" in issue_page
