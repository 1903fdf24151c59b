"""Public certificate verification: /verify, /verify/<code> and /verify/<code>.json."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from reportlab.lib.colors import Color

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.certificates import pdf
from trainingmgr.certificates import services as certificates
from trainingmgr.certificates.models import Certificate
from trainingmgr.extensions import db

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
UNKNOWN = "7KQ4-9XM2-HT8D-3VWR"


def issue(make: Any, **person_kw: Any) -> Certificate:
    """A valid certificate of a participant who attended both sessions of a course."""
    programme = make.programme(code="RTCM", title="Road Traffic Crash Management")
    module = make.module(programme, code="M1", title="Scene safety", position=1)
    cohort = make.cohort(
        programme,
        name="Baku, March 2026",
        city="Baku",
        country="AZ",
        min_attendance_pct=80,
    )
    person_kw.setdefault("first_name", "Ləman")
    person_kw.setdefault("last_name", "Əliyeva")
    person_kw.setdefault("name_latin", "Laman Aliyeva")
    person_kw.setdefault("email", "leman.private@example.org")
    enrolment = make.enrolment(cohort=cohort, person=make.person(**person_kw))
    for day in range(2):
        session = make.session(
            cohort=cohort,
            module=module,
            starts_at=START + timedelta(days=day),
            ends_at=START + timedelta(days=day, hours=3),
        )
        make.attendance(session, enrolment, AttendanceStatus.PRESENT)
    return certificates.issue(enrolment, actor=make.user())


def page(client: Any, code: str) -> tuple[Any, str]:
    response = client.get(f"/verify/{code}")
    return response, response.get_data(as_text=True)


def test_a_valid_certificate_shows_what_is_printed_on_it(client: Any, make: Any) -> None:
    cert = issue(make)
    expected_hash = hashlib.sha256(certificates.render_pdf(cert)).hexdigest()

    response, html = page(client, cert.verification_code)

    assert response.status_code == 200
    assert 'data-status="valid"' in html
    assert "This certificate is genuine and valid." in html
    for text in (
        "Ləman Əliyeva",
        "Laman Aliyeva",
        "Road Traffic Crash Management",
        "RTCM",
        "Baku, March 2026",
        "Baku, Azerbaijan",
        "Scene safety",
        "Hours attended",
        cert.serial,
        cert.verification_code,
        expected_hash,
        "sha256sum certificate.pdf",
    ):
        assert text in html, text
    assert "Mar 2\u2009–\u200913, 2026" in html  # the cohort's dates
    assert "leman.private@example.org" not in html
    assert '<meta name="robots" content="noindex">' in html
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "Accept-Language" in response.headers["Vary"]


def test_the_page_shows_the_printed_name_not_the_live_record(client: Any, make: Any) -> None:
    cert = issue(make)
    person = cert.enrolment.person
    person.first_name, person.email = "Renamed", "new.address@example.org"

    _response, html = page(client, cert.verification_code)

    assert "Ləman Əliyeva" in html
    assert "Renamed" not in html and "new.address@example.org" not in html


def test_a_revoked_certificate_says_when_and_only_the_public_note(client: Any, make: Any) -> None:
    cert = issue(make)
    certificates.revoke(
        cert,
        "Participant on sick leave, see HR file 42.",
        public_note="Revoked at the issuer's request.",
        actor=make.user(),
    )
    local_day = cert.revoked_at.astimezone(ZoneInfo("Asia/Baku")).date()

    response, html = page(client, cert.verification_code)

    assert response.status_code == 200
    assert 'data-status="revoked"' in html
    assert "genuine and valid" not in html
    assert (
        f"This certificate was revoked on {format_skeleton('yMMMd', local_day, locale='en')} "
        "and is no longer valid."
    ) in html
    assert "Revoked at the issuer&#39;s request." in html
    assert "sick leave" not in html and "HR file" not in html

    data = client.get(f"/verify/{cert.verification_code}.json").get_json()
    assert data["status"] == "revoked"
    assert data["revoked"]["note"] == "Revoked at the issuer's request."
    assert "sick leave" not in str(data)
    assert data["revoked"]["at"].startswith(cert.revoked_at.date().isoformat())


def test_a_revocation_without_a_public_note_shows_only_the_date(client: Any, make: Any) -> None:
    cert = issue(make)
    certificates.revoke(cert, "Attendance records were falsified.", actor=make.user())

    _response, html = page(client, cert.verification_code)

    assert "This certificate was revoked on" in html
    assert "falsified" not in html and 'data-testid="public-note"' not in html
    data = client.get(f"/verify/{cert.verification_code}.json").get_json()
    assert data["revoked"]["note"] is None and "falsified" not in str(data)


def test_an_issued_certificate_never_changes(client: Any, make: Any, app: Any, monkeypatch: Any):
    """Issued means frozen: a new BASE_URL or a new layout does not change the bytes served,
    the fingerprint shown or the address printed; only later certificates get them."""
    cert = issue(make)
    stored, digest, url = certificates.render_pdf(cert), cert.pdf_sha256, cert.pdf_url
    assert hashlib.sha256(stored).hexdigest() == digest and cert.layout == pdf.LAYOUT
    assert url == f"{app.config['BASE_URL'].rstrip('/')}/verify/{cert.verification_code}"

    monkeypatch.setitem(app.config, "BASE_URL", "https://moved.example.net")
    monkeypatch.setattr(pdf, "LAYOUT", pdf.LAYOUT + 1)
    monkeypatch.setattr(pdf.layout, "INK", Color(1, 0, 0))  # a "new layout": red text
    db.session.expire_all()

    assert certificates.render_pdf(cert) == stored
    _response, html = page(client, cert.verification_code)
    assert digest in html and "moved.example.net" not in html
    data = client.get(f"/verify/{cert.verification_code}.json").get_json()
    assert data["pdf_sha256"] == digest and data["url"] == url
    assert certificates.render_snapshot(cert) != stored  # the new layout does differ
    later = certificates.reissue(cert, reason="Name corrected", actor=make.user())
    assert later.layout == pdf.LAYOUT and later.pdf_url.startswith("https://moved.example.net/")
    assert certificates.render_pdf(cert) == stored and cert.pdf_sha256 == digest


def test_a_superseded_certificate_links_to_the_new_one(client: Any, make: Any) -> None:
    old = issue(make)
    new = certificates.reissue(old, reason="Name misspelt", actor=make.user())

    response, html = page(client, old.verification_code)

    assert response.status_code == 200
    assert 'data-status="superseded"' in html
    assert "replaced by a newer one: only the new certificate is valid." in html
    assert f'href="/verify/{new.verification_code}"' in html
    data = client.get(f"/verify/{old.verification_code}.json").get_json()
    assert data["status"] == "superseded"
    assert data["superseded_by"] == {
        "code": new.verification_code,
        "url": f"https://training.example.org/verify/{new.verification_code}",
    }

    _response, html = page(client, new.verification_code)
    assert 'data-status="valid"' in html and new.serial in html


def test_an_unknown_code_is_not_found(client: Any, make: Any) -> None:
    issue(make)

    response, html = page(client, UNKNOWN)

    assert response.status_code == 404
    assert "No certificate has this code." in html
    assert 'name="code"' in html and f'value="{UNKNOWN}"' in html  # typed again easily
    assert response.headers["Cache-Control"] == "no-store"
    response = client.get(f"/verify/{UNKNOWN}.json")
    assert response.status_code == 404
    assert response.get_json() == {"status": "not_found"}


def test_a_link_that_cannot_be_a_code_is_not_found(client: Any, db_session: Any) -> None:
    response, html = page(client, "not-a-code")
    assert response.status_code == 404 and "No certificate has this code." in html
    response = client.get("/verify/not-a-code.json")
    assert response.status_code == 404 and response.get_json() == {"status": "not_found"}


def test_a_typed_code_goes_to_its_page(client: Any, make: Any) -> None:
    cert = issue(make)
    code = cert.verification_code
    typed = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "

    response = client.get("/verify", query_string={"code": typed})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/verify/{code}"
    response = client.get("/verify", query_string={"code": typed}, follow_redirects=True)
    assert cert.serial in response.get_data(as_text=True)


def test_a_code_in_another_form_redirects_to_the_canonical_address(client: Any, make: Any) -> None:
    cert = issue(make)
    code = cert.verification_code

    for variant in (code.lower(), code.replace("-", ""), code.lower().replace("-", "")):
        response = client.get(f"/verify/{variant}")
        assert response.status_code == 301
        assert response.headers["Location"] == f"/verify/{code}"
    response = client.get(f"/verify/{code.lower()}.json")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/verify/{code}.json"


def test_the_form_explains_a_malformed_code(client: Any, db_session: Any) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Verify a certificate" in html and 'name="code"' in html

    response = client.get("/verify", query_string={"code": "7KQ4-9XM2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not a verification code" in html and "16 letters and digits" in html
    assert 'aria-invalid="true"' in html

    response = client.get("/verify", query_string={"code": "  "})
    assert response.status_code == 400
    assert "Type the code printed on the certificate" in response.get_data(as_text=True)


def test_json_has_the_printed_facts_and_no_personal_data(client: Any, make: Any) -> None:
    cert = issue(make, phone="+994 12 345 67 89", organisation="State Migration Service")

    response = client.get(f"/verify/{cert.verification_code}.json")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    data = response.get_json()
    assert set(data) == {
        "status",
        "code",
        "serial",
        "holder",
        "programme",
        "cohort",
        "hours",
        "modules",
        "issuer",
        "issued_on",
        "revoked",
        "superseded_by",
        "pdf_sha256",
        "url",
    }
    assert data["status"] == "valid"
    assert data["code"] == cert.verification_code and data["serial"] == cert.serial
    assert data["holder"] == {"name": "Ləman Əliyeva", "name_latin": "Laman Aliyeva"}
    assert data["programme"] == {"code": "RTCM", "title": "Road Traffic Crash Management"}
    assert data["cohort"] == {
        "name": "Baku, March 2026",
        "place": "Baku, Azerbaijan",
        "start_date": "2026-03-02",
        "end_date": "2026-03-13",
    }
    assert data["hours"] == "6"
    assert data["modules"] == [{"code": "M1", "title": "Scene safety"}]
    assert data["issued_on"] == cert.snapshot["issued_on"]
    assert data["revoked"] is None and data["superseded_by"] is None
    assert re.fullmatch(r"[0-9a-f]{64}", data["pdf_sha256"])
    assert data["pdf_sha256"] == certificates.pdf_sha256(cert)
    assert data["url"] == f"https://training.example.org/verify/{cert.verification_code}"
    text = response.get_data(as_text=True)
    # (the phone number in pieces a SHA-256 in hexadecimal or a code can never contain)
    for private in ("@", "+994", "345 67 89", "State Migration Service"):
        assert private not in text, private


def test_a_signed_in_visitor_gets_a_private_cache_header(
    client: Any, make: Any, login: Any
) -> None:
    cert = issue(make)
    login("coordinator")
    response, _html = page(client, cert.verification_code)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=60"


def test_the_31st_verification_in_a_minute_is_refused(client: Any, make: Any) -> None:
    cert = issue(make)
    for _i in range(30):
        assert client.get(f"/verify/{cert.verification_code}").status_code == 200

    response = client.get(f"/verify/{cert.verification_code}")

    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many requests" in html and "Please wait a moment" in html


def test_the_limit_is_shared_and_answers_json_to_json(client: Any, make: Any) -> None:
    for _i in range(15):
        assert client.get(f"/verify/{UNKNOWN}").status_code == 404
        assert client.get("/verify", query_string={"code": "x"}).status_code == 400

    response = client.get(f"/verify/{UNKNOWN}.json")

    assert response.status_code == 429
    assert response.get_json()["error"] == "Too many requests"


def test_anonymous_visitors_find_the_verification_page(client: Any, db_session: Any) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<a href="/verify">Verify a certificate</a>' in html
