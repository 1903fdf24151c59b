"""Queueing e-mail: the message is built now and written to the outbox in the caller's
transaction, so it goes out only if the change that caused it is committed.

Delivery (SMTP, console or memory) is done by ``trainingmgr.mail.delivery`` from the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import encoders, policy
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import Any, TypedDict, Unpack

import sqlalchemy as sa
from flask import current_app

from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage, OutboxStatus

# Messages are stored as SMTP sends them: CRLF line ends, 7-bit only (bodies in base64,
# non-ASCII header words in RFC 2047), so any server accepts them. The classic (compat32)
# email API builds them several times faster than EmailMessage, which matters when an
# import enrols thousands of people at once.
WIRE_POLICY = policy.compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str  # "text/calendar", "application/pdf", ...


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def address(name: str | None, email: str) -> str:
    """``"Ləman Əliyeva <leman@example.org>"``: a To/From value with the display name
    quoted when needed (it is encoded for the wire when the message is built)."""
    clean = " ".join((name or "").split())  # no line breaks in a header
    if not clean:
        return email
    return str(Address(display_name=clean, addr_spec=email))


def user_address(user: Any) -> str:
    """A user's To value, with their name when they have one (a person or a display name)."""
    name = user.name if user.name != user.email else None
    return address(name, user.email)


def bare_address(to: str) -> str:
    """The e-mail address of a To value (``"Name <a@b>"`` -> ``"a@b"``)."""
    pairs = [addr for _name, addr in getaddresses([to]) if addr]
    return pairs[0] if pairs else to.strip()


def _address_header(value: str) -> str:
    """A From/To value with display names encoded (RFC 2047) when they are not ASCII."""
    value = one_line(value)
    pairs = getaddresses([value])
    if not any(addr for _name, addr in pairs):
        return value
    return ", ".join(formataddr((name, addr), charset="utf-8") for name, addr in pairs if addr)


def _attachment_part(item: Attachment) -> MIMEBase:
    maintype, _, subtype = item.mimetype.partition("/")
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    part.set_payload(item.content)
    if part.get_content_maintype() == "text":
        part.set_param("charset", "utf-8")
    encoders.encode_base64(part)
    filename: str | tuple[str, str, str] = (
        item.filename if item.filename.isascii() else ("utf-8", "", item.filename)
    )
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def message_bytes(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """An RFC 5322 message (plain text, an HTML alternative, then the attachments) as the
    outbox keeps it and SMTP sends it (see ``WIRE_POLICY``).

    Line breaks in ``subject`` and in addresses become spaces (no header injection)."""
    subject = one_line(subject)
    body: Message = MIMEText(text, "plain", "utf-8")
    if html is not None:
        body = MIMEMultipart("alternative", _subparts=[body, MIMEText(html, "html", "utf-8")])
    msg = body
    if attachments:
        msg = MIMEMultipart("mixed", _subparts=[body, *map(_attachment_part, attachments)])
    msg["From"] = _address_header(current_app.config["MAIL_DEFAULT_SENDER"])
    msg["To"] = _address_header(to)
    msg["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="trainingmgr")
    return msg.as_bytes(policy=WIRE_POLICY)


def queue(
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    user_id: int | None = None,
    programme_id: int | None = None,
    cohort_id: int | None = None,
    add: bool = True,
) -> OutboxMessage:
    """Add a message to the outbox (the caller commits); ``add=False``: only make the row
    (``insert_all`` writes many in one statement).

    ``to`` is an address or ``"Name <address>"`` (see ``address()``); the outbox row's
    ``recipient`` keeps the address alone.
    """
    row = OutboxMessage(
        kind=kind,
        recipient=bare_address(to)[:254],
        subject=one_line(subject)[:300],
        message=message_bytes(to, subject, text, html, attachments),
        user_id=user_id,
        programme_id=programme_id,
        cohort_id=cohort_id,
    )
    if add:
        db.session.add(row)
    return row


def insert_all(rows: Sequence[OutboxMessage]) -> None:
    """Write outbox rows made with ``add=False`` in one INSERT (the ORM would insert them one
    by one on SQLite). The objects stay outside the session."""
    if not rows:
        return
    now = utcnow()
    columns = ("kind", "recipient", "subject", "message", "user_id", "programme_id", "cohort_id")
    db.session.execute(
        sa.insert(OutboxMessage),
        [
            {
                **{name: getattr(row, name) for name in columns},
                "created_at": now,
                "next_attempt_at": now,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
            }
            for row in rows
        ],
    )


# Line breaks and runs of ordinary spaces; no-break spaces (as in "2030\u202fг.") are kept.
_BREAKS = re.compile(r"[ \t\r\n\v\f\x1c-\x1f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` on one line, as a Subject header needs it."""
    return _BREAKS.sub(" ", text).strip()


def message_locale(locale: str | None) -> str:
    """``locale`` if the application speaks it, else the default language."""
    languages = current_app.config["LANGUAGES"]
    return locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def render(kind: str, context: dict[str, object], *, locale: str | None = None) -> Rendered:
    """Render ``templates/mail/<kind>.subject.txt``, ``.txt`` and ``.html`` in ``locale``."""
    from flask import render_template
    from flask_babel import force_locale

    with force_locale(message_locale(locale)):
        subject = render_template(f"mail/{kind}.subject.txt", **context).strip()
        text = render_template(f"mail/{kind}.txt", **context)
        subject = one_line(subject)
        html = render_template(f"mail/{kind}.html", **{"mail_subject": subject, **context})
    return Rendered(subject, text, html)


class QueueOptions(TypedDict, total=False):
    """``queue``'s keyword arguments, as ``send`` passes them on."""

    user_id: int | None
    programme_id: int | None
    cohort_id: int | None
    add: bool


def send(
    kind: str,
    to: str,
    context: dict[str, object],
    *,
    locale: str | None = None,
    attachments: Sequence[Attachment] = (),
    **options: Unpack[QueueOptions],
) -> OutboxMessage:
    """Render ``templates/mail/<kind>.subject.txt``, ``.txt`` and ``.html`` and queue them
    (``options``: ``queue``'s).

    ``locale`` is the language of the message (the cohort's language); the templates use
    ``_()`` as everywhere else. The caller commits.
    """
    rendered = render(kind, context, locale=locale)
    return queue(kind, to, rendered.subject, rendered.text, rendered.html, attachments, **options)
