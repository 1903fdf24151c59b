"""Queueing e-mail: the message is built now and written to the outbox in the caller's
transaction, so it goes out only if the change that caused it is committed.

Delivery (SMTP or console) is done by ``trainingmgr.mail.delivery`` from the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app

from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str  # "text/calendar", "application/pdf", ...


def build_message(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    *,
    sender: str | None = None,
) -> EmailMessage:
    """An RFC 5322 message: plain text, an HTML alternative, then the attachments."""
    msg = EmailMessage()
    msg["From"] = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="trainingmgr")
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.mimetype.partition("/")
        msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


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
) -> OutboxMessage:
    """Add a message to the outbox (the caller commits)."""
    msg = build_message(to, subject, text, html, attachments)
    row = OutboxMessage(
        kind=kind,
        recipient=to,
        subject=subject[:300],
        message=msg.as_bytes(),
        user_id=user_id,
        programme_id=programme_id,
        cohort_id=cohort_id,
    )
    db.session.add(row)
    return row


def send(
    kind: str,
    to: str,
    context: dict[str, object],
    *,
    locale: str | None = None,
    attachments: Sequence[Attachment] = (),
    user_id: int | None = None,
    programme_id: int | None = None,
    cohort_id: int | None = None,
) -> OutboxMessage:
    """Render ``templates/mail/<kind>.subject.txt``, ``.txt`` and ``.html`` and queue them.

    ``locale`` is the language of the message (the cohort's language); the templates use
    ``_()`` as everywhere else. The caller commits.
    """
    from flask import render_template
    from flask_babel import force_locale

    languages = current_app.config["LANGUAGES"]
    with force_locale(
        locale if locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]
    ):
        subject = render_template(f"mail/{kind}.subject.txt", **context).strip()
        text = render_template(f"mail/{kind}.txt", **context)
        html = render_template(f"mail/{kind}.html", **context)
    return queue(
        kind,
        to,
        " ".join(subject.split()),
        text,
        html,
        attachments,
        user_id=user_id,
        programme_id=programme_id,
        cohort_id=cohort_id,
    )
