"""Credentials offered and checked: a certificate's Open Badges credential, the DID document,
the status lists, a credential pasted on the verification page, the LinkedIn link."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask_babel import gettext as _

from trainingmgr.certificates import services as certificates
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.core.types import utcnow
from trainingmgr.credentials import dataintegrity, did, jsonld, keys, openbadges, statuslist
from trainingmgr.credentials.models import SigningKey
from trainingmgr.extensions import db
from trainingmgr.organisation.services import get_settings

MAX_CREDENTIAL_BYTES = 64 * 1024
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


def credential(certificate: Certificate) -> dict[str, Any] | None:
    """The signed ``OpenBadgeCredential`` of a valid certificate (None when the certificate is
    not valid or no signing key is set up)."""
    if certificate.status != CertificateStatus.VALID:
        return None
    key = keys.current_key()
    if key is None:
        return None
    return openbadges.signed(certificate, get_settings().name, key)


def did_document() -> dict[str, Any]:
    return did.document(keys.all_keys())


def revoked_ids(number: int) -> list[int]:
    low, high = number * statuslist.SIZE, (number + 1) * statuslist.SIZE
    return list(
        db.session.scalars(
            sa.select(Certificate.id).where(
                Certificate.status == CertificateStatus.REVOKED,
                Certificate.id >= low,
                Certificate.id < high,
            )
        )
    )


def status_list(number: int) -> dict[str, Any] | None:
    """Status list credential ``number`` signed now (None without a key or out of range)."""
    key = keys.current_key()
    if key is None or number < 0 or number > 10_000:
        return None
    now = utcnow().replace(microsecond=0)
    return openbadges.status_list_credential(number, revoked_ids(number), key, now)


def linkedin_url(certificate: Certificate, organisation: str | None = None) -> str:
    """LinkedIn's "add a licence or certification" address, filled in."""
    snap = certificate.snapshot or {}
    issued = certificate.issued_at
    return (
        LINKEDIN_ADD
        + "?"
        + urlencode(
            {
                "startTask": "CERTIFICATION_NAME",
                "name": (snap.get("programme") or {}).get("title") or certificate.serial,
                "organizationName": organisation or get_settings().name,
                "issueYear": issued.year,
                "issueMonth": issued.month,
                "certId": certificate.serial,
                "certUrl": certificates.verification_url(certificate),
            }
        )
    )


@dataclass(frozen=True)
class Signature:
    """How a certificate is signed, for its verification page."""

    signed: bool
    subject: str = ""
    certificate_sha256: str = ""
    key_current: bool = False
    credential: bool = False  # an Open Badges credential can be downloaded


def signature(code: str) -> Signature:
    certificate = certificates.find_by_code(code)
    if certificate is None:
        return Signature(False)
    current = keys.current_key()
    offer = certificate.status == CertificateStatus.VALID and current is not None
    if certificate.signing_key_id is None:
        return Signature(False, credential=offer)
    key = db.session.get(SigningKey, certificate.signing_key_id)
    assert key is not None  # foreign key
    return Signature(True, key.subject, key.pdf_certificate_sha256, key.is_current, offer)


# --------------------------------------------------------------------------- checking


@dataclass
class Check:
    """The outcome of checking a pasted or uploaded credential."""

    ok: bool
    message: str
    status: str | None = None  # "valid" or "revoked" once the proof verified
    facts: dict[str, str] = field(default_factory=dict)


def _resolve(method: str) -> Ed25519PublicKey | None:
    key_id = did.key_id_of(method)
    key = keys.get_key(key_id) if key_id is not None else None
    return keys.ed25519_public(key) if key is not None else None


def _parse(text: str | bytes) -> dict[str, Any] | Check:
    if len(text) > MAX_CREDENTIAL_BYTES:
        return Check(False, _("The credential is too large (64 KB at most)."))
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Check(False, _("This is not JSON: paste the whole credential file, unchanged."))
    if not isinstance(data, dict) or "OpenBadgeCredential" not in (data.get("type") or []):
        return Check(False, _("This JSON is not an Open Badges credential."))
    return data


