"""The password policy: at least 10 characters, not a common password, not the e-mail.

The common passwords are the list shipped in ``data/common-passwords.txt`` (see the README
next to it for its source and licence), compared case-insensitively.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _

from trainingmgr.core.errors import DomainError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 500
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip().casefold() for line in lines if line.strip())


def is_common(password: str) -> bool:
    return password.strip().casefold() in common_passwords()


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why ``password`` may not be used (a message for the user), or None if it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("The password may have at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)
    folded = password.strip().casefold()
    if email:
        address = email.strip().casefold()
        if folded in {address, address.split("@", 1)[0]}:
            return _("The password may not be your e-mail address.")
    if is_common(password):
        return _(
            "This password is one of the most common ones, which are tried first by "
            "people guessing passwords. Choose another one."
        )
    return None


def check_password_policy(password: str, email: str | None = None, field: str = "password") -> None:
    """Raise DomainError (for ``field``) if ``password`` does not meet the policy."""
    problem = password_problem(password, email)
    if problem:
        raise DomainError(problem, field)
