"""The pages of issue 21: the signing keys page (administrators), /.well-known/did.json, the
status list, a certificate's credential download, the verification page's signature section
and credential check, and the participant's links (credential, LinkedIn)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from flask.testing import FlaskClient

from tests.signing_helpers import _rsa_key, generate_key
from trainingmgr.accounts.models import Role
from trainingmgr.certificates import services as certificates
from trainingmgr.core.timefmt import fmt_date
from trainingmgr.credentials import keys
from trainingmgr.credentials.models import KeySource, SigningKey


def _key_count(db_session: Any) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(SigningKey))


def _p12(password: bytes, *, name: str = "Ministry Training CA signer", days: int = 365) -> bytes:
    key = _rsa_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"signer", key, cert, None, BestAvailableEncryption(password)
    )


# ------------------------------------------------------------ signing keys page


def test_only_administrators_reach_the_signing_keys_page(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    assert client.get("/admin/organisation/signing").status_code == 403
    assert (
        client.post("/admin/organisation/signing/generate", data={"name": "X"}).status_code == 403
    )
    assert _key_count(db_session) == 0


def test_an_administrator_generates_a_key_and_rotates_it(
    client: FlaskClient, login: Any, db_session: Any, monkeypatch: Any
) -> None:
    ready = _rsa_key()
    monkeypatch.setattr(keys.rsa, "generate_private_key", lambda **_kw: ready)
    login(Role.ADMIN)
    settings = client.get("/admin/organisation").text
    assert 'href="/admin/organisation/signing"' in settings
    page = client.get("/admin/organisation/signing").text
    assert "No key is set up: certificates are issued unsigned." in page

    response = client.post(
        "/admin/organisation/signing/generate", data={"name": "Regional Training Centre"}
    )
    assert response.status_code == 302
    response = client.post("/admin/organisation/signing/generate", data={"name": "RTC 2027"})
    assert response.status_code == 302
    page = client.get("/admin/organisation/signing").text
    assert "Regional Training Centre" in page and "RTC 2027" in page
    assert page.count("In use") == 1 and "Retired" in page
    assert _key_count(db_session) == 2

    assert (
        client.post("/admin/organisation/signing/generate", data={"name": " "}).status_code == 200
    )
    assert _key_count(db_session) == 2


def test_uploading_a_pkcs12(client: FlaskClient, login: Any, db_session: Any) -> None:
    login(Role.ADMIN)

    def post(data: bytes, password: str) -> Any:
        return client.post(
            "/admin/organisation/signing/upload",
            data={"file": (io.BytesIO(data), "signer.p12"), "password": password},
            content_type="multipart/form-data",
        )

    wrong = post(_p12(b"right password"), "wrong password")
    assert wrong.status_code == 200
    assert "not a PKCS#12 file or the password is wrong" in wrong.text
    garbage = post(b"this is not a key", "")
    assert "not a PKCS#12 file or the password is wrong" in garbage.text
    expired = post(_p12(b"pw", days=-1), "pw")
    assert "The certificate expired on" in expired.text
    assert _key_count(db_session) == 0

    assert post(_p12(b"right password"), "right password").status_code == 302
    key = keys.current_key()
    assert key is not None
    assert (key.source, key.subject) == (KeySource.UPLOADED, "Ministry Training CA signer")
    # The private key is stored encrypted, never in the clear.
    assert b"ENCRYPTED PRIVATE KEY" in key.pdf_private_key


# ------------------------------------------------------------ public documents


def test_did_document_and_status_list(client: FlaskClient, make: Any, db_session: Any) -> None:
    assert client.get("/credentials/status/0").status_code == 404
    key = generate_key(actor=make.user())

    response = client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert document["id"] == "did:web:training.example.org"
    assert document["verificationMethod"][0]["publicKeyMultibase"] == key.ed25519_public

    status = client.get("/credentials/status/0")
    assert status.status_code == 200
    assert status.get_json(force=True)["type"][1] == "BitstringStatusListCredential"


def test_credential_download_only_for_a_valid_certificate(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    admin = make.user()
    certificate = make.certificate()
    code = certificate.verification_code
    assert client.get(f"/verify/{code}/credential.json").status_code == 404  # no key yet

    generate_key(actor=admin)
    response = client.get(f"/verify/{code}/credential.json")
    assert response.status_code == 200
    assert f'filename="{certificate.serial}.json"' in response.headers["Content-Disposition"]
    assert response.get_json(force=True)["type"] == ["VerifiableCredential", "OpenBadgeCredential"]

    certificates.revoke(certificate, "Issued by mistake", actor=admin)
    assert client.get(f"/verify/{code}/credential.json").status_code == 404
    assert client.get("/verify/AAAA-AAAA-AAAA-AAAA/credential.json").status_code == 404


# ------------------------------------------------------------ verification page


def test_the_verification_page_says_whether_the_pdf_is_signed(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    unsigned = make.certificate()
    generate_key(actor=make.user())
    signed = make.certificate()

    page = client.get(f"/verify/{unsigned.verification_code}").text
    assert "PDF is not digitally signed" in page
    page = client.get(f"/verify/{signed.verification_code}").text
    assert "The PDF is digitally signed by Regional Training Centre" in page
    assert f"/verify/{signed.verification_code}/credential.json" in page
    # The fingerprint shown is that of the signed file.
    assert certificates.pdf_sha256(signed) in page


def test_checking_a_pasted_or_uploaded_credential(
    client: FlaskClient, make: Any, db_session: Any
) -> None:
    generate_key(actor=make.user())
    certificate = make.certificate()
    text = client.get(f"/verify/{certificate.verification_code}/credential.json").text

    assert "Paste or upload" in client.get("/verify/credential").text
    ok = client.post("/verify/credential", data={"credential": text})
    assert ok.status_code == 200
    assert "The credential is genuine and valid." in ok.text
    assert certificate.snapshot["holder"]["name"] in ok.text
    assert f'<dd class="col-sm-8">{fmt_date(certificate.issued_at, "UTC")}</dd>' in ok.text

    uploaded = client.post(
        "/verify/credential",
        data={"file": (io.BytesIO(text.encode()), "credential.json")},
        content_type="multipart/form-data",
    )
    assert "The credential is genuine and valid." in uploaded.text

    tampered = json.loads(text)
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"
    bad = client.post("/verify/credential", data={"credential": json.dumps(tampered)})
    assert bad.status_code == 422
    assert "The proof is wrong" in bad.text
    assert "This is not JSON" in client.post("/verify/credential", data={"credential": "{"}).text
    empty = client.post("/verify/credential", data={"credential": ""})
    assert "Paste a credential or choose its file." in empty.text


# ------------------------------------------------------------ participant


def test_participant_gets_credential_and_linkedin_links(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    me = login(Role.PARTICIPANT)
    generate_key(actor=make.user())
    certificate = make.certificate(make.enrolment(person=me.person))

    html = client.get("/me").text
    card = re.search(rf'data-testid="certificate-{certificate.id}".*?</li>', html, re.S)
    assert card is not None
    assert f"/verify/{certificate.verification_code}/credential.json" in card.group(0)
    link = re.search(r'href="(https://www\.linkedin\.com/profile/add[^"]+)"', card.group(0))
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == [certificate.snapshot["programme"]["title"]]
    assert query["certId"] == [certificate.serial]
    assert query["certUrl"] == [certificates.verification_url(certificate)]
    assert query["issueYear"] == [str(certificate.issued_at.year)]
    assert query["issueMonth"] == [str(certificate.issued_at.month)]
    assert query["organizationName"][0]


def test_the_participants_links_cost_no_query_per_certificate(
    client: FlaskClient, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    me = login(Role.PARTICIPANT)
    generate_key(actor=make.user())
    counts = []
    for n in (1, 4):  # 1 certificate, then 5
        for _ in range(n):
            make.certificate(make.enrolment(person=me.person))
        with count_queries() as q:
            html = client.get("/me").text
        assert html.count("https://www.linkedin.com/profile/add") == (1 if n == 1 else 5)
        counts.append(q.count)
    assert counts[0] == counts[1], counts


def test_an_unreadable_key_answers_503_with_the_reason(
    app: Any, client: FlaskClient, make: Any, db_session: Any, monkeypatch: Any
) -> None:
    generate_key(actor=make.user())
    certificate = make.certificate()
    monkeypatch.setitem(app.config, "SIGNING_KEY_SECRET", "a different secret")

    for url in (
        f"/verify/{certificate.verification_code}/credential.json",
        "/credentials/status/0",
    ):
        response = client.get(url)
        assert response.status_code == 503
        assert "SIGNING_KEY_SECRET" in response.get_json()["error"]
