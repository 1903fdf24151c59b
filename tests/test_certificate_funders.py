"""Funders on certificates: logos uploaded per programme and the EU emblem with "Funded by
the European Union" when the EU is a funder (partner form, snapshot, PDF, frozen)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader

from tests.test_certificates_services import P, attend, course
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import services
from trainingmgr.certificates.models import CertificateAsset
from trainingmgr.extensions import db
from trainingmgr.programmes import services as programmes
from trainingmgr.programmes.models import PartnerRole, ProgrammePartner


def png(colour: str, size: tuple[int, int] = (300, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def partner_form(client: FlaskClient, url: str, **data: Any) -> Any:
    form = {"name": "", "role": "funder", "funding_share": "", **data}
    return client.post(url, data=form, content_type="multipart/form-data")


def test_a_coordinator_adds_a_funder_with_a_logo_and_marks_the_eu(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme()
    login(Role.COORDINATOR)
    url = f"/programmes/{programme.id}/partners/new"

    page = client.get(url)
    assert 'enctype="multipart/form-data"' in page.text
    assert "This funder is the European Union" in page.text

    response = partner_form(
        client, url, name="Swiss Agency", logo=(io.BytesIO(png("red")), "sdc.png")
    )
    assert response.status_code == 302
    response = partner_form(client, url, name="European Union", european_union="y")
    assert response.status_code == 302

    sdc, eu = db.session.scalars(
        sa.select(ProgrammePartner).where(ProgrammePartner.programme_id == programme.id)
    ).all()
    assert sdc.logo == png("red") and sdc.logo_mimetype == "image/png"
    assert not sdc.european_union and eu.european_union and eu.logo is None
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "programme.partner_add")
    ).first()
    assert event is not None and event.changes["logo"][1].startswith("image/png, ")

    detail = client.get(f"/programmes/{programme.id}")
    assert "EU emblem" in detail.text
    edit = client.get(f"/programmes/{programme.id}/partners/{sdc.id}/edit")
    logo_url = f"/programmes/{programme.id}/partners/{sdc.id}/logo/"
    assert logo_url in edit.text
    version = edit.text.split(logo_url, 1)[1].split('"', 1)[0]
    image = client.get(logo_url + version)
    assert image.status_code == 200 and image.data == png("red")


def test_bad_funder_input_says_why_and_writes_nothing(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme()
    login(Role.COORDINATOR)
    url = f"/programmes/{programme.id}/partners/new"

    not_image = partner_form(client, url, name="A", logo=(io.BytesIO(b"%PDF-1.4 x"), "a.png"))
    eu_partner = partner_form(client, url, name="EU", role="partner", european_union="y")
    logo_partner = partner_form(
        client, url, name="B", role="partner", logo=(io.BytesIO(png("blue")), "b.png")
    )

    assert "This file is in PDF format" in not_image.text
    assert "Only a funder can be the European Union" in eu_partner.text
    assert "Certificates print the logos of funders only" in logo_partner.text
    assert db.session.scalar(sa.select(sa.func.count(ProgrammePartner.id))) == 0


def test_another_programmes_funder_logo_is_404(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    mine, theirs = make.programme(), make.programme()
    partner = programmes.add_partner(
        theirs, programmes.PartnerInput("X", "funder", logo=(png("red"), "image/png")), actor=None
    )
    login(Role.COORDINATOR, programmes=[mine])

    response = client.get(f"/programmes/{theirs.id}/partners/{partner.id}/logo/x")
    assert response.status_code == 404
    response = client.get(f"/programmes/{mine.id}/partners/{partner.id}/logo/x")
    assert response.status_code == 404


def test_issued_certificates_print_the_band_and_keep_it(make: Any, db_session: Any) -> None:
    cohort = course(make)
    programme = cohort.programme
    eu = programmes.add_partner(
        programme,
        programmes.PartnerInput("European Union", "funder", european_union=True),
        actor=None,
    )
    sdc = programmes.add_partner(
        programme,
        programmes.PartnerInput("SDC", "funder", logo=(png("red"), "image/png")),
        actor=None,
    )
    programmes.add_partner(
        programme, programmes.PartnerInput("ICMPD", PartnerRole.PARTNER), actor=None
    )
    enrolment = attend(make, cohort, [P, P, P, P], first_name="Anna", last_name="Smith")

    certificate = services.issue(enrolment, actor=make.user())

    red = hashlib.sha256(png("red")).hexdigest()
    assert certificate.snapshot["funding"] == [
        {"name": "European Union", "logo": None, "eu": True},
        {"name": "SDC", "logo": red, "eu": False},
    ]
    assert db.session.get(CertificateAsset, red) is not None
    text = PdfReader(io.BytesIO(services.render_pdf(certificate))).pages[0].extract_text()
    assert "Funded by" in text and "the European Union" in text
    before = certificate.pdf_sha256

    # A new logo, the EU flag taken off: only certificates issued afterwards change.
    programmes.update_partner(
        sdc, programmes.PartnerInput("SDC", "funder", logo=(png("green"), "image/png")), actor=None
    )
    programmes.update_partner(eu, programmes.PartnerInput("European Union", "funder"), actor=None)
    db.session.flush()
    assert services.pdf_sha256(certificate) == before
    assert hashlib.sha256(services.render_pdf(certificate)).hexdigest() == before
    other = attend(make, cohort, [P, P, P, P], first_name="Ivan", last_name="Petrov")
    later = services.issue(other, actor=make.user())
    assert later.snapshot["funding"][0] == {"name": "European Union", "logo": None, "eu": False}
    assert later.snapshot["funding"][1]["logo"] == hashlib.sha256(png("green")).hexdigest()
