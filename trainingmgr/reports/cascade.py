"""The training-of-trainers cascade: who a ToT's graduates went on to train.

- The *graduates* of a cohort are the people whose enrolment is completed or who hold a
  valid certificate of it.
- A *roll-out* of a cohort is a later cohort that names it as its parent ToT
  (``Cohort.parent_cohort_id``), or one starting on or after it in which one of its
  graduates teaches a session (``session_trainers``).
- The roll-outs of the roll-outs (their own graduates teaching further) are the next
  generations, up to ``MAX_LEVELS`` deep; a cohort shows once, at its first level.
- People *reached directly* are the unique people on the rosters (enrolled, completed or not
  completed) of the first roll-outs; *indirectly*, those on the rosters of later generations
  who were not reached directly.

Only cohorts of the viewer's programmes are shown and followed; the others are counted
(``hidden``) without their names or figures. Four queries a generation at most.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from anyascii import anyascii
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import NotFound
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Programme
from trainingmgr.reports.services import country_name

MAX_LEVELS = 4


@dataclass
class Node:
    cohort_id: int
    name: str
    programme_code: str
    start_date: date
    country: str | None
    level: int
    trainers: list[str] = field(default_factory=list)  # the parent's graduates teaching here
    graduates: int = 0
    reached: int = 0  # people on the roster
    children: list[Node] = field(default_factory=list)


@dataclass
class Graduate:
    person_id: int
    name: str
    country: str | None
    taught: list[str]  # the roll-outs they teach in


@dataclass
class CountryReach:
    code: str | None
    label: str
    direct: int
    indirect: int

    @property
    def total(self) -> int:
        return self.direct + self.indirect


@dataclass
class Cascade:
    root: Node
    graduates: list[Graduate]
    direct: int
    indirect: int
    countries: list[CountryReach]
    hidden: int  # roll-outs in programmes the viewer does not coordinate

    @property
    def total(self) -> int:
        return self.direct + self.indirect

    @property
    def nodes(self) -> list[Node]:
        """Every cohort of the tree, depth first (the ToT first)."""
        found: list[Node] = []

        def walk(node: Node) -> None:
            found.append(node)
            for child in node.children:
                walk(child)

        walk(self.root)
        return found

    @property
    def rollouts(self) -> list[Node]:
        return self.nodes[1:]


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def _graduates(cohort_ids: list[int]) -> list[tuple[int, int, str, str | None]]:
    """(cohort id, person id, name, country) of the graduates of these cohorts."""
    if not cohort_ids:
        return []
    certified = sa.exists().where(
        Certificate.enrolment_id == Enrolment.id, Certificate.status == CertificateStatus.VALID
    )
    rows = db.session.execute(
        sa.select(
            Enrolment.cohort_id, Person.id, Person.first_name, Person.last_name, Person.country
        )
        .join(Person, Person.id == Enrolment.person_id)
        .where(
            Enrolment.cohort_id.in_(cohort_ids),
            sa.or_(Enrolment.status == EnrolmentStatus.COMPLETED, certified),
        )
        .order_by(Person.last_name, Person.first_name)
    )
    return [(cid, pid, _name(first, last), country) for cid, pid, first, last, country in rows]


def _cohort_rows() -> sa.Select[tuple[int, str, int, str, date, str | None, int | None]]:
    """Cohorts as the cascade reads them: (id, name, programme id, programme code, start date,
    country, parent cohort id)."""
    return sa.select(
        Cohort.id,
        Cohort.name,
        Cohort.programme_id,
        Programme.code,
        Cohort.start_date,
        Cohort.country,
        Cohort.parent_cohort_id,
    ).join(Programme, Programme.id == Cohort.programme_id)


def _children(
    parent_ids: list[int], graduate_ids: set[int], seen: set[int]
) -> list[tuple[int, str, int, str, date, str | None, int | None]]:
    """Cohorts naming a parent as their ToT, or taught by one of the graduates."""
    taught = (
        sa.select(Session.cohort_id)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(session_trainers.c.person_id.in_(sorted(graduate_ids)))
    )
    linked = [Cohort.parent_cohort_id.in_(parent_ids)]
    if graduate_ids:
        linked.append(Cohort.id.in_(taught))
    rows = db.session.execute(
        _cohort_rows()
        .where(sa.or_(*linked), Cohort.id.not_in(sorted(seen)))
        .order_by(Cohort.start_date, Cohort.name)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _teachers(cohort_ids: list[int], graduate_ids: set[int]) -> list[tuple[int, int]]:
    """(cohort id, person id): which of the graduates teach in which of these cohorts."""
    if not cohort_ids or not graduate_ids:
        return []
    rows = db.session.execute(
        sa.select(Session.cohort_id, session_trainers.c.person_id)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .where(
            Session.cohort_id.in_(cohort_ids),
            session_trainers.c.person_id.in_(sorted(graduate_ids)),
        )
        .distinct()
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _rosters(cohort_ids: list[int]) -> list[tuple[int, int, str | None]]:
    """(cohort id, person id, country) of everyone on these cohorts' rosters."""
    if not cohort_ids:
        return []
    rows = db.session.execute(
        sa.select(Enrolment.cohort_id, Enrolment.person_id, Person.country)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.cohort_id.in_(cohort_ids), Enrolment.active)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def cascade(cohort_id: int, programme_ids: Collection[int] | None) -> Cascade:
    """The cascade of the cohort ``cohort_id`` (see the module docstring), showing and
    following only cohorts of ``programme_ids`` (None: all)."""
    root = _root(cohort_id, programme_ids)
    walk = _Walk(root, programme_ids)
    level_nodes = [root]
    for level in range(1, MAX_LEVELS + 1):
        next_level = walk.generation(level, level_nodes)
        if not next_level:
            break
        walk.reach(level, next_level)
        level_nodes = next_level
    direct: dict[str | None, int] = defaultdict(int)
    indirect: dict[str | None, int] = defaultdict(int)
    for level, country in walk.people_level.values():
        (direct if level == 1 else indirect)[country] += 1
    countries = [
        CountryReach(code, country_name(code), direct[code], indirect[code])
        for code in set(direct) | set(indirect)
    ]
    countries.sort(key=lambda c: (c.code is None, -c.total, c.label))
    walk.root_graduates.sort(key=lambda g: (anyascii(g.name).casefold(), g.name))
    return Cascade(
        root,
        walk.root_graduates,
        sum(direct.values()),
        sum(indirect.values()),
        countries,
        walk.hidden,
    )


