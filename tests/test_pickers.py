"""Searchable checkbox pickers (issue 19): the trainers of a session and the required modules
of a cohort are lists of checkboxes, not Ctrl-click multi-selects, and the trainers most
likely to be chosen come first."""

from __future__ import annotations

import re
from typing import Any

from trainingmgr.accounts.models import Role
from trainingmgr.cohorts import listing


def _checkbox_labels(page: str, name: str) -> list[str]:
    pattern = (
        rf'<input class="form-check-input" type="checkbox" name="{name}" value="\d+" id="([^"]+)"'
    )
    ids = re.findall(pattern, page)
    return [
        re.search(rf'<label class="form-check-label" for="{i}">([^<]*)</label>', page)[1]
        for i in ids
    ]


def test_this_programmes_trainers_come_first_then_other_trainers_then_everyone_else(
    db_session: Any, make: Any
) -> None:
    cohort = make.cohort()
    elsewhere = make.session()  # another programme's session
    own = make.person(first_name="Nigar", last_name="Quliyeva")
    other = make.person(first_name="Anouk", last_name="de Vries")
    somebody = make.person(first_name="Иван", last_name="Петров")
    own_session = make.session(cohort=cohort)
    own_session.trainers.append(own)
    elsewhere.trainers.append(other)
    db_session.flush()

    groups = listing.trainer_choices(None, programme_id=cohort.programme_id)

    names = {group: [label for _id, label, _search in rows] for group, rows in groups.items()}
    assert list(names) == ["Trainers of this programme", "Other trainers", "Other people"]
    assert [n.split(" (")[0] for n in names["Trainers of this programme"]] == ["Nigar Quliyeva"]
    assert [n.split(" (")[0] for n in names["Other trainers"]] == ["Anouk de Vries"]
    assert somebody.full_name in [n.split(" (")[0] for n in names["Other people"]]


def test_the_session_form_offers_trainers_as_checkboxes_and_keeps_the_ticks(
    client: Any, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort(timezone="Asia/Baku")
    trainer = make.person(first_name="İlkin", last_name="Xudiyev")
    taught = make.session(cohort=cohort)
    taught.trainers.append(trainer)
    page = client.get(f"/cohorts/{cohort.id}/sessions/new").get_data(as_text=True)
    assert "<select multiple" not in page and 'name="trainer_ids" multiple' not in page
    assert "Trainers of this programme" in page
    assert any(label.startswith("İlkin Xudiyev") for label in _checkbox_labels(page, "trainer_ids"))
    # Sent back with an error, the ticked trainer stays ticked.
    page = client.post(
        f"/cohorts/{cohort.id}/sessions/new",
        data={
            "day": "",
            "start_time": "09:00",
            "end_time": "12:00",
            "mode": "in_person",
            "trainer_ids": [str(trainer.id)],
        },
    ).get_data(as_text=True)
    assert "Enter the date of the session." in page
    assert re.search(rf'name="trainer_ids" value="{trainer.id}" id="[^"]+" checked', page)


def test_the_cohort_form_offers_required_modules_as_checkboxes(
    client: Any, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    cohort = make.cohort()
    make.module(cohort.programme, code="MIL-01", title="International migration law")
    page = client.get(f"/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert "Hold Ctrl" not in page
    assert _checkbox_labels(page, "required_module_ids") == ["MIL-01 — International migration law"]
