"""Demo programmes and their curricula, read from ``trainingmgr/data/programmes.toml``, and
their loading."""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trainingmgr.config import DATA_DIR
from trainingmgr.demo.cohorts import _COHORTS
from trainingmgr.demo.fields import column_values
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Module, Programme, ProgrammePartner

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader

# Keys of a [[programme]] that are not columns of a programme.
_PARTS = ("curriculum", "module", "partners")


def _curriculum(table: dict[str, Any], topics: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The columns of a programme's modules, in teaching order: listed, or drawn from topics
    ("topic:hours ...", coded PREFIX-01, PREFIX-02...)."""
    if "module" in table:
        return list(table["module"])
    spec = table["curriculum"]
    pairs = [item.split(":") for item in spec["topics"].split()]
    return [
        {"code": f"{spec['prefix']}-{i:02d}", **topics[topic], "hours": hours}
        for i, (topic, hours) in enumerate(pairs, start=1)
    ]


def _read() -> tuple[dict[str, Any], ...]:
    """Each programme's table, its modules (``module``) listed in full."""
    with (DATA_DIR / "programmes.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(
        {**table, "module": _curriculum(table, data["topics"])} for table in data["programme"]
    )


_PROGRAMMES = _read()


def _programme_period(loader: _Loader, code: str) -> tuple[date, date]:
    days = [d for c in _COHORTS if c.programme == code for d in c.days(loader.today)]
    return min(days) - timedelta(days=60), max(days) + timedelta(days=180)


def _new_programme(loader: _Loader, table: dict[str, Any]) -> Programme:
    """A programme of the demo, dated and targeted after its cohorts."""
    start, end = _programme_period(loader, table["code"])
    countries = sorted(
        {
            loader.plan.people[e.email].country
            for c in _COHORTS
            if c.programme == table["code"]
            for e in loader.plan.enrolments[c.key]
        }
    )
    return Programme(
        **column_values(Programme, {k: v for k, v in table.items() if k not in _PARTS}),
        start_date=start,
        end_date=end,
        target_countries=",".join(countries),
        partners=[
            ProgrammePartner(**column_values(ProgrammePartner, partner), position=i)
            for i, partner in enumerate(table.get("partners", ()))
        ],
    )


def _add_modules(loader: _Loader, programme: Programme, table: dict[str, Any]) -> None:
    """The modules of the programme's ``table`` that ``programme`` lacks, in teaching order."""
    have = {m.code for m in programme.modules}
    for position, module in enumerate(table["module"], start=1):
        if module["code"] in have:
            loader.tally.present["modules"] += 1
            continue
        programme.modules.append(Module(**column_values(Module, module), position=position))
        loader.tally.created["modules"] += 1


def load_programmes(loader: _Loader) -> None:
    """The programmes and modules of the demo that are not there yet."""
    existing = {
        p.code: p
        for p in db.session.scalars(
            sa.select(Programme).where(Programme.code.in_([p["code"] for p in _PROGRAMMES]))
        )
    }
    for table in _PROGRAMMES:
        programme = existing.get(table["code"])
        if programme is None:
            programme = _new_programme(loader, table)
            db.session.add(programme)
            loader.tally.created["programmes"] += 1
        else:
            loader.tally.present["programmes"] += 1
        _add_modules(loader, programme, table)
        loader.programmes[table["code"]] = programme
    db.session.flush()
    loader.modules = {m.code: m for p in loader.programmes.values() for m in p.modules}