def _root(cohort_id: int, programme_ids: Collection[int] | None) -> Node:
    """The cascade's first node: the cohort, NotFound outside ``programme_ids``."""
    row = db.session.execute(_cohort_rows().where(Cohort.id == cohort_id)).first()
    if row is None or (programme_ids is not None and row[2] not in programme_ids):
        raise NotFound(_("There is no such cohort."))
    return Node(row[0], row[1], row[3], row[4], row[5], 0)


class _Walk:
    """The cascade followed one generation at a time."""

    def __init__(self, root: Node, programme_ids: Collection[int] | None) -> None:
        self.programme_ids = programme_ids
        self.nodes = {root.cohort_id: root}
        self.seen = {root.cohort_id}
        self.hidden = 0
        self.people_level: dict[int, tuple[int, str | None]] = {}  # person -> (level, country)
        self.root_graduates: list[Graduate] = []
        self.taught_by: dict[int, list[str]] = defaultdict(list)

    def generation(self, level: int, level_nodes: list[Node]) -> list[Node]:
        """The graduates of ``level_nodes`` counted, and the roll-outs they lead to (the
        nodes of ``level``) added to their parents."""
        graduates = _graduates([n.cohort_id for n in level_nodes])
        grads_of: dict[int, set[int]] = defaultdict(set)
        for cid, pid, name, country in graduates:
            grads_of[cid].add(pid)
            self.nodes[cid].graduates += 1
            if level == 1:
                self.root_graduates.append(Graduate(pid, name, country, self.taught_by[pid]))
        names = {pid: name for _cid, pid, name, _country in graduates}
        all_grads = set().union(*grads_of.values()) if grads_of else set()
        candidates = _children([n.cohort_id for n in level_nodes], all_grads, self.seen)
        teachers_of: dict[int, set[int]] = defaultdict(set)
        for cid, pid in _teachers([c[0] for c in candidates], all_grads):
            teachers_of[cid].add(pid)
        parents = {n.cohort_id: n for n in level_nodes}
        next_level: list[Node] = []
        for cid, name, programme_id, code, start, country, parent_id in candidates:
            parent = parents.get(parent_id) if parent_id is not None else None
            if parent is None:  # linked through its trainers: the first ToT they graduated from
                by = [p for p in level_nodes if grads_of[p.cohort_id] & teachers_of[cid]]
                by = [p for p in by if start >= p.start_date]
                if not by:
                    continue
                parent = by[0]
            self.seen.add(cid)
            if self.programme_ids is not None and programme_id not in self.programme_ids:
                self.hidden += 1
                continue
            teachers = sorted(teachers_of[cid] & grads_of[parent.cohort_id], key=names.get)
            node = Node(cid, name, code, start, country, level, [names[p] for p in teachers])
            parent.children.append(node)
            self.nodes[cid] = node
            next_level.append(node)
            if level == 1:
                for pid in teachers:
                    self.taught_by[pid].append(name)
        return next_level

    def reach(self, level: int, level_nodes: list[Node]) -> None:
        """The people on the rosters of ``level_nodes``, each at the first level reaching them."""
        for cid, pid, country in _rosters([n.cohort_id for n in level_nodes]):
            self.nodes[cid].reached += 1
            if pid not in self.people_level:
                self.people_level[pid] = (level, country)


