"""Organisation settings: the uploaded-image checks, the settings page (administrators
only), the organisation's logo and default signatories, and the defaults new programmes and
cohorts take."""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import zlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts import services as cohorts
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.organisation import images
from trainingmgr.organisation import services as organisation
from trainingmgr.organisation.models import OrganisationSettings, Signatory
from trainingmgr.programmes.models import CertificateLanguage

# --------------------------------------------------------------------------- test images


def png(width: int = 120, height: int = 60, colour: str = "navy", noise: bool = False) -> bytes:
    image = (
        Image.frombytes("RGB", (width, height), _noise(width * height * 3))
        if noise
        else Image.new("RGB", (width, height), colour)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 120, height: int = 60, exif: Any = None) -> bytes:
    image = Image.frombytes("RGB", (width, height), _noise(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def _noise(n: int) -> bytes:
    """Deterministic random bytes: a PNG of noise does not compress, so it stays large."""
    return random.Random(n).randbytes(n)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG file announcing ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
    b'width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>'
)


def upload(content: bytes, name: str = "logo.png") -> tuple[io.BytesIO, str]:
    return (io.BytesIO(content), name)


def refused(content: bytes) -> str:
    with pytest.raises(DomainError) as info:
        images.validate_image(content, "logo")
    assert info.value.field == "logo"
    return info.value.message


def error_of(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert match, f"no error shown for {field}"
    return match.group(1)


# --------------------------------------------------------------------------- images


def test_good_png_and_jpeg_are_kept_as_uploaded(app: Flask) -> None:
    with app.app_context():
        logo = png()
        assert images.validate_image(logo) == (logo, "image/png")
        photo = jpeg()
        assert images.validate_image(io.BytesIO(photo)) == (photo, "image/jpeg")


def test_a_jpeg_rotated_by_its_exif_orientation_is_turned_upright(app: Flask) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    with app.app_context():
        content, mimetype = images.validate_image(jpeg(80, 40, exif=exif))
    assert mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(content)).size == (40, 80)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (SVG, "This file is in SVG format, which cannot be used here"),
        (b"GIF89a" + b"\x00" * 40, "This file is in GIF format"),
        (b"%PDF-1.7\n%...", "This file is in PDF format"),
        (b"Dear committee,\nplease find attached...", "not a PNG or JPEG image"),
        (b"<html><body>hello</body></html>", "not a PNG or JPEG image"),
        (b"", "The file is empty"),
    ],
    ids=["svg", "gif", "pdf", "renamed-text", "html", "empty"],
)
def test_other_files_are_refused_by_their_content(app: Flask, content: bytes, message: str) -> None:
    with app.app_context():
        assert message in refused(content)


def test_damaged_and_truncated_images_are_refused(app: Flask) -> None:
    with app.app_context():
        whole = png(300, 200, noise=True)
        assert "damaged or incomplete" in refused(whole[: len(whole) // 2])
        assert "damaged or incomplete" in refused(whole[:-30])  # no end chunk
        photo = jpeg(300, 200)
        assert "damaged or incomplete" in refused(photo[: len(photo) // 3])
        assert "damaged or incomplete" in refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)


def test_too_large_files_and_too_many_pixels_are_refused(app: Flask, monkeypatch: Any) -> None:
    with app.app_context():
        big = png(1000, 800, noise=True)
        assert len(big) > 2 * 1024 * 1024
        assert "larger than 2.0 MB" in refused(big)
        monkeypatch.setitem(app.config, "MAX_IMAGE_KB", 100)
        assert "larger than 100 KB" in refused(png(300, 200, noise=True))
        monkeypatch.setitem(app.config, "MAX_IMAGE_KB", 2048)
        message = refused(png_header_only(9000, 7000))
        assert "The image is 9000 × 7000 pixels; at most 5000 × 5000 are accepted" in message
        assert "6000 × 10 pixels" in refused(png(6000, 10))
        # A decompression bomb: a tiny file announcing ten billion pixels.
        message = refused(png_header_only(100_000, 100_000))
        assert "far too many pixels to be opened safely; at most 5000 × 5000" in message


def test_limits_are_described_for_the_upload_fields(app: Flask, monkeypatch: Any) -> None:
    with app.test_request_context():
        assert images.limits_text() == "PNG or JPEG, at most 2.0 MB and 5000 × 5000 pixels."
        monkeypatch.setitem(app.config, "MAX_IMAGE_KB", 500)
        assert "at most 500 KB" in images.limits_text()


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT])
def test_only_administrators_open_the_settings_page(
    client: FlaskClient, login: Any, role: Role, db_session: Any
) -> None:
    login(role)
    assert client.get("/admin/organisation").status_code == 403
    response = client.post(
        "/admin/organisation",
        data={
            "name": "Taken over",
            "default_certificate_language": "en",
            "default_timezone": "UTC",
        },
    )
    assert response.status_code == 403
    response = client.post(
        "/admin/organisation/logo/upload",
        data={"logo": upload(png())},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert client.post("/admin/organisation/signatories/new", data={"name": "X"}).status_code == 403
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Signatory)) == 0
    settings = db_session.get(OrganisationSettings, 1)
    assert settings is None or (settings.name != "Taken over" and settings.logo is None)


