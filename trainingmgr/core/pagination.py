"""Paginating a SELECT: page and page size from query arguments, total count, page links.

Typical use in a view::

    page, per_page = page_args(request.args)
    result = paginate(sa.select(Person).order_by(Person.id), page, per_page)

and in the template ``{% from "_pagination.html" import pagination %}{{ pagination(result) }}``.
A page always costs two queries (the count and the rows), whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from trainingmgr.core.urls import database_id
from trainingmgr.extensions import db

T = TypeVar("T")

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def page_args(
    args: Mapping[str, Any],
    default_per_page: int = DEFAULT_PER_PAGE,
    max_per_page: int = MAX_PER_PAGE,
) -> tuple[int, int]:
    """``(page, per_page)`` from query arguments (whole numbers from 1 to ``LARGEST_ID``, as
    ids); nonsense values fall back to the defaults."""
    page = database_id(args.get("page")) or 1
    per_page = min(database_id(args.get("per_page")) or default_per_page, max_per_page)
    return page, per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and what the page links need to know."""

    items: list[T]
    page: int
    per_page: int
    total: int
    # True when counting stopped at ``total`` (a capped count, see ``paginate``): there are
    # more results than that, how many was not worth counting.
    more: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) + (1 if self.more else 0)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def first_index(self) -> int:
        """1-based position of the first item on this page (0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items) if self.items else 0

    def iter_pages(self, edge: int = 1, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link: the first and last ``edge`` pages and ``around`` the current
        one; ``None`` marks a gap ("…")."""
        last_shown = 0
        for number in range(1, self.pages + 1):
            if number <= edge or number > self.pages - edge or abs(number - self.page) <= around:
                if last_shown and number - last_shown > 1:
                    yield None
                yield number
                last_shown = number


def paginate(
    query: sa.Select[Any],
    page: int,
    per_page: int = DEFAULT_PER_PAGE,
    *,
    scalars: bool = True,
    count_limit: int | None = None,
    total: int | None = None,
) -> Page[Any]:
    """Run ``query`` (which must be ordered) for one page.

    ``scalars=True`` gives the first column of each row (an ORM entity, typically);
    ``scalars=False`` gives whole rows (an entity with computed columns). A page beyond the
    last one shows the last page rather than an empty list.

    ``count_limit`` caps the count (at least up to the page asked for): on 100,000 people an
    exact count costs more than the page itself, and "more than 1,000" says enough.
    ``total``, when the caller knows it already, saves the count query.
    """
    limit = None
    if total is None:
        counted = query.order_by(None)
        if count_limit is not None:
            limit = max(count_limit, max(page, 1) * per_page)
            counted = counted.limit(limit + 1)
        total = int(
            db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
        )
    more = limit is not None and total > limit
    if more:
        total = limit or 0
    pages = max(1, -(-total // per_page)) + (1 if more else 0)
    page = min(max(page, 1), pages)
    paged = query.limit(per_page).offset((page - 1) * per_page)
    result = db.session.execute(paged)
    items = list(result.scalars().unique() if scalars else result.all())
    return Page(items=items, page=page, per_page=per_page, total=total, more=more)