def _issued(data: dict[str, Any]) -> date | None:
    """The day of the credential's ``validFrom`` (UTC), shown in the reader's language."""
    try:
        return datetime.fromisoformat(str(data.get("validFrom", ""))).date()
    except ValueError:
        return None


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    subject = data.get("credentialSubject") or {}
    identifiers = subject.get("identifier") or [{}]
    achievement = subject.get("achievement") or {}
    issuer = data.get("issuer") or {}
    return {
        "holder": str(identifiers[0].get("identityHash", "")),
        "achievement": str(achievement.get("name", "")),
        "issuer": str(issuer.get("name", "") if isinstance(issuer, dict) else issuer),
        "issued": _issued(data),
    }


def _revoked(data: dict[str, Any]) -> bool | None:
    """Whether the credential's status bit is set in our list (None: no usable status)."""
    status = data.get("credentialStatus") or {}
    url = str(status.get("statusListCredential", ""))
    prefix = openbadges.status_list_url(0)[:-1]
    try:
        number = int(url[len(prefix) :]) if url.startswith(prefix) else -1
        index = int(status.get("statusListIndex", -1))
    except ValueError:
        return None
    if number < 0 or not 0 <= index < statuslist.SIZE:
        return None
    return number * statuslist.SIZE + index in set(revoked_ids(number))


# Every property of the credentials this organisation issues. JSON-LD silently drops a
# property no context defines (in the Open Badges scoped contexts), so such a property would
# not be covered by the proof: a credential carrying one is refused rather than shown.
SIGNED_PROPERTIES = frozenset(
    [
        "@context",
        "id",
        "type",
        "name",
        "description",
        "issuer",
        "url",
        "validFrom",
        "credentialSubject",
        "identifier",
        "identityType",
        "hashed",
        "identityHash",
        "achievement",
        "achievementType",
        "humanCode",
        "criteria",
        "narrative",
        "tag",
        "activityStartDate",
        "activityEndDate",
        "credentialStatus",
        "statusPurpose",
        "statusListIndex",
        "statusListCredential",
        "proof",
        "cryptosuite",
        "created",
        "verificationMethod",
        "proofPurpose",
        "proofValue",
    ]
)


def _unsigned_property(value: Any) -> str | None:
    """The first property (depth first) that this organisation's credentials never have."""
    if isinstance(value, list):
        return next((p for p in map(_unsigned_property, value) if p), None)
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        if key not in SIGNED_PROPERTIES:
            return str(key)
        found = _unsigned_property(item) if key != "@context" else None
        if found:
            return found
    return None


def check(text: str | bytes) -> Check:
    """Verify a credential (JSON text): issuer, proof (eddsa-rdfc-2022 with the issuer's key,
    current or retired), then revocation. A Check with a message for the verifier."""
    data = _parse(text)
    if isinstance(data, Check):
        return data
    issuer = data.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != did.issuer_did():
        return Check(
            False,
            _(
                "This credential was not issued by this organisation (issuer %(issuer)s): "
                "check it with its issuer.",
                issuer=str(issuer_id)[:200],
            ),
        )
    extra = _unsigned_property(data)
    if extra is not None:
        return Check(
            False,
            _(
                "The credential has a field this organisation does not sign (%(field)s): it "
                "was changed after it was issued.",
                field=extra[:100],
            ),
        )
    try:
        dataintegrity.verify(data, _resolve)
    except jsonld.UnknownContext as exc:
        return Check(
            False,
            _(
                "The credential uses a JSON-LD context this site does not know: %(url)s",
                url=str(exc)[:200],
            ),
        )
    except dataintegrity.ProofError as exc:
        return Check(False, _("The proof is wrong: %(reason)s.", reason=_reason(str(exc))))
    except (ValueError, TypeError, KeyError):
        return Check(False, _("The credential is not valid JSON-LD."))
    facts = _facts(data)
    if _revoked(data):
        return Check(
            False, _("The signature is genuine, but this credential was revoked."), "revoked", facts
        )
    return Check(True, _("The credential is genuine and valid."), "valid", facts)


def _reason(text: str) -> str:
    reasons = {
        "the credential has no proof (or more than one)": _("the credential has no proof"),
        "the signature does not match the credential's content": _(
            "the signature does not match the content (the credential was changed)"
        ),
        "the proof's key is not one of the issuer's keys": _(
            "the proof's key is not one of this organisation's keys"
        ),
    }
    return str(reasons.get(text, _("the proof is not an eddsa-rdfc-2022 Data Integrity proof")))
