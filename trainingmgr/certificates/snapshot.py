"""What a certificate prints, copied when it is issued: the snapshot (format in
``docs/certificates.md``), the letterhead (issuer, logo, signatories, funders) and the images
kept with certificates (``CertificateAsset``, stored once by SHA-256)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel import Locale
from sqlalchemy.dialects import postgresql, sqlite

from trainingmgr.attendance.bulk import attended_modules
from trainingmgr.attendance.summary import Summary
from trainingmgr.certificates import pdf
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.certificates.models import (
    CertificateAsset,
)
from trainingmgr.cohorts.models import Cohort, Enrolment
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db, on_postgresql
from trainingmgr.organisation.services import get_settings, signatories_for
from trainingmgr.people.models import Person, Sex
from trainingmgr.programmes.models import PartnerRole, Programme, ProgrammePartner

# --- Snapshot -----------------------------------------------------------------------------


def _hours_text(value: Decimal) -> str:
    """Hours as printed, the same in every locale: "24", "12.5"."""
    return format(Decimal(value).normalize(), "f")


def _place(cohort: Cohort, lang: str) -> str:
    country = ""
    if cohort.country:
        country = Locale.parse(lang).territories.get(cohort.country.upper(), cohort.country)
    return ", ".join(p for p in (cohort.venue, cohort.city, country) if p)


# --- Images kept with the certificate ------------------------------------------------------

_SHA256 = frozenset("0123456789abcdef")


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256


def _mimetype(data: bytes, given: str | None) -> str:
    if given:
        return given[:30]
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/octet-stream"


def store_assets(images: Sequence[tuple[bytes, str | None]]) -> list[str]:
    """Keep each image (content, mimetype) as a ``CertificateAsset``, once per content, and
    return their SHA-256 in order.

    One SELECT for the hashes already kept, then one ``INSERT ... ON CONFLICT DO NOTHING``
    for the others: two issuers storing the same new image at the same moment both succeed.
    """
    hashes = [hashlib.sha256(data).hexdigest() for data, _mime in images]
    wanted = dict(zip(hashes, images, strict=True))
    if not wanted:
        return hashes
    kept = set(
        db.session.scalars(
            sa.select(CertificateAsset.sha256).where(CertificateAsset.sha256.in_(list(wanted)))
        )
    )
    now = utcnow()
    rows = [
        {"sha256": sha, "mimetype": _mimetype(data, mime), "data": data, "created_at": now}
        for sha, (data, mime) in wanted.items()
        if sha not in kept
    ]
    if rows:
        dialect = postgresql if on_postgresql() else sqlite
        db.session.execute(
            dialect.insert(CertificateAsset)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    return hashes


def load_assets(hashes: Sequence[str]) -> dict[str, bytes]:
    """{sha256: image bytes} of the given kept images (one query; none for an empty list)."""
    if not hashes:
        return {}
    rows = db.session.execute(
        sa.select(CertificateAsset.sha256, CertificateAsset.data).where(
            CertificateAsset.sha256.in_(list(hashes))
        )
    )
    return {sha: bytes(data) for sha, data in rows}


# --- Letterhead: issuer, logo, signatories --------------------------------------------------


def _signatory_items(
    programme: Programme, given: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """{name, title, signature: (bytes, mimetype) | sha256 | None} of the signatories."""
    if given is None:
        return [
            {
                "name": row.name,
                "title": row.title,
                "signature": (row.signature, row.signature_mimetype) if row.signature else None,
            }
            for row in signatories_for(programme.id)
        ]
    items = []
    for item in given:
        signature = item.get("signature")
        if isinstance(signature, bytes | bytearray | memoryview):
            signature = (bytes(signature), None)
        items.append({**item, "signature": signature})
    return items


def letterhead(
    programme: Programme, *, signatories: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """What every certificate of ``programme`` prints apart from its holder: the issuer (the
    organisation's name), the logo (the programme's, else the organisation's) and the
    signatories (the programme's own, else the organisation's defaults; ``signatories``
    replaces them, for tests). Images are kept as ``CertificateAsset`` rows and named by
    their SHA-256, so later changes to a logo or a signature do not change issued
    certificates.
    """
    settings = get_settings()
    items = [
        item
        for item in _signatory_items(programme, signatories)
        if str(item.get("name") or "").strip()
    ]
    logo: tuple[bytes, str | None] | None = None
    if programme.logo:
        logo = (programme.logo, programme.logo_mimetype)
    elif settings.logo:
        logo = (settings.logo, settings.logo_mimetype)
    funders = _funders(programme)
    images = [logo] if logo else []
    images += [i["signature"] for i in items if isinstance(i["signature"], tuple)]
    images += [f["logo"] for f in funders if f["logo"] is not None]
    hashes = iter(store_assets(images))
    logo_hash = next(hashes) if logo else None
    people = []
    for item in items:
        signature = item["signature"]
        if isinstance(signature, tuple):
            signature = next(hashes)
        people.append(
            {
                "name": str(item.get("name") or "").strip(),
                "title": str(item.get("title") or "").strip(),
                "signature": signature if _is_sha256(signature) else None,
            }
        )
    funding = [
        {"name": f["name"], "logo": next(hashes) if f["logo"] is not None else None, "eu": f["eu"]}
        for f in funders
    ]
    return {
        "issuer": {"name": settings.name},
        "logo": logo_hash,
        "signatories": people,
        "funding": funding,
    }


def _funders(programme: Programme) -> list[dict[str, Any]]:
    """The programme's funders in order: {name, logo: (bytes, mimetype) | None, eu} (one
    query, logos included)."""
    rows = db.session.execute(
        sa.select(
            ProgrammePartner.name,
            ProgrammePartner.logo,
            ProgrammePartner.logo_mimetype,
            ProgrammePartner.european_union,
        )
        .where(
            ProgrammePartner.programme_id == programme.id,
            ProgrammePartner.role == PartnerRole.FUNDER,
        )
        .order_by(ProgrammePartner.position, ProgrammePartner.id)
    )
    return [
        {
            "name": name,
            "logo": (bytes(data), mimetype) if data and not eu else None,
            "eu": bool(eu),
        }
        for name, data, mimetype, eu in rows
    ]


def build_snapshot(
    enrolment: Enrolment,
    *,
    signatories: Sequence[Mapping[str, Any]] | None = None,
    head: Mapping[str, Any] | None = None,
    summary: Summary | None = None,
    attended_module_ids: set[int] | None = None,
    serial: str = "",
    issued_on: date | None = None,
) -> dict[str, Any]:
    """Everything a certificate prints for ``enrolment`` (the format of the ``pdf`` package).

    ``head`` (``letterhead()``), ``summary`` and ``attended_module_ids`` are computed when not
    given (issuing a batch passes them, computed once for the whole batch).
    """
    cohort = enrolment.cohort
    programme = cohort.programme
    if head is None:
        head = letterhead(programme, signatories=signatories)
    if summary is None:
        summary = eligibility(cohort.id, [enrolment.id])[enrolment.id].summary
    if attended_module_ids is None:
        attended_module_ids = attended_modules(
            cohort.id, [enrolment.id], [m.id for m in programme.modules]
        )[enrolment.id]
    language = cohort.certificate_language.value
    modules = sorted(
        (m for m in programme.modules if m.id in attended_module_ids),
        key=lambda m: (m.position, m.code),
    )
    return {
        "language": language,
        "holder": _holder(enrolment.person),
        "programme": _programme(programme),
        "cohort": {
            "name": cohort.name,
            "place": _place(cohort, pdf.languages(language)[0]),
            "start_date": cohort.start_date.isoformat(),
            "end_date": cohort.end_date.isoformat(),
        },
        "hours": _hours_text(summary.hours),
        "modules": [{"code": m.code, "title": m.title} for m in modules],
        "signatories": [dict(s) for s in head["signatories"]],
        "logo": head["logo"],
        # The funders' band: each funder's logo (SHA-256) and whether it is the EU.
        "funding": [dict(f) for f in head.get("funding") or []],
        "issuer": dict(head["issuer"]),
        "serial": serial,
        "issued_on": issued_on.isoformat() if issued_on else "",
    }


_PRINTED_SEXES = (Sex.FEMALE, Sex.MALE)


def _holder(person: Person) -> dict[str, Any]:
    return {
        "name": person.full_name,
        "name_latin": person.name_latin or None,
        # For languages whose wording agrees with it (Russian), when known.
        "sex": person.sex.value if person.sex in _PRINTED_SEXES else None,
    }


def _programme(programme: Programme) -> dict[str, Any]:
    return {
        "code": programme.code,
        "title": programme.title,
        "partners": [p.name for p in programme.partners if p.role == PartnerRole.PARTNER],
        "funders": [p.name for p in programme.partners if p.role == PartnerRole.FUNDER],
    }
