"""Demo certificates: the organisation's logo and signatories, and the certificates of
everyone eligible in the cohorts that are over."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.accounts.models import User
from trainingmgr.certificates import services as certificates
from trainingmgr.cohorts.models import Cohort
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.organisation import services as organisation

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader

DEMO_SIGNATORIES = (
    ("Dr. Aysel Hasanova", "Director, Training Centre"),
    ("Jan de Vries", "Programme Manager"),
)


def _demo_logo() -> bytes:
    """A plain logo for the demo organisation: a dark blue square with a gold ring (PNG)."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 240), (27, 54, 93))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 200, 200), outline=(184, 150, 62), width=14)
    draw.ellipse((96, 96, 144, 144), fill=(184, 150, 62))
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _signatories(admin: User) -> None:
    """The organisation's default signatories and logo, printed on the certificates."""
    settings = organisation.get_settings()
    if settings.logo is None:
        organisation.set_logo(settings, _demo_logo(), "image/png", actor=admin)
    if organisation.own_signatories(None):
        return
    for name, title in DEMO_SIGNATORIES:
        organisation.add_signatory(None, organisation.SignatoryInput(name, title), actor=admin)


def load_certificates(loader: _Loader) -> None:
    """Certificates for everyone eligible in the cohorts that are over, as a coordinator
    would have issued them. Their "certificate issued" e-mails belong to the story, not to
    this run: they are not left in the outbox."""
    admin = loader.users["admin@example.org"]
    _signatories(admin)
    finished = db.session.scalars(
        sa.select(Cohort)
        .where(Cohort.id.in_(list(loader.cohort_ids.values())), Cohort.end_date < loader.today)
        .order_by(Cohort.start_date, Cohort.id)
    ).all()
    for cohort in finished:
        result = certificates.issue_all_eligible(cohort, actor=admin)
        loader.tally.created["certificates"] += len(result.issued)
        loader.tally.present["certificates"] += len(result.already)
    db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.kind == "certificate_issued",
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.cohort_id.in_([c.id for c in finished]),
        )
    )
