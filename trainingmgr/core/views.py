"""The common view flow around a service, shared by the views of every domain.

``run_action`` is THE way for a view to run an action: call the service, commit, flash the
success message, or on refusal roll back and show why (next to the form's field, flashed, or
as a 404/403 page), and report schedule-style warnings that need confirming.
``load_or_404`` is the loader of the object a URL names.

    result = run_action(lambda: services.rename(thing, name, actor=actor()), _("Saved."),
                        form=form)
    if result:                      # Done: committed; result.value is what the service returned
        return redirect(...)
    return render_template(..., warnings=result.warnings)   # Refused: nothing was written
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import abort, flash
from flask_login import current_user

from trainingmgr.core.errors import (
    DomainError,
    FieldErrors,
    Forbidden,
    NeedsConfirmation,
    NotFound,
)
from trainingmgr.extensions import db

T = TypeVar("T")

# A success message: a text, or a function of what the service returned that gives a text or
# a (text, flash category) pair (e.g. "Nothing was changed." as "info").
Success = str | Callable[[Any], "str | tuple[str, str]"]


def actor() -> Any:
    """The signed-in user, as services take it (``actor=actor()``): the object itself, not
    Flask-Login's proxy."""
    return current_user._get_current_object()


def show_error(form: Any, exc: DomainError) -> None:
    """The message next to its field, or flashed at the top of the page; every message of a
    ``FieldErrors``."""
    for error in exc.errors if isinstance(exc, FieldErrors) else [exc]:
        if form is not None and error.field and error.field in form:
            form[error.field].errors = [*form[error.field].errors, error.message]
        else:
            flash(error.message, "danger")


@dataclass(frozen=True)
class Done(Generic[T]):
    """A service call that succeeded and was committed, with what it returned (true)."""

    value: T

    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True)
class Refused:
    """A service call that was refused and rolled back: nothing was written (false).
    ``warnings`` are set when the refusal only asks for confirmation."""

    error: DomainError
    warnings: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return False


def _flash_success(success: Success, value: Any) -> None:
    message = success(value) if callable(success) else success
    if isinstance(message, tuple):
        text, category = message
    else:
        text, category = message, "success"
    if text:
        flash(text, category)


def _abort_if_http(exc: DomainError, http_errors: bool) -> None:
    """With ``http_errors``, a ``NotFound`` answers 404 and a ``Forbidden`` 403."""
    if http_errors and isinstance(exc, NotFound):
        abort(404)
    if http_errors and isinstance(exc, Forbidden):
        abort(403)


def _refused(exc: DomainError, form: Any, http_errors: bool, show: bool = True) -> Refused:
    db.session.rollback()
    _abort_if_http(exc, http_errors)
    if isinstance(exc, NeedsConfirmation):
        if form is not None and "acknowledged" in form:
            form.acknowledged.data = exc.digest
        if form is not None and "confirm" in form:
            form.confirm.data = False
        return Refused(exc, list(exc.warnings))
    if show:
        show_error(form, exc)
    return Refused(exc)


def run_action(
    action: Callable[[], T],
    success: Success = "",
    *,
    form: Any = None,
    http_errors: bool = False,
    show: bool = True,
) -> Done[T] | Refused:
    """Call a service and commit: ``Done(result)`` (true), after flashing ``success``.

    On refusal (``DomainError``) roll back and return ``Refused`` (false): the message goes next
    to ``form``'s field (``DomainError.field``) or is flashed; with ``http_errors`` a
    ``NotFound`` answers 404 and a ``Forbidden`` 403 instead; a ``NeedsConfirmation`` puts its
    digest in the form's ``acknowledged`` field and returns its warnings, unflashed. With
    ``show=False`` the view shows ``Refused.error`` itself.
    """
    try:
        value = action()
    except DomainError as exc:
        return _refused(exc, form, http_errors, show)
    db.session.commit()
    _flash_success(success, value)
    return Done(value)


def submit(
    form: Any,
    action: Callable[[], T],
    success: Success = "",
    *,
    check: Callable[[], Any] | None = None,
    http_errors: bool = False,
) -> Done[T] | Refused | None:
    """``run_action`` for a submitted form: None when the form was not submitted or does not
    validate, else what ``run_action`` returned.

    ``check`` (the service's validation, writing nothing) runs when the form's own
    validation fails, so that the rules' errors on the other fields are shown in the same
    submit: every error at once, never one per submit.
    """
    if not form.is_submitted():
        return None
    if form.validate():
        return run_action(action, success, form=form, http_errors=http_errors)
    if check is not None:
        passes(form, check)
    return None


def passes(form: Any, check: Callable[[], Any]) -> bool:
    """Run ``check`` (a service's validation, writing nothing; rolled back) and add its
    errors to the fields of ``form`` that have none yet; whether it passed. For a view that
    asks something more (a likely duplicate, say) only of values the rules accept."""
    try:
        check()
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, FieldErrors) else [exc]
        for error in errors:
            if error.field and error.field in form and not form[error.field].errors:
                form[error.field].errors = [error.message]
        return False
    finally:
        db.session.rollback()
    return True


def outcome(call: Callable[[], T], *, http_errors: bool = False) -> Done[T] | Refused:
    """Call a service that reads (a link's check, a lookup): ``Done(result)``, or ``Refused``
    with the ``DomainError`` for the view to show as it sees fit. No commit, no flash. With
    ``http_errors`` a ``NotFound`` answers 404 and a ``Forbidden`` 403 instead."""
    try:
        return Done(call())
    except DomainError as exc:
        _abort_if_http(exc, http_errors)
        return Refused(exc)


def attempt(action: Callable[[], T], form: Any = None) -> Done[T] | None:
    """``run_action`` without a success message, answering None on refusal (older callers)."""
    return run_action(action, form=form) or None


def load_or_404(loader: Callable[..., T | None], *args: Any, **kwargs: Any) -> T:
    """The object a URL names: ``loader(*args)`` (a domain service: it applies the object's
    scope and ownership rules, returning None or raising ``NotFound``/``Forbidden``), else
    404 (or 403)."""
    try:
        value = loader(*args, **kwargs)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    if value is None:
        abort(404)
    return value
