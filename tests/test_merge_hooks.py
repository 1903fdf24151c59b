"""A merge of two people goes through named hooks: each domain moves its own rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from trainingmgr.cohorts.models import Enrolment
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people import services, signals
from trainingmgr.people.models import Person


def _receivers(signal: Any) -> set[str]:
    return {f"{r.__module__}.{r.__name__}" for r in signal.receivers_for(object())}


def test_each_domain_answers_its_part_of_a_merge() -> None:
    assert _receivers(signals.enrolment_rows_merging) == {
        "trainingmgr.attendance.hooks.merge_attendance",
        "trainingmgr.certificates.hooks.merge_certificate_enrolments",
    }
    assert _receivers(signals.enrolments_merging) == {
        "trainingmgr.enrolments.hooks.merge_enrolments"
    }
    assert _receivers(signals.person_merging) == {
        "trainingmgr.accounts.hooks.merge_account",
        "trainingmgr.certificates.hooks.merge_certificates",
        "trainingmgr.cohorts.hooks.merge_sessions_taught",
    }


def test_each_domain_answers_what_it_holds_of_the_two_records() -> None:
    """Planning a merge reads other domains' rows through their hooks too."""
    assert _receivers(signals.merge_elsewhere) == {
        "trainingmgr.cohorts.hooks.teaches_elsewhere",
        "trainingmgr.enrolments.hooks.enrolled_elsewhere",
    }
    assert _receivers(signals.person_merge_planning) == {
        "trainingmgr.accounts.hooks.plan_account",
        "trainingmgr.certificates.hooks.plan_certificates",
        "trainingmgr.cohorts.hooks.plan_sessions_taught",
        "trainingmgr.enrolments.hooks.plan_enrolments",
    }
    assert _receivers(signals.enrolment_rows_merge_planning) == {
        "trainingmgr.attendance.hooks.plan_attendance",
        "trainingmgr.certificates.hooks.plan_certificate_enrolments",
    }


def test_the_people_merge_imports_no_other_domains_models() -> None:
    import ast
    from pathlib import Path

    import trainingmgr.people.merge as module

    tree = ast.parse(Path(module.__file__).read_text())
    runtime = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert all(
        not (n.module or "").endswith(".models") or n.module == "trainingmgr.people.models"
        for n in runtime
    )


@pytest.fixture
def refusing_receiver() -> Iterator[None]:
    def refuse(plan: Any) -> None:
        raise DomainError("A receiving domain refused the merge.")

    signals.person_merging.connect(refuse)
    yield
    signals.person_merging.disconnect(refuse)


def test_a_domain_refusing_its_part_refuses_the_merge(
    client: Any, login: Any, make: Any, db_session: Any, refusing_receiver: None
) -> None:
    """The coordinator sees why, and both records stay as they were."""
    from trainingmgr.accounts.models import Role

    login(Role.ADMIN)
    keep, dup = make.person(last_name="Əliyeva"), make.person(last_name="Aliyeva")
    enrolment = make.enrolment(person=dup)

    response = client.post(
        "/people/merge", data={"keep": keep.id, "duplicate": dup.id}, follow_redirects=True
    )

    assert "A receiving domain refused the merge." in response.text
    assert db.session.get(Person, dup.id).merged_into_id is None
    assert db.session.scalar(
        sa.select(Enrolment.person_id).where(Enrolment.id == enrolment.id)
    ) == (dup.id)


def test_sessions_taught_and_the_account_move_with_the_merge(make: Any, db_session: Any) -> None:
    from trainingmgr.accounts.models import Role

    keep, dup = make.person(), make.person(email="dup@example.org")
    account = make.user(Role.TRAINER, person=dup, email="dup-account@example.org")
    session = make.session()
    session.trainers.append(dup)
    db.session.flush()

    services.merge_people(keep, dup, actor=None)
    db.session.flush()
    db.session.expire_all()

    assert [p.id for p in session.trainers] == [keep.id]
    assert account.person_id == keep.id
