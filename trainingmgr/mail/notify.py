"""The e-mails trainingmgr sends about training: they are queued here, in the caller's
transaction (the caller commits), and delivered later by the worker.

Each message is in the cohort's language (for a bilingual cohort, the recipient's own
language when it is one of the two), with a plain-text and an HTML part; times are shown in
the cohort's time zone. People without an e-mail address are skipped. Every function runs a
fixed number of queries, whatever the number of recipients.

The code is split by kind of message: ``enrolment_messages`` ("you are enrolled", the
waitlist), ``session_messages`` (a session moved, cancelled or restored) and
``certificate_messages`` ("your certificate is ready"), on ``recipients`` (who gets a message
and in which language, links, the look-ups shared within a transaction: import those from
``recipients``). This module re-exports the public names of the three kinds; importing it
registers the worker's renderers.
"""

from __future__ import annotations

from trainingmgr.mail.certificate_messages import (
    CERTIFICATE_ISSUED,
    certificate_context,
    certificate_issued,
    certificates_issued,
    defer_certificates_issued,
    render_certificates_issued,
)
from trainingmgr.mail.enrolment_messages import (
    ENROLMENT_CONFIRMATION,
    WAITLIST_PLACE,
    defer_enrolment_confirmations,
    defer_waitlist_places,
    enrolment_confirmation,
    enrolment_confirmations,
    enrolment_context,
    render_enrolment_confirmations,
    render_waitlist_places,
    waitlist_context,
    waitlist_places,
)
from trainingmgr.mail.session_messages import (
    CANCELLED,
    CHANGES,
    MOVED,
    RESTORED,
    SESSION_CHANGED,
    session_change_preview,
    session_change_recipients,
    session_changed,
    session_context,
)

__all__ = [
    "CANCELLED",
    "CERTIFICATE_ISSUED",
    "CHANGES",
    "ENROLMENT_CONFIRMATION",
    "MOVED",
    "RESTORED",
    "SESSION_CHANGED",
    "WAITLIST_PLACE",
    "certificate_context",
    "certificate_issued",
    "certificates_issued",
    "defer_certificates_issued",
    "defer_enrolment_confirmations",
    "defer_waitlist_places",
    "enrolment_confirmation",
    "enrolment_confirmations",
    "enrolment_context",
    "render_certificates_issued",
    "render_enrolment_confirmations",
    "render_waitlist_places",
    "session_change_preview",
    "session_change_recipients",
    "session_changed",
    "session_context",
    "waitlist_context",
    "waitlist_places",
]
