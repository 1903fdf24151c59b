"""Domain errors raised by services and turned into messages by views."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A rule of the domain refused an operation. ``field`` names the form field, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist, or the user may not know that it does."""


class Forbidden(DomainError):
    """The user may not do this to this object."""


class NeedsConfirmation(DomainError):
    """Warnings the user has not confirmed yet; nothing was saved. ``digest`` fingerprints
    the warnings: a form sends it back (``acknowledged``) to confirm exactly these."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings
        self.digest = hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


class FieldErrors(DomainError):
    """Several refusals at once, one per field: a form shows them all in one submit."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__(" ".join(e.message for e in errors), errors[0].field if errors else None)
        self.errors = errors


class Checks:
    """Collects every refusal of a validation instead of stopping at the first one.

    ``value = checks.run(normalise, raw)`` returns what ``normalise`` returned, or None after
    recording its ``DomainError``; ``checks.done()`` raises ``FieldErrors`` when any was
    recorded. A field with an error is checked once: a later check of it is skipped.
    """

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def failed(self, field: str) -> bool:
        return any(e.field == field for e in self.errors)

    def add(self, message: str, field: str | None = None) -> None:
        if field is None or not self.failed(field):
            self.errors.append(DomainError(message, field))

    def run(self, check: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return check(*args, **kwargs)
        except FieldErrors as exc:
            self.errors.extend(exc.errors)
        except DomainError as exc:
            self.add(exc.message, exc.field)
        return None

    def done(self) -> None:
        if self.errors:
            raise FieldErrors(list(self.errors))
