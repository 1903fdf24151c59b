"""A certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C VC Data Model 2.0).

Built from the certificate's snapshot (what is printed on it), so the credential says what the
PDF says: the holder's name, the programme (title, code), hours and modules attended, the
cohort's dates, the issuer (the organisation as ``did:web``) and the issue time. Signed with a
``DataIntegrityProof`` (``eddsa-rdfc-2022``) by the current key: Ed25519 is deterministic and
the proof's ``created`` is fixed (the later of the issue time and the key's creation), so the
same certificate and key always give the same credential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from trainingmgr.certificates.models import Certificate
from trainingmgr.core.urls import base_url
from trainingmgr.credentials import dataintegrity, did, jsonld, keys, statuslist
from trainingmgr.credentials.models import SigningKey


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_id(certificate: Certificate) -> str:
    return f"{base_url()}/verify/{certificate.verification_code}/credential"


def status_list_url(number: int) -> str:
    return f"{base_url()}/credentials/status/{number}"


def _narrative(snap: dict[str, Any]) -> str:
    programme = snap.get("programme") or {}
    cohort = snap.get("cohort") or {}
    lines = [
        f"Completed the training programme {programme.get('title', '')} "
        f"({programme.get('code', '')}), {cohort.get('name', '')}"
        + (f", {cohort['place']}" if cohort.get("place") else "")
        + f": {snap.get('hours', '0')} hours attended."
    ]
    modules = [m for m in snap.get("modules") or [] if isinstance(m, dict)]
    if modules:
        lines.append("Modules attended:")
        lines += [f"- {m.get('title', '')} ({m.get('code', '')})" for m in modules]
    return "\n".join(lines)


def _date_time(value: Any) -> str | None:
    return f"{value}T00:00:00Z" if value else None


def unsigned(certificate: Certificate, organisation: str) -> dict[str, Any]:
    """The credential of ``certificate`` without its proof."""
    snap: dict[str, Any] = certificate.snapshot or {}
    holder = snap.get("holder") or {}
    programme = snap.get("programme") or {}
    cohort = snap.get("cohort") or {}
    number, index = statuslist.position(certificate.id)
    list_url = status_list_url(number)
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": holder.get("name") or "",
            }
        ],
        "achievement": {
            "id": f"{base_url()}/verify/{certificate.verification_code}#achievement",
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": programme.get("title") or "",
            "humanCode": programme.get("code") or "",
            "description": f"{programme.get('title', '')}: {snap.get('hours', '0')} hours",
            "criteria": {"narrative": _narrative(snap)},
            "tag": [str(m.get("title", "")) for m in snap.get("modules") or []],
        },
    }
    start, end = _date_time(cohort.get("start_date")), _date_time(cohort.get("end_date"))
    if start and end:
        subject["activityStartDate"], subject["activityEndDate"] = start, end
    return {
        "@context": [jsonld.VC_V2, jsonld.OB_V3],
        "id": credential_id(certificate),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": programme.get("title") or "",
        "description": f"Certificate {certificate.serial} ({cohort.get('name', '')})",
        "issuer": {
            "id": did.issuer_did(),
            "type": ["Profile"],
            "name": organisation,
            "url": base_url(),
        },
        "validFrom": timestamp(certificate.issued_at),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
    }


def signed(certificate: Certificate, organisation: str, key: SigningKey) -> dict[str, Any]:
    created = max(certificate.issued_at, key.created_at)
    return dataintegrity.sign(
        unsigned(certificate, organisation),
        keys.ed25519_key(key),
        verification_method=did.method_id(key),
        created=timestamp(created),
    )


def status_list_credential(
    number: int, revoked_ids: list[int], key: SigningKey, now: datetime
) -> dict[str, Any]:
    """The signed status list credential ``number``: the bits of revoked certificates set."""
    url = status_list_url(number)
    document = {
        "@context": [jsonld.VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did.issuer_did(),
        "validFrom": timestamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": statuslist.encode(
                statuslist.position(i)[1]
                for i in revoked_ids
                if statuslist.position(i)[0] == number
            ),
        },
    }
    return dataintegrity.sign(
        document,
        keys.ed25519_key(key),
        verification_method=did.method_id(key),
        created=timestamp(now),
    )