def test_anonymous_users_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/organisation")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- settings


def test_administrator_changes_the_settings(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Organisation settings" in page
    assert 'value="Training Centre"' in page  # from ORGANISATION_NAME, until changed
    assert '<option value="Asia/Baku">' in page  # the time zone list
    response = client.post(
        "/admin/organisation",
        data={
            "name": "  Regional   Training Centre on Migration ",
            "default_certificate_language": "en+az",
            "default_timezone": "Asia/Baku",
        },
    )
    assert response.status_code == 302
    settings = db_session.get(OrganisationSettings, 1)
    assert settings.name == "Regional Training Centre on Migration"
    assert settings.default_certificate_language == CertificateLanguage.EN_AZ
    assert settings.default_timezone == "Asia/Baku"
    event = db_session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "organisation.update")
    ).one()
    assert event.changes["default_timezone"][1] == "Asia/Baku"
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Organisation settings saved." in page
    assert 'value="Regional Training Centre on Migration"' in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"default_timezone": "Mars/Olympus_Mons"}, "default_timezone", "is not a time zone"),
        ({"default_timezone": ""}, "default_timezone", "Choose a time zone"),
        ({"name": "   "}, "name", "Enter the organisation"),
        ({"name": "x" * 251}, "name", "at most 250 characters"),
        ({"default_certificate_language": "fr"}, "default_certificate_language", "Not a valid"),
    ],
)
def test_bad_settings_are_refused_next_to_their_field(
    client: FlaskClient,
    login: Any,
    db_session: Any,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(Role.ADMIN)
    data = {"name": "RTCM", "default_certificate_language": "ru", "default_timezone": "UTC"}
    response = client.post("/admin/organisation", data={**data, **changes})
    assert response.status_code == 200
    assert message in error_of(response.get_data(as_text=True), field)
    settings = db_session.get(OrganisationSettings, 1)
    assert settings is None or settings.name == "Training Centre"
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_new_programmes_and_cohorts_take_the_organisation_defaults(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    login(Role.ADMIN)
    form = client.get("/programmes/new").get_data(as_text=True)
    assert '<option selected value="en">' in form
    organisation.update_settings(
        organisation.SettingsInput(
            name="RTCM", default_certificate_language="ru", default_timezone="Africa/Banjul"
        ),
        actor=None,
    )
    db_session.commit()
    form = client.get("/programmes/new").get_data(as_text=True)
    assert '<option selected value="ru">' in form
    programme = make.programme()
    assert cohorts.default_timezone(programme) == "Africa/Banjul"
    make.cohort(programme, timezone="Asia/Bishkek")  # a programme's own habit comes first
    assert cohorts.default_timezone(programme) == "Asia/Bishkek"


# --------------------------------------------------------------------------- logo


def test_organisation_logo_upload_preview_and_removal(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    logo = png()
    response = client.post(
        "/admin/organisation/logo/upload",
        data={"logo": upload(logo)},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"].endswith("/admin/organisation#logo")
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Logo uploaded." in page
    url = "/organisation/logo/" + hashlib.sha256(logo).hexdigest()[:16]
    assert f'<img src="{url}"' in page
    settings = db_session.get(OrganisationSettings, 1)
    assert (settings.logo, settings.logo_mimetype) == (logo, "image/png")

    # The organisation's logo is public, served as what it is; its URL names this very image.
    with client.session_transaction() as sess:
        sess.clear()
    image = client.get(url)
    assert image.status_code == 200
    assert image.mimetype == "image/png"
    assert image.data == logo
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in image.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304
    outdated = client.get("/organisation/logo/0123456789abcdef")
    assert outdated.status_code == 302 and outdated.headers["Location"] == url

    login(Role.ADMIN)
    client.post("/admin/organisation/logo/remove")
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Logo removed." in page and "No logo yet" in page
    assert client.get(url).status_code == 404
    actions = db_session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "organisation.logo")
    ).all()
    assert len(actions) == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (SVG, "logo.svg", "SVG format"),
        (b"just some text", "logo.png", "not a PNG or JPEG image"),
        (png(1000, 800, noise=True), "big.png", "larger than 2.0 MB"),
    ],
    ids=["svg", "renamed-text", "too-large"],
)
def test_a_bad_logo_is_explained_and_nothing_is_saved(
    client: FlaskClient, login: Any, db_session: Any, content: bytes, name: str, message: str
) -> None:
    login(Role.ADMIN)
    response = client.post(
        "/admin/organisation/logo/upload",
        data={"logo": upload(content, name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    settings = db_session.get(OrganisationSettings, 1)
    assert settings is None or settings.logo is None
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_uploading_without_a_file_says_so(client: FlaskClient, login: Any) -> None:
    login(Role.ADMIN)
    response = client.post("/admin/organisation/logo/upload", data={}, follow_redirects=True)
    assert "Choose a PNG or JPEG file." in response.get_data(as_text=True)
    response = client.post("/admin/organisation/logo/remove", follow_redirects=True)
    assert "There is no logo to remove." in response.get_data(as_text=True)


# --------------------------------------------------------------------------- signatories


def add(client: FlaskClient, name: str, title: str = "", signature: bytes | None = None) -> Any:
    data: dict[str, Any] = {"name": name, "title": title}
    if signature is not None:
        data["signature"] = upload(signature, "signature.png")
    return client.post(
        "/admin/organisation/signatories/new", data=data, content_type="multipart/form-data"
    )


def names(programme_id: int | None = None) -> list[str]:
    return [s.name for s in organisation.own_signatories(programme_id)]


def test_default_signatories_add_edit_reorder_remove(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    signature = png(200, 60, "black")
    response = add(client, "Dr. Anna Petrova", "Director", signature)
    assert response.headers["Location"].endswith("/admin/organisation#signatories")
    add(client, "Elnur Mammadov", "Head of Training")
    assert names() == ["Dr. Anna Petrova", "Elnur Mammadov"]
    anna, elnur = organisation.own_signatories(None)
    assert (anna.signature, anna.signature_mimetype, anna.position) == (signature, "image/png", 0)
    assert elnur.signature is None

    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Dr. Anna Petrova added." in page and "Elnur Mammadov added." in page
    assert f'src="/admin/organisation/signatories/{anna.id}/signature"' in page
    image = client.get(f"/admin/organisation/signatories/{anna.id}/signature")
    assert (image.status_code, image.mimetype, image.data) == (200, "image/png", signature)
    assert "private" in image.headers["Cache-Control"]

    # Reorder.
    client.post(f"/admin/organisation/signatories/{elnur.id}/move", data={"direction": "up"})
    assert names() == ["Elnur Mammadov", "Dr. Anna Petrova"]
    client.post(f"/admin/organisation/signatories/{elnur.id}/move", data={"direction": "up"})
    assert names() == ["Elnur Mammadov", "Dr. Anna Petrova"]  # already first

    # Edit: new title, the signature replaced, then removed.
    form = client.get(f"/admin/organisation/signatories/{anna.id}/edit").get_data(as_text=True)
    assert 'value="Dr. Anna Petrova"' in form and "Current signature" in form
    new_signature = jpeg(200, 60)
    client.post(
        f"/admin/organisation/signatories/{anna.id}/edit",
        data={"name": "Dr. Anna Petrova", "title": "Rector", "signature": upload(new_signature)},
        content_type="multipart/form-data",
    )
    db_session.refresh(anna)
    assert (anna.title, anna.signature, anna.signature_mimetype) == (
        "Rector",
        new_signature,
        "image/jpeg",
    )
    client.post(
        f"/admin/organisation/signatories/{anna.id}/edit",
        data={"name": "Dr. Anna Petrova", "title": "Rector"},
        content_type="multipart/form-data",
    )
    db_session.refresh(anna)
    assert anna.signature == new_signature  # no file chosen: the signature stays
    client.post(
        f"/admin/organisation/signatories/{anna.id}/edit",
        data={"name": "Dr. Anna Petrova", "title": "Rector", "remove_signature": "y"},
    )
    db_session.refresh(anna)
    assert anna.signature is None and anna.signature_mimetype is None
    assert client.get(f"/admin/organisation/signatories/{anna.id}/signature").status_code == 404

    # Remove.
    response = client.post(
        f"/admin/organisation/signatories/{elnur.id}/delete", follow_redirects=True
    )
    assert "Elnur Mammadov removed." in response.get_data(as_text=True)
    assert names() == ["Dr. Anna Petrova"]
    assert organisation.own_signatories(None)[0].position == 0
    actions = set(
        db_session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("signatory.%"))
        )
    )
    assert actions == {"signatory.create", "signatory.move", "signatory.update", "signatory.delete"}


def test_a_certificate_has_room_for_three_signatories(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    for name in ("A One", "B Two", "C Three"):
        add(client, name)
    page = client.get("/admin/organisation").get_data(as_text=True)
    assert "Add signatory" not in page
    response = add(client, "D Four")
    assert response.status_code == 200
    assert "room for 3 signatures" in response.get_data(as_text=True)
    assert names() == ["A One", "B Two", "C Three"]


def test_a_bad_signature_image_is_shown_next_to_its_field(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    response = add(client, "Dr. Anna Petrova", "Director", SVG)
    assert response.status_code == 200
    assert "SVG format" in error_of(response.get_data(as_text=True), "signature")
    response = add(client, "", "Director")
    assert "Enter the name of the person who signs." in error_of(
        response.get_data(as_text=True), "name"
    )
    assert names() == []


def test_signatory_pages_of_an_unknown_or_other_owner_are_not_found(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.ADMIN)
    programme = make.programme()
    own = organisation.add_signatory(programme.id, organisation.SignatoryInput("P Own"), actor=None)
    db_session.commit()
    # A programme's signatory is not one of the organisation's.
    assert client.get(f"/admin/organisation/signatories/{own.id}/edit").status_code == 404
    response = client.post(f"/admin/organisation/signatories/{own.id}/delete")
    assert response.status_code == 404
    assert client.get("/admin/organisation/signatories/987654321/edit").status_code == 404
    assert names(programme.id) == ["P Own"]


def test_signatories_for_falls_back_to_the_defaults(app: Flask, db_session: Any, make: Any) -> None:
    programme = make.programme()
    organisation.add_signatory(None, organisation.SignatoryInput("Default", "Director"), actor=None)
    assert [s.name for s in organisation.signatories_for(programme.id)] == ["Default"]
    organisation.add_signatory(programme.id, organisation.SignatoryInput("Own"), actor=None)
    assert [s.name for s in organisation.signatories_for(programme.id)] == ["Own"]
    assert [s.name for s in organisation.signatories_for(None)] == ["Default"]


def test_settings_page_queries_do_not_grow_with_signatories(
    client: FlaskClient, login: Any, db_session: Any, count_queries: Any
) -> None:
    login(Role.ADMIN)
    client.get("/admin/organisation")
    with count_queries() as few:
        assert client.get("/admin/organisation").status_code == 200
    for n in range(3):
        organisation.add_signatory(
            None, organisation.SignatoryInput(f"Signer {n}"), (png(), "image/png"), actor=None
        )
    db.session.commit()
    client.get("/admin/organisation")  # the same warm-up as before the first count
    with count_queries() as many:
        page = client.get("/admin/organisation").get_data(as_text=True)
    assert page.count('data-testid="signatory"') == 3
    assert many.count == few.count
