"""What the changes for 100,000 people (issue 16) look like to a user: capped counts in the
directory, filter menus that follow new data despite their cache, the roster's plain inputs
still validated, and the coordinator's scope unchanged by the set-based rule."""

from __future__ import annotations

from typing import Any

import pytest

from trainingmgr.accounts.models import Role
from trainingmgr.core.scope import people_outside_scope
from trainingmgr.people import services


def test_directory_counts_up_to_the_limit_then_says_more(
    client: Any, login: Any, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "DIRECTORY_COUNT_LIMIT", 3)
    login(Role.ADMIN)
    for i in range(6):
        make.person(first_name=f"Capped{i}", last_name="Counted")
    page = client.get("/people/?per_page=2").get_data(as_text=True)
    assert "Showing 1–2 of more than 3" in page
    assert 'rel="next"' in page
    # the last page still shows who is there, and then the exact count is known
    last = client.get("/people/?per_page=2&page=3").get_data(as_text=True)
    assert "Showing 5–6 of 6" in last or "Showing 5–6 of more than" in last


def test_small_directory_keeps_exact_count(client: Any, login: Any, make: Any) -> None:
    login(Role.ADMIN)
    make.person(first_name="Only", last_name="One")
    page = client.get("/people/?q=only").get_data(as_text=True)
    assert "Showing 1–1 of 1" in page and "more than" not in page


def test_filter_menus_show_a_new_organisation_at_once(client: Any, login: Any, make: Any) -> None:
    login(Role.ADMIN)
    make.person(organisation="First Ministry")
    assert "First Ministry" in client.get("/people/").get_data(as_text=True)
    make.person(organisation="Brand New Agency")  # written after the menus were cached
    assert "Brand New Agency" in client.get("/people/").get_data(as_text=True)


def test_scope_rule_still_reaches_enrolled_teaching_and_unenrolled_people(
    make: Any, db_session: Any
) -> None:
    mine, other = make.programme(), make.programme()
    coordinator = make.user(roles=[Role.COORDINATOR], programmes=[mine])
    my_cohort, other_cohort = make.cohort(programme=mine), make.cohort(programme=other)
    enrolled, elsewhere, nowhere, trainer = (make.person() for _ in range(4))
    make.enrolment(cohort=my_cohort, person=enrolled)
    make.enrolment(cohort=other_cohort, person=elsewhere)
    session = make.session(cohort=my_cohort)
    session.trainers.append(trainer)
    merged = make.person(merged_into_id=enrolled.id)
    merged_away = make.person(merged_into_id=elsewhere.id)
    db_session.flush()
    ids = [p.id for p in (enrolled, elsewhere, nowhere, trainer, merged, merged_away)]
    assert people_outside_scope(ids, coordinator) == {elsewhere.id, merged_away.id}
