"""Two-factor sign-in for staff: time-based one-time codes (TOTP, RFC 6238) from an
authenticator app, with one-time recovery codes.

- Set up from the profile: the app scans a QR code of an ``otpauth://`` address (also shown
  as text); the first code confirms it, and ten recovery codes are shown once.
- After the password (or an e-mailed link), a sign-in of an account with two-factor
  sign-in opens nothing but the code page until a code is given (``SignIn.second_factor_at``;
  "keep me signed in" keeps it for that device).
- The organisation can require it for administrators (by default in production) and for
  coordinators; such an account is sent to set it up before anything else.
- An administrator can reset someone's second factor (a lost phone and no recovery code).
Every step is audited; code attempts are rate-limited by the view.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

import pyotp
import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import RecoveryCode, Role, SignIn, User
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

RECOVERY_CODES = 10
ISSUER = "trainingmgr"


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def required(user: User) -> bool:
    """Whether the organisation requires two-factor sign-in for ``user``'s roles."""
    from trainingmgr.organisation.services import two_factor_policy

    admins, coordinators = two_factor_policy()
    roles = user.stored_roles
    return (admins and Role.ADMIN in roles) or (coordinators and Role.COORDINATOR in roles)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    """The letters and digits of ``code`` in ASCII, lower case: a phone keyboard may type
    full-width (１２３) or Arabic-Indic (١٢٣) digits; other characters are left out."""
    folded = unicodedata.normalize("NFKC", code or "").lower()
    digits = (str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in folded)
    return "".join(ch for ch in digits if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class Setup:
    secret: str
    uri: str  # otpauth://totp/...


def begin_setup(user: User, organisation: str) -> Setup:
    """A new secret for ``user`` (kept until confirmed; replaces an unconfirmed one)."""
    if enabled(user):
        raise DomainError(_("Two-factor sign-in is already set up for this account."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return current_setup(user, organisation)


def current_setup(user: User, organisation: str) -> Setup:
    secret = user.totp_secret or ""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=organisation or ISSUER)
    return Setup(secret, uri)


def _accept_totp(user: User, code: str) -> bool:
    """A current code (or the one before or after, for a clock a little off), used once."""
    code = _normalise(code)
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        candidate = step + offset
        if user.totp_last_step is not None and candidate <= user.totp_last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            user.totp_last_step = candidate
            return True
    return False


def confirm_setup(
    user: User, code: str, *, sign_in: SignIn | None = None, ip: str | None = None
) -> list[str]:
    """Turn two-factor sign-in on with the first code; returns the recovery codes (shown
    once). ``sign_in`` (the one setting it up) is complete from now on. The caller commits."""
    if enabled(user):
        raise DomainError(_("Two-factor sign-in is already set up for this account."))
    if not _accept_totp(user, code):
        raise DomainError(
            _(
                "This code is not right. Check that the phone's time is set automatically, "
                "then type the 6 digits the app shows now."
            ),
            "code",
        )
    user.totp_enabled_at = utcnow()
    if sign_in is not None and sign_in.second_factor_at is None:
        sign_in.second_factor_at = user.totp_enabled_at
    codes = new_recovery_codes(user)
    audit.record("auth.two_factor_enabled", actor=user, obj=user, ip=ip)
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones; returns them (never stored)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(_normalise(c))) for c in codes)
    db.session.flush()
    return codes


def remaining_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def verify(user: User, code: str, sign_in: SignIn, *, ip: str | None = None) -> bool:
    """Check a code from the app or a recovery code for the sign-in ``sign_in``; on success
    the sign-in is complete. Audited either way. The caller commits."""
    used = None
    ok = _accept_totp(user, code)
    if not ok:
        used = db.session.scalar(
            sa.select(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(_normalise(code)),
                RecoveryCode.used_at.is_(None),
            )
            .with_for_update()
        )
        if used is not None:
            used.used_at = utcnow()
            ok = True
    if ok:
        sign_in.second_factor_at = utcnow()
        audit.record(
            "auth.two_factor_passed",
            actor=user,
            obj=user,
            ip=ip,
            summary="recovery code" if used is not None else "",
        )
    else:
        audit.record("auth.two_factor_failed", actor=user, obj=user, ip=ip)
    return ok


def turn_off(user: User, *, actor: User, ip: str | None = None) -> None:
    """Remove ``user``'s second factor (themselves, when not required; or an administrator
    resetting it, which also ends every sign-in of theirs). The caller commits."""
    if actor.id == user.id and required(user):
        raise DomainError(
            _("Your organisation requires two-factor sign-in for your role: it stays on.")
        )
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if actor.id != user.id:
        from trainingmgr.accounts import sessions

        sessions.end_all(user)
    action = "auth.two_factor_disabled" if actor.id == user.id else "auth.two_factor_reset"
    audit.record(action, actor=actor, obj=user, ip=ip)
