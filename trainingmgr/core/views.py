"""Small helpers that views of several domains share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash

from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db


def show_error(form: Any, exc: DomainError) -> None:
    """The message next to its field, or flashed at the top of the page."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, exc.message]
    else:
        flash(exc.message, "danger")


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
