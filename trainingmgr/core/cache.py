"""Figures kept for a short time in this process: those that scan many rows and may lag a
little behind other processes' writes (the directory's filter menus, the participants of each
programme on the dashboard and the programme lists).

A ``TimedCache`` keeps each value for ``ttl`` seconds. It is dropped at once when this
process writes rows of one of the types it watches (a flush, or an INSERT, UPDATE or DELETE
statement run through the session), or rolls back (what it saw may not have been
committed); other writes (through a bare connection) call ``forget_all``. Other processes
see a change within ``ttl`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_CACHES: list[TimedCache[Any, Any]] = []


class TimedCache(Generic[K, V]):
    """Values by key for ``ttl`` seconds, dropped when objects of ``watch`` are written."""

    def __init__(self, ttl: float, *watch: type) -> None:
        self.ttl = ttl
        self.watch = watch
        self._values: dict[K, tuple[float, V]] = {}
        _CACHES.append(self)

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``compute()`` kept from now on."""
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = compute()
        self._values[key] = (now + self.ttl, value)
        return value

    def get_many(self, keys: Iterable[K], compute: Callable[[list[K]], dict[K, V]]) -> dict[K, V]:
        """The values of ``keys``: those kept, and the others from one ``compute(missing)``
        (a key it leaves out has no value, and is kept as such: ``default`` is the
        caller's)."""
        now = time.monotonic()
        found: dict[K, V] = {}
        missing = []
        for key in keys:
            kept = self._values.get(key)
            if kept is not None and kept[0] > now:
                found[key] = kept[1]
            else:
                missing.append(key)
        if missing:
            computed = compute(missing)
            for key in missing:
                if key in computed:
                    found[key] = computed[key]
                    self._values[key] = (now + self.ttl, computed[key])
                else:
                    self._values.pop(key, None)
        return found

    def clear(self) -> None:
        self._values.clear()


def forget_all(*_args: Any) -> None:
    """Drop every cached figure of this process (after bulk writes; tests between runs)."""
    for cache in _CACHES:
        cache.clear()


def _forget_written(session: Any, *_args: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if not changed:
        return
    for cache in _CACHES:
        if cache.watch and any(isinstance(o, cache.watch) for o in changed):
            cache.clear()


def _forget_executed(state: Any) -> None:
    """Bulk INSERT, UPDATE and DELETE statements run through the session (the roster's save,
    issuing certificates) drop the caches watching their table too."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is None:  # a table the ORM does not map: drop everything, to be safe
        forget_all()
        return
    for cache in _CACHES:
        if cache.watch and issubclass(mapper.class_, cache.watch):
            cache.clear()


sa.event.listen(sa.orm.Session, "before_flush", _forget_written)
sa.event.listen(sa.orm.Session, "do_orm_execute", _forget_executed)
sa.event.listen(sa.orm.Session, "after_rollback", forget_all)
