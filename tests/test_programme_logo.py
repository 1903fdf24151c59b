"""A programme's logo and its own signatories, on the programme page, within programme scope:
coordinators of the programme manage them; a coordinator of another programme gets 404 and
changes nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.test_organisation import SVG, jpeg, png, upload
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.extensions import db
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation.models import Signatory


def own_names(programme_id: int) -> list[str]:
    return [s.name for s in organisation.own_signatories(programme_id)]


def post_logo(client: FlaskClient, programme_id: int, content: bytes, name: str = "l.png") -> Any:
    return client.post(
        f"/programmes/{programme_id}/logo/upload",
        data={"logo": upload(content, name)},
        content_type="multipart/form-data",
    )


def test_coordinator_uploads_previews_and_removes_the_programme_logo(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme(code="RTCM")
    login(Role.COORDINATOR, programmes=[programme])
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert 'data-testid="certificate-design"' in page and "No logo yet" in page

    logo = jpeg(240, 100)
    response = post_logo(client, programme.id, logo, "logo.jpg")
    assert response.headers["Location"].endswith(f"/programmes/{programme.id}#logo")
    db_session.refresh(programme)
    assert (programme.logo, programme.logo_mimetype) == (logo, "image/jpeg")
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "Logo uploaded." in page
    url = f"/programmes/{programme.id}/logo/{hashlib.sha256(logo).hexdigest()[:16]}"
    assert f'<img src="{url}"' in page
    image = client.get(url)
    assert (image.status_code, image.mimetype, image.data) == (200, "image/jpeg", logo)
    assert "private" in image.headers["Cache-Control"]
    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "programme.logo")
    ).one()
    assert event.programme_id == programme.id

    client.post(f"/programmes/{programme.id}/logo/remove")
    db_session.refresh(programme)
    assert programme.logo is None and programme.logo_mimetype is None
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (SVG, "SVG format"),
        (b"%PDF-1.4 a certificate template", "PDF format"),
        (png(300, 200, noise=True)[:5000], "damaged or incomplete"),
    ],
    ids=["svg", "pdf", "truncated"],
)
def test_a_bad_programme_logo_is_explained_and_nothing_is_saved(
    client: FlaskClient, login: Any, make: Any, db_session: Any, content: bytes, message: str
) -> None:
    programme = make.programme()
    login(Role.COORDINATOR, programmes=[programme])
    response = client.post(
        f"/programmes/{programme.id}/logo/upload",
        data={"logo": upload(content, "logo.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)
    db_session.refresh(programme)
    assert programme.logo is None
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_programme_signatories_replace_the_defaults(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme(code="MMDP")
    organisation.add_signatory(
        None, organisation.SignatoryInput("Org Director", "Director"), actor=None
    )
    login(Role.COORDINATOR, programmes=[programme])
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "no signatories of its own" in page and "Org Director" in page

    signature = png(200, 60, "black")
    response = client.post(
        f"/programmes/{programme.id}/signatories/new",
        data={
            "name": "Prof. Melissa Siegel",
            "title": "Programme Director",
            "signature": upload(signature),
        },
        content_type="multipart/form-data",
    )
    assert response.headers["Location"].endswith(f"/programmes/{programme.id}#signatories")
    client.post(
        f"/programmes/{programme.id}/signatories/new",
        data={"name": "Dr. Ortrun Merkle", "title": "Academic Coordinator"},
    )
    assert own_names(programme.id) == ["Prof. Melissa Siegel", "Dr. Ortrun Merkle"]
    assert [s.name for s in organisation.signatories_for(programme.id)] == own_names(programme.id)
    assert [s.name for s in organisation.own_signatories(None)] == ["Org Director"]

    melissa, ortrun = organisation.own_signatories(programme.id)
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "no signatories of its own" not in page and "Org Director" not in page
    assert f'src="/programmes/{programme.id}/signatories/{melissa.id}/signature"' in page
    image = client.get(f"/programmes/{programme.id}/signatories/{melissa.id}/signature")
    assert (image.mimetype, image.data) == ("image/png", signature)

    client.post(
        f"/programmes/{programme.id}/signatories/{ortrun.id}/move", data={"direction": "up"}
    )
    assert own_names(programme.id) == ["Dr. Ortrun Merkle", "Prof. Melissa Siegel"]
    client.post(
        f"/programmes/{programme.id}/signatories/{ortrun.id}/edit",
        data={"name": "Dr. Ortrun Merkle", "title": "Director of Studies"},
    )
    db_session.refresh(ortrun)
    assert ortrun.title == "Director of Studies"
    client.post(f"/programmes/{programme.id}/signatories/{ortrun.id}/delete")
    client.post(f"/programmes/{programme.id}/signatories/{melissa.id}/delete")
    assert own_names(programme.id) == []
    assert [s.name for s in organisation.signatories_for(programme.id)] == ["Org Director"]
    actions = db_session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.programme_id == programme.id)
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "signatory.create",
        "signatory.create",
        "signatory.move",
        "signatory.update",
        "signatory.delete",
        "signatory.delete",
    ]


def test_coordinator_of_another_programme_gets_404_and_nothing_is_written(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    mine = make.programme(code="MINE")
    theirs = make.programme(code="THEIRS", logo=png(), logo_mimetype="image/png")
    signer = organisation.add_signatory(
        theirs.id, organisation.SignatoryInput("Their Signer"), (png(), "image/png"), actor=None
    )
    login(Role.COORDINATOR, programmes=[mine])
    base = f"/programmes/{theirs.id}"
    attempts = [
        ("get", f"{base}/logo/{hashlib.sha256(png()).hexdigest()[:16]}", {}),
        ("post", f"{base}/logo/upload", {"logo": upload(jpeg())}),
        ("post", f"{base}/logo/remove", {}),
        ("get", f"{base}/signatories/new", {}),
        ("post", f"{base}/signatories/new", {"name": "Intruder"}),
        ("get", f"{base}/signatories/{signer.id}/edit", {}),
        ("post", f"{base}/signatories/{signer.id}/edit", {"name": "Renamed"}),
        ("post", f"{base}/signatories/{signer.id}/move", {"direction": "up"}),
        ("post", f"{base}/signatories/{signer.id}/delete", {}),
        ("get", f"{base}/signatories/{signer.id}/signature", {}),
        # Their signatory through my programme's URLs.
        ("get", f"/programmes/{mine.id}/signatories/{signer.id}/edit", {}),
        ("post", f"/programmes/{mine.id}/signatories/{signer.id}/delete", {}),
        ("get", f"/programmes/{mine.id}/signatories/{signer.id}/signature", {}),
    ]
    for method, url, data in attempts:
        response = getattr(client, method)(url, data=data, content_type="multipart/form-data")
        assert response.status_code == 404, (method, url)
    db_session.refresh(theirs)
    db_session.refresh(signer)
    assert theirs.logo == png() and signer.name == "Their Signer"
    assert own_names(theirs.id) == ["Their Signer"] and own_names(mine.id) == []
    assert (
        db_session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action != "signatory.create")
        )
        == 0
    )
    # Nor do they see the organisation's default signatures (administrators manage those).
    default = organisation.add_signatory(
        None, organisation.SignatoryInput("Default"), (png(), "image/png"), actor=None
    )
    db.session.commit()
    response = client.get(f"/admin/organisation/signatories/{default.id}/signature")
    assert response.status_code == 403


def test_administrators_manage_any_programme_and_unknown_ids_are_not_found(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    programme = make.programme()
    other = make.programme()
    signer = organisation.add_signatory(other.id, organisation.SignatoryInput("Other"), actor=None)
    login(Role.ADMIN)
    assert post_logo(client, programme.id, png()).status_code == 302
    assert post_logo(client, 987654321, png()).status_code == 404
    assert client.get("/programmes/987654321/signatories/new").status_code == 404
    url = f"/programmes/{programme.id}/signatories/{signer.id}/edit"
    assert client.get(url).status_code == 404  # another programme's signatory
    assert client.get(f"/programmes/{programme.id}/logo/x").status_code == 302  # to the current


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_are_refused(
    client: FlaskClient, login: Any, make: Any, db_session: Any, role: Role
) -> None:
    programme = make.programme()
    login(role)
    assert post_logo(client, programme.id, png()).status_code == 403
    response = client.post(f"/programmes/{programme.id}/signatories/new", data={"name": "X"})
    assert response.status_code == 403
    db_session.refresh(programme)
    assert programme.logo is None
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Signatory)) == 0


def test_programme_page_queries_do_not_grow_with_signatories(
    client: FlaskClient, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    programme = make.programme()
    login(Role.COORDINATOR, programmes=[programme])
    client.get(f"/programmes/{programme.id}")
    with count_queries() as few:
        assert client.get(f"/programmes/{programme.id}").status_code == 200
    for n in range(3):
        organisation.add_signatory(
            programme.id,
            organisation.SignatoryInput(f"Signer {n}"),
            (png(), "image/png"),
            actor=None,
        )
    db.session.commit()
    client.get(f"/programmes/{programme.id}")  # the same warm-up as before the first count
    with count_queries() as many:
        page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert page.count('data-testid="signatory"') == 3
    assert many.count == few.count
