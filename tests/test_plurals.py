"""Counts in words through the catalogue, for the server and for scripts."""

from __future__ import annotations

import json
from typing import Any

from trainingmgr.attendance.roster import conflicts_message
from trainingmgr.core.plurals import plural_forms


def test_a_script_gets_a_form_for_each_plural_category_of_the_language(app: Any) -> None:
    for language, categories in (
        ("en", {"one", "other"}),
        ("ru", {"one", "few", "many", "other"}),
        ("az", {"one", "other"}),
    ):
        with app.test_request_context(headers={"Accept-Language": language}):
            forms = plural_forms("{n} unsaved change.", "{n} unsaved changes.")
            assert set(forms) == categories
            assert all("{n}" in text for text in forms.values())
    with app.test_request_context(headers={"Accept-Language": "en"}):
        forms = plural_forms("{n} unsaved change.", "{n} unsaved changes.")
        assert forms == {"one": "{n} unsaved change.", "other": "{n} unsaved changes."}


def test_the_roster_carries_its_counted_messages_for_the_script(
    client: Any, login: Any, make: Any
) -> None:
    trainer = login("trainer")
    cohort = make.cohort()
    session = make.session(cohort=cohort)
    session.trainers.append(trainer.person)
    make.enrolment(cohort=cohort)

    html = client.get(f"/sessions/{session.id}/attendance").get_data(as_text=True)

    assert "change(s)" not in html
    start = html.index('data-msg-unsaved="') + len('data-msg-unsaved="')
    forms = json.loads(html[start : html.index('"', start)].replace("&#34;", '"'))
    assert forms["one"] == "{n} unsaved change." and forms["other"] == "{n} unsaved changes."


def test_a_save_with_conflicts_counts_in_words(app: Any) -> None:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert conflicts_message(0, 1) == (
            "1 change was not saved because someone else changed the same person meanwhile: "
            "see below."
        )  # no "Saved 0 change(s)"
        assert conflicts_message(3, 2).startswith("Saved 3 changes. 2 changes were not saved")
