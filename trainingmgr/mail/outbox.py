"""Reading the outbox for its pages: filtered, paginated lists and one message taken apart."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import defer

from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.labels import label_for
from trainingmgr.core.pagination import Page, paginate
from trainingmgr.core.scope import in_programmes
from trainingmgr.extensions import db
from trainingmgr.mail import delivery
from trainingmgr.mail.models import OutboxMessage, OutboxStatus

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User

# Every kind of message trainingmgr sends, in the order the pages list them (their labels are
# core.labels', like every stored value's).
KINDS = (
    "sign_in_link",
    "invitation",
    "password_reset",
    "enrolment_confirmation",
    "waitlist_place",
    "session_changed",
    "certificate_issued",
)

STATUS_LABELS: dict[str, Any] = {status.value: label_for(status) for status in OutboxStatus}

MAX_QUERY = 254


@dataclass(frozen=True)
class OutboxFilter:
    """The filters of the outbox and message log pages (from the query string)."""

    status: str = ""
    kind: str = ""
    recipient: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> OutboxFilter:
        status = str(args.get("status", "")).strip()
        kind = str(args.get("kind", "")).strip()
        recipient = " ".join(str(args.get("recipient", "")).split())[:MAX_QUERY]
        return cls(
            status=status if status in STATUS_LABELS else "",
            kind=kind[:40],
            recipient=recipient,
        )

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.recipient)


def messages(
    filters: OutboxFilter,
    page: int,
    per_page: int,
    programme_ids: set[int] | None = None,
) -> Page[OutboxMessage]:
    """Messages newest first (their bodies not loaded), in two queries.

    ``programme_ids``: only messages about these programmes (``None``: all messages).
    """
    query = (
        sa.select(OutboxMessage)
        .options(defer(OutboxMessage.message))
        .where(in_programmes(OutboxMessage.programme_id, programme_ids))
    )
    if filters.status:
        query = query.where(OutboxMessage.status == OutboxStatus(filters.status))
    if filters.kind:
        query = query.where(OutboxMessage.kind == filters.kind)
    if filters.recipient:
        query = query.where(
            sa.func.lower(OutboxMessage.recipient).contains(
                filters.recipient.lower(), autoescape=True
            )
        )
    query = query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    return paginate(query, page, per_page)


def kind_choices() -> list[tuple[str, Any]]:
    """The kinds to filter by: every known kind, and any other found in the outbox."""
    stored = db.session.scalars(sa.select(OutboxMessage.kind).distinct()).all()
    extra = sorted(set(stored) - set(KINDS))
    return [(kind, label_for(kind)) for kind in (*KINDS, *extra)]


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    mimetype: str
    size: int


@dataclass(frozen=True)
class MessageParts:
    """A stored message as the outbox page shows it."""

    headers: list[tuple[str, str]]
    text: str
    html: str | None
    attachments: list[AttachmentInfo]


# One-time links (sign-in, invitation, password reset) are a key to someone's account: the
# outbox shows where they point but not the secret part, so reading it lets nobody sign in.
_ONE_TIME_LINK = re.compile(r"(/(?:login/link|invitation|password/reset)/)[A-Za-z0-9_\-]{16,}")
REDACTED = "••••••"


def redact(text: str) -> str:
    """``text`` with the secret part of every one-time link replaced by dots."""
    return _ONE_TIME_LINK.sub(lambda m: m.group(1) + REDACTED, text)


def parts(message: OutboxMessage) -> MessageParts:
    if message.message is None:  # queued by a bulk change: the worker writes it (deferred)
        return MessageParts(
            headers=[("To", message.recipient)],
            text=_("Not written yet: the mail worker writes this message just before sending it."),
            html=None,
            attachments=[],
        )
    msg = delivery.parse(message.message)
    headers = [(name, str(value)) for name, value in msg.items()]
    text_part = msg.get_body(("plain",))
    html_part = msg.get_body(("html",))
    attachments = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            AttachmentInfo(part.get_filename() or "", part.get_content_type(), len(payload))
        )
    return MessageParts(
        headers=headers,
        text=redact(_text(text_part.get_content())) if text_part is not None else "",
        html=redact(_text(html_part.get_content())) if html_part is not None else None,
        attachments=attachments,
    )


def _text(value: Any) -> str:
    return str(value).replace("\r\n", "\n")


def retry(message: OutboxMessage, *, actor: User) -> None:
    """Put a message back in the queue, to be sent at the worker's next look (audited).

    Refused for a message already sent. The caller commits.
    """
    if message.status == OutboxStatus.SENT:
        raise DomainError(_("This message was sent already: it is not sent twice."))
    before = {
        "status": message.status.value,
        "attempts": message.attempts,
    }
    delivery.retry(message)
    audit.record(
        "mail.retry",
        actor=actor,
        obj=message,
        programme_id=message.programme_id,
        changes={
            "status": [before["status"], message.status.value],
            "attempts": [before["attempts"], message.attempts],
        },
        summary=f"Retry of the {message.kind} e-mail to {message.recipient}",
    )
