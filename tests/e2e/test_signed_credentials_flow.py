"""Signed certificates in the browser (issue 21): an administrator generates the signing key
on a phone; a participant's certificate issued afterwards offers its Open Badges credential
and "Add to LinkedIn"; the downloaded credential, uploaded on the check page, is genuine, and
the verification page says the PDF is signed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e import overflow_px, screenshot, sign_in
from tests.signing_helpers import generate_key
from trainingmgr.accounts.models import Role

pytestmark = pytest.mark.e2e


def test_an_administrator_generates_the_signing_key_on_a_phone(
    phone_page: Any, account: Any
) -> None:
    account(Role.ADMIN, email="admin@example.org")

    sign_in(phone_page, "admin@example.org")
    phone_page.goto("/admin/organisation")
    phone_page.get_by_test_id("signing-keys-link").click()
    expect(phone_page.get_by_test_id("no-signing-key")).to_be_visible()
    phone_page.get_by_label("Name shown in the signature").fill("Regional Training Centre")
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="Generate a new key").click()
    expect(phone_page.get_by_test_id("signing-keys")).to_contain_text("Regional Training Centre")
    expect(phone_page.get_by_test_id("signing-keys")).to_contain_text("In use")
    assert overflow_px(phone_page) == 0
    screenshot(phone_page, "signing-keys-phone")


def test_a_participant_downloads_the_credential_and_it_checks_as_genuine(
    page: Any,
    committed_db: Any,
    make: Any,
    account: Any,
    tmp_path: Path,
    app: Any,
    live_app: Any,
    monkeypatch: Any,
) -> None:
    # The key is made here (the suite's app) and used by the live server (another app with
    # its own SECRET_KEY): as in production, both must share the secret that encrypts keys.
    monkeypatch.setitem(app.config, "SIGNING_KEY_SECRET", "shared signing secret")
    monkeypatch.setitem(live_app.config, "SIGNING_KEY_SECRET", "shared signing secret")
    participant = account(Role.PARTICIPANT, email="participant@example.org")
    generate_key(actor=make.user())
    certificate = make.certificate(make.enrolment(person=participant.person))
    committed_db.commit()
    # Plain values: reading objects later would open a transaction (and SQLite's write lock).
    cert_id, code = certificate.id, certificate.verification_code
    serial, holder = certificate.serial, certificate.snapshot["holder"]["name"]
    email = participant.email
    committed_db.commit()

    sign_in(page, email)
    page.goto("/me")
    linkedin = page.get_by_test_id(f"linkedin-{cert_id}")
    expect(linkedin).to_have_attribute(
        "href",
        re.compile(rf"^https://www\.linkedin\.com/profile/add\?.*certId={serial}"),
    )
    with page.expect_download() as download:
        page.get_by_test_id(f"credential-{cert_id}").click()
    saved = tmp_path / "credential.json"
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["type"] == ["VerifiableCredential", "OpenBadgeCredential"]

    page.goto(f"/verify/{code}")
    expect(page.get_by_test_id("signed")).to_contain_text(
        "digitally signed by Regional Training Centre"
    )
    page.get_by_role("link", name="Check a credential").click()
    page.get_by_label("or upload the file").set_input_files(saved)
    page.get_by_role("button", name="Check").click()
    result = page.get_by_test_id("credential-result")
    expect(result).to_contain_text("The credential is genuine and valid.")
    expect(result).to_contain_text(holder)
    screenshot(page, "credential-check-desktop")
