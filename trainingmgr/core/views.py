"""Small helpers that views of several domains share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash
from flask_login import current_user

from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db


def acting_user() -> Any:
    """The signed-in user as a plain object: what services take as their ``actor`` (the
    proxy itself must not be stored, audited or compared)."""
    return current_user._get_current_object()


def show_error(form: Any, exc: DomainError) -> None:
    """The message next to its field, or flashed at the top of the page."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        flash(exc.message, "danger")


T = TypeVar("T")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A service call that succeeded and was committed, with what it returned."""

    value: T


def attempt(action: Callable[[], T], form: Any = None) -> Done[T] | None:
    """Call a service and commit: ``Done(result)``. On refusal (DomainError) roll back, show
    why (next to the form's field, or flashed when there is no form) and return None: nothing
    is written."""
    try:
        value = action()
    except DomainError as exc:
        db.session.rollback()
        if form is not None:
            show_error(form, exc)
        else:
            flash(exc.message, "danger")
        return None
    db.session.commit()
    return Done(value)


def run_action(action: Callable[[], Any], success: str) -> bool:
    """A POST-only action: commit and flash ``success`` (if any), or roll back and flash why not."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return False
    db.session.commit()
    if success:
        flash(success, "success")
    return True
