"""The administrator's fallback font: uploaded in organisation settings (TrueType outlines
only, checked), used by the renderer for letters no shipped font has (a Chinese name issued
end to end), and named by the "cannot print" messages."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.test_certificates_services import P, attend, course
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import pdf, services
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.organisation import fonts
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation.services import get_settings

DATA = Path(__file__).parent / "data"
CJK = (DATA / "cjk-test-font.ttf").read_bytes()
CFF = (DATA / "cff-outlines.otf").read_bytes()


@pytest.fixture(autouse=True)
def _no_fallback_afterwards() -> Any:
    yield
    pdf.set_fallback_font(None)


def upload(client: FlaskClient, data: bytes, filename: str = "font.ttf") -> Any:
    return client.post(
        "/admin/organisation/font",
        data={"font": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_an_administrator_uploads_a_truetype_font(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)

    page = upload(client, CJK)

    assert "Certificate font DroidSansFallback uploaded" in page.text
    assert "19 characters; Chinese: 18" in page.text
    settings = get_settings()
    assert settings.fallback_font == CJK
    assert settings.fallback_font_name == "DroidSansFallback"
    assert 'data-testid="fallback-font">In use: DroidSansFallback' in page.text
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation.font")
    ).one()
    assert event.changes["fallback_font"][1] == f"DroidSansFallback, {len(CJK)} bytes"

    removed = client.post("/admin/organisation/font/remove", follow_redirects=True)
    assert "Certificate font removed." in removed.text
    assert get_settings().fallback_font is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (CFF, "PostScript (CFF) outlines, which certificates cannot embed"),
        (b"wOFF" + CJK[4:], "This is a web font (WOFF)"),
        (b"\x00\x01\x00\x00" + b"x" * 200, "not a TrueType font, or it is damaged"),
        (b"%PDF-1.4 hello", "not a TrueType font, or it is damaged"),
        (b"", "The file is empty"),
    ],
)
def test_unusable_fonts_are_refused_with_a_reason(
    client: FlaskClient, login: Any, db_session: Any, data: bytes, message: str
) -> None:
    login(Role.ADMIN)

    page = upload(client, data)

    assert message in page.text
    assert get_settings().fallback_font is None


def test_the_size_limit(app: Any, db_session: Any) -> None:
    app.config["MAX_FONT_MB"] = 0
    try:
        with pytest.raises(DomainError, match="larger than 0 MB"):
            fonts.validate_font(CJK)
    finally:
        app.config["MAX_FONT_MB"] = 30


def test_coordinators_cannot_upload_a_font(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)

    assert upload(client, CJK).status_code == 403
    assert get_settings().fallback_font is None


def test_a_chinese_name_is_issued_end_to_end_with_the_uploaded_font(
    make: Any, db_session: Any
) -> None:
    cohort = course(make)
    enrolment = attend(make, cohort, [P, P, P, P], first_name="小明", last_name="王")
    admin = make.user(role=Role.ADMIN)

    with pytest.raises(DomainError) as refused:
        services.issue(enrolment, actor=make.user())
    assert "(小 明 王)" in refused.value.message
    assert "ask an administrator to upload a font" in refused.value.message
    with pytest.raises(DomainError) as refused:
        services.issue(enrolment, actor=admin)
    assert "upload a font that has these letters in Organisation settings" in (
        refused.value.message
    )

    organisation.set_fallback_font(fonts.validate_font(CJK), actor=admin)
    certificate = services.issue(enrolment, actor=make.user())

    data = services.render_pdf(certificate)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "小明王" in text.replace(" ", "")
    assert b"+DroidSansFallback" in data
    # Removing the font changes nothing issued: the bytes are stored.
    organisation.remove_fallback_font(actor=admin)
    assert services.render_pdf(certificate) == data
    assert services.unprintable_letters(enrolment.person) == []  # this process still has it
    services.use_fallback_font()
    assert services.unprintable_letters(enrolment.person) == ["小", "明", "王"]


def test_issue_to_all_warns_and_then_issues_with_the_font(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    cohort = course(make)
    attend(make, cohort, [P, P, P, P], first_name="Anna", last_name="Smith")
    attend(make, cohort, [P, P, P, P], first_name="小明", last_name="王")
    login(Role.COORDINATOR)

    page = client.get(f"/cohorts/{cohort.id}/certificates")
    assert 'data-testid="unprintable"' in page.text
    assert "ask an administrator to upload a font" in page.text

    organisation.set_fallback_font(fonts.validate_font(CJK), actor=None)
    page = client.get(f"/cohorts/{cohort.id}/certificates")
    assert 'data-testid="unprintable"' not in page.text
    done = client.post(f"/cohorts/{cohort.id}/certificates/issue-all", follow_redirects=True)
    assert "2 issued" in done.text
