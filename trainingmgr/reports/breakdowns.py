"""The breakdowns of the dashboard: the groups of the roll-ups labelled (countries in the
viewer's language, "Not recorded") and ordered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _

from trainingmgr.cohorts.models import (
    DeliveryMode,
)
from trainingmgr.core.labels import label_for
from trainingmgr.people.models import Sex
from trainingmgr.reports.figures import _BREAKDOWNS, Breakdown, CohortInfo, Figures, Group


def country_name(code: str | None) -> str:
    """A country's name in the viewer's language ("Azerbaijan", "Азербайджан")."""
    if not code:
        return _("Not recorded")
    try:
        locale = get_locale()
    except RuntimeError:
        locale = None
    name = locale.territories.get(code.upper()) if locale is not None else None
    return name or code


def _not_recorded(value: Any) -> str:
    return str(value) if value else _("Not recorded")


def _labeller(name: str, cohorts: dict[int, CohortInfo]) -> Callable[[Any], str]:
    if name == "country":
        return lambda key: f"{country_name(key)} ({key})" if key else _("Not recorded")
    if name in ("sex", "mode"):
        return lambda key: str(label_for(key)) if key else _("Not recorded")
    if name == "cohort":
        return lambda key: cohorts[key].label
    return _not_recorded


def _order(name: str) -> Callable[[Group], Any]:
    if name == "sex":
        order = [s.value for s in Sex]
        return lambda g: order.index(g.key) if g.key in order else len(order)
    if name == "mode":
        order = [m.value for m in DeliveryMode]
        return lambda g: order.index(g.key) if g.key in order else len(order)
    if name == "year":
        return lambda g: (g.key is None, g.key or 0)
    # countries and institutions: the largest first, "not recorded" last
    return lambda g: (g.key is None, -g.figures.participants, g.label.casefold())


def _cohort_key(name: str, cohort: CohortInfo) -> Any:
    if name == "cohort":
        return cohort.id
    if name == "year":
        return cohort.start_date.year
    return cohort.mode.value


def _breakdowns(
    rollups: dict[tuple[str, Any], Figures], cohorts: dict[int, CohortInfo]
) -> list[Breakdown]:
    result = []
    for name, title, _column, per_cohort in _BREAKDOWNS:
        groups = {
            key: figures for (dimension, key), figures in rollups.items() if dimension == name
        }
        if per_cohort:  # every cohort of the selection shows, with its hours delivered
            delivered: dict[Any, Decimal] = defaultdict(lambda: Decimal("0.00"))
            for cohort in cohorts.values():
                delivered[_cohort_key(name, cohort)] += cohort.hours_delivered
            for key, hours in delivered.items():
                groups.setdefault(key, Figures()).hours_delivered = hours
        label = _labeller(name, cohorts)
        items = [Group(key, label(key), figures) for key, figures in groups.items()]
        if name == "cohort":  # in the order of the cohorts (by start date)
            position = {cid: i for i, cid in enumerate(cohorts)}
            items.sort(key=lambda g: position[g.key])
        else:
            items.sort(key=_order(name))
        result.append(Breakdown(name, str(title), items, per_cohort))
    return result
