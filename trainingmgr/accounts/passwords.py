"""The password policy: at least 10 characters, not a common password, not the e-mail, not
the organisation's name, and not one character repeated or a run like "1234567890".

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
    if is_common(password) or _predictable(folded):
        return _(
            "This password is one of the most common ones, which are tried first by "
            "people guessing passwords. Choose another one."
        )
    if _names_the_organisation(folded):
        return _(
            "The password may not be built on the organisation's name: it is the first "
            "thing someone guessing would try."
        )
    return None


def _predictable(folded: str) -> bool:
    """Few distinct characters ("aaaaaaaaaaaa", "abababababab"), or one run up or down the
    alphabet, the digits or the keyboard ("abcdefghijk", "0987654321")."""
    if len(set(folded)) <= 3:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(folded, folded[1:], strict=False)}
    if steps <= {1} or steps <= {-1}:
        return True
    return any(folded in row or folded in row[::-1] for row in _RUNS)


_RUNS = ("1234567890" * 2, "qwertyuiopasdfghjklzxcvbnm", "йцукенгшщзхъфывапролджэячсмитьбю")


def _names_the_organisation(folded: str) -> bool:
    from trainingmgr.organisation.services import organisation_name

    try:
        name = organisation_name().casefold()
    except Exception:  # no database (e.g. a form checked outside a request)
        return False
    letters = "".join(ch for ch in name if ch.isalnum())
    bare = "".join(ch for ch in folded if ch.isalnum())
    stripped = bare.rstrip("0123456789!?.")
    return bool(letters) and len(letters) >= 4 and letters in (bare, stripped)


def check_password_policy(password: str, email: str | None = None, field: str = "password") -> None:
    """Raise DomainError (for ``field``) if ``password`` does not meet the policy."""
    problem = password_problem(password, email)
    if problem:
        raise DomainError(problem, field)