# --------------------------------------------------------------------------- report section

# At most this many trainings of trainers are followed for the dashboard's section.
SECTION_MAX_TOTS = 10


def cascade_section(selection: Any) -> Any:
    """The dashboard's and the donor report's section on cascades: for each training of
    trainers among the selected cohorts (programmes of the kind "training of trainers"), its
    graduates, roll-outs and the people reached (``reports.sections`` calls it)."""
    from trainingmgr.programmes.models import ProgrammeKind
    from trainingmgr.reports.sections import Content, Table

    if not selection.cohort_ids:
        return None
    tots = db.session.scalars(
        sa.select(Cohort.id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .where(
            Cohort.id.in_(selection.cohort_ids),
            Programme.kind == ProgrammeKind.TRAINING_OF_TRAINERS,
        )
        .order_by(Cohort.start_date, Cohort.id)
        .limit(SECTION_MAX_TOTS)
    ).all()
    if not tots:
        return None
    results = [cascade(tot_id, selection.viewer_programme_ids) for tot_id in tots]
    rows = [
        [r.root.name, len(r.graduates), len(r.rollouts), r.direct, r.indirect, r.total]
        for r in results
    ]
    return Content(
        title=_("Training of trainers: cascades"),
        tables=[
            Table(
                _("Cascades"),
                [
                    _("Training of trainers"),
                    _("Graduates"),
                    _("Roll-out cohorts"),
                    _("Reached directly"),
                    _("Reached indirectly"),
                    _("Total"),
                ],
                rows,
            ),
            Table(
                _("People reached by country"),
                [_("Country"), _("Directly"), _("Indirectly"), _("Total")],
                _country_rows(results),
            ),
        ],
        note=_(
            "People on the rosters of the roll-out cohorts that the graduates taught or that "
            "name the training as their ToT; directly in the first generation, indirectly in "
            "later ones. Each person counts once per training of trainers."
        ),
    )


def _country_rows(results: list[Cascade]) -> list[list[Any]]:
    """The people reached by country over several cascades: country, directly, indirectly,
    total; the most reached first, people without a country last."""
    countries: dict[str | None, list[int]] = {}
    labels: dict[str | None, str] = {}
    for r in results:
        for c in r.countries:
            counts = countries.setdefault(c.code, [0, 0])
            counts[0] += c.direct
            counts[1] += c.indirect
            labels[c.code] = f"{c.label} ({c.code})" if c.code else c.label
    by_country = sorted(countries.items(), key=lambda kv: (kv[0] is None, -sum(kv[1])))
    return [[labels[code], d, i, d + i] for code, (d, i) in by_country]


# --------------------------------------------------------------------------- tree diagram

BOX_W, BOX_H, COL_GAP, ROW_GAP = 230, 56, 50, 14


def tree_svg(result: Cascade) -> Markup:
    """The cascade as a tree (the ToT on the left, each generation a column to the right),
    an accessible SVG with a title and a description; the page's tables give the same."""
    positions, rows = _positions(result.root)
    levels = max(n.level for n in result.nodes) + 1
    width = levels * BOX_W + (levels - 1) * COL_GAP + 2
    height = rows * (BOX_H + ROW_GAP)
    title = _("Cascade of %(name)s", name=result.root.name)
    desc = _(
        "%(graduates)s graduates taught %(rollouts)s roll-out cohorts, which reached "
        "%(direct)s people directly and %(indirect)s indirectly.",
        graduates=len(result.graduates),
        rollouts=len(result.rollouts),
        direct=result.direct,
        indirect=result.indirect,
    )
    parts = [
        f'<svg class="cascade-tree" viewBox="-1 -1 {width} {height}" width="{width}" '
        f'height="{height}" role="img" '
        'aria-labelledby="cascade-title cascade-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="cascade-title">{escape(title)}</title>',
        f'<desc id="cascade-desc">{escape(desc)}</desc>',
    ]
    for node in result.nodes:
        x, y = positions[node.cohort_id]
        for child in node.children:
            cx, cy = positions[child.cohort_id]
            mid = x + BOX_W + COL_GAP / 2
            parts.append(
                f'<path class="cascade-link" d="M{x + BOX_W},{y + BOX_H / 2} H{mid} '
                f'V{cy + BOX_H / 2} H{cx}"/>'
            )
    parts += [_box(node, *positions[node.cohort_id]) for node in result.nodes]
    parts.append("</svg>")
    return Markup("".join(parts))


def _positions(root: Node) -> tuple[dict[int, tuple[float, float]], int]:
    """Where each cohort's box goes (by cohort id), each parent level with the middle of its
    children; and the number of rows."""
    positions: dict[int, tuple[float, float]] = {}
    rows = 0

    def place(node: Node) -> float:
        nonlocal rows
        if not node.children:
            y = rows * (BOX_H + ROW_GAP)
            rows += 1
        else:
            ys = [place(child) for child in node.children]
            y = (ys[0] + ys[-1]) / 2
        positions[node.cohort_id] = (node.level * (BOX_W + COL_GAP), y)
        return y

    place(root)
    return positions, rows


def _box(node: Node, x: float, y: float) -> str:
    """A cohort's box: its name, programme and figures."""
    name = node.name if len(node.name) <= 32 else node.name[:31] + "…"
    graduates = ngettext("%(num)d graduate", "%(num)d graduates", node.graduates)
    if node.level == 0:
        line = graduates
    else:
        reached = ngettext("%(num)d reached", "%(num)d reached", node.reached)
        line = f"{reached} · {graduates}"
    return (
        f'<g class="cascade-node cascade-level-{min(node.level, 3)}">'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
        f'<text class="cascade-name" x="{x + 10}" y="{y + 22}">{escape(name)}</text>'
        f'<text class="cascade-figures" x="{x + 10}" y="{y + 42}">'
        f"{escape(node.programme_code)} · {escape(line)}</text></g>"
    )
