"""Extra sections of the dashboard and of the donor report, contributed by other domains.

Reports know nothing of the domains that add sections (evaluations, for one). A domain
registers a ``Section`` once, when its module is imported (its ``views`` module is imported
by ``create_app``)::

    from trainingmgr.reports import sections

    def _evaluation_results(selection: sections.Selection) -> sections.Content | None:
        ...  # bounded queries over selection.cohort_ids
        return sections.Content(
            title=_("Evaluations"),
            figures=[(_("Response rate"), "87.5%")],
            tables=[sections.Table(_("Averages per question"), [_("Question"), _("Average")],
                                   [["Relevance", "4.6"]])],
        )

    sections.register(sections.Section("evaluations", _evaluation_results, position=10))

``build`` is called with the dashboard's selection (the cohorts shown, already limited to
the viewer's programme scope) inside the request or the report's language, and returns what
to show or None (nothing to show for this selection). The dashboard shows each section's
figures, tables and charts under its title; the XLSX report gives each table its own sheet;
the PDF report prints the figures, charts and tables. Texts are plain: escaped on pages,
neutralised in spreadsheets (``attendance.exports.safe_cell``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trainingmgr.reports.charts import Chart
from trainingmgr.reports.services import Filters


@dataclass(frozen=True)
class Selection:
    """What the dashboard shows: its filters, the ids of its cohorts and of its programmes,
    and the programmes the viewer may see (None: all, an administrator)."""

    filters: Filters
    cohort_ids: tuple[int, ...]
    programme_ids: tuple[int, ...]
    viewer_programme_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Table:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Content:
    title: str
    figures: Sequence[tuple[str, str]] = ()
    tables: Sequence[Table] = ()
    charts: Sequence[Chart] = ()
    note: str = ""


Builder = Callable[[Selection], Content | None]


@dataclass(frozen=True)
class Section:
    key: str  # unique: registering the same key again replaces the section
    build: Builder
    position: int = 100  # sections show in this order, after the report's own


_SECTIONS: dict[str, Section] = {}


def register(section: Section) -> None:
    """Add (or replace) a section of the dashboard and of the donor report."""
    _SECTIONS[section.key] = section


def unregister(key: str) -> None:
    _SECTIONS.pop(key, None)


def registered() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.position, s.key))


def build_all(selection: Selection) -> list[Content]:
    """The content of every registered section for ``selection`` (empty ones left out)."""
    built = (section.build(selection) for section in registered())
    return [content for content in built if content is not None]
