"""Rotating check-in tokens and their QR codes.

A token is an HMAC of the session id and the current 30-second window, keyed with the
application's SECRET_KEY and truncated: it cannot be forged without the key, it names one
session, and it expires. The current and the previous window are accepted, so a code scanned
just before it rotates still works. The participant is always the signed-in user: the token
only proves that they saw the screen in the room (or the online session) a moment ago.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from trainingmgr.core.qr import qr_svg  # noqa: F401  (the check-in screen's codes)
from trainingmgr.core.urls import external_url

WINDOW_SECONDS = 30
# How far back an old token is still recognised as "expired" (rather than "not valid").
RECOGNISE_EXPIRED_SECONDS = 6 * 3600
# A participant who opened a valid link has this long to press "Check me in".
CONFIRM_SECONDS = 300
# Someone who scanned a valid code before signing in has this long to sign in (a password,
# a second factor or a sign-in link by e-mail) and come back to check in.
SCAN_SECONDS = 15 * 60
TOKEN_BYTES = 12  # 16 characters of URL-safe base64


class TokenCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


def window_of(at: datetime) -> int:
    return int(at.timestamp()) // WINDOW_SECONDS


def seconds_left(at: datetime) -> int:
    """Seconds until the token shown at ``at`` is replaced by the next one."""
    return WINDOW_SECONDS - int(at.timestamp()) % WINDOW_SECONDS


def _secret() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def token_for(session_id: int, window: int) -> str:
    message = f"checkin:{session_id}:{window}".encode()
    digest = hmac.new(_secret(), message, hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def current_token(session_id: int, now: datetime) -> str:
    return token_for(session_id, window_of(now))


def check_token(session_id: int, token: str, now: datetime) -> TokenCheck:
    """Whether ``token`` is valid now for ``session_id``, expired, or forged/of another session."""
    if not token or len(token) > 64:
        return TokenCheck.INVALID
    current = window_of(now)
    for window in (current, current - 1):
        if hmac.compare_digest(token_for(session_id, window), token):
            return TokenCheck.VALID
    for back in range(2, RECOGNISE_EXPIRED_SECONDS // WINDOW_SECONDS + 1):
        if hmac.compare_digest(token_for(session_id, current - back), token):
            return TokenCheck.EXPIRED
    return TokenCheck.INVALID


def checkin_url(session_id: int, now: datetime) -> str:
    return external_url(
        "attendance.checkin", session_id=session_id, token=current_token(session_id, now)
    )


# A participant who opened a valid link gets a ticket bound to them and the session, so a
# code that rotates while they read the confirmation page does not refuse them.
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt="attendance-checkin-confirm")


def confirmation_ticket(session_id: int, user_id: int) -> str:
    return _serializer().dumps({"s": session_id, "u": user_id})


def ticket_valid(ticket: str | None, session_id: int, user_id: int) -> bool:
    if not ticket:
        return False
    try:
        data = _serializer().loads(ticket, max_age=CONFIRM_SECONDS)
    except BadSignature:  # includes SignatureExpired
        return False
    return isinstance(data, dict) and data.get("s") == session_id and data.get("u") == user_id


# A valid code scanned by someone not signed in yet: a ticket naming the session and the
# moment of the scan, carried through the sign-in in the address it returns to. It proves,
# like the code, that its holder saw the screen, and lasts long enough to sign in.
def _scan_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secret(), salt="attendance-checkin-scan")


def scan_ticket(session_id: int) -> str:
    return _scan_serializer().dumps({"s": session_id})


def scanned_at(ticket: str | None, session_id: int) -> datetime | None:
    """When the code of ``session_id`` was scanned, if ``ticket`` is a valid scan ticket of
    that session from the last ``SCAN_SECONDS``; else None."""
    if not ticket or len(ticket) > 200:
        return None
    try:
        data, at = _scan_serializer().loads(ticket, max_age=SCAN_SECONDS, return_timestamp=True)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("s") != session_id:
        return None
    return at
