"""Programmes, partners and funders, and curricula: the rules (services) and the screens."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import (
    DeliveryMode,
    EnrolmentStatus,
    SessionStatus,
    cohort_required_modules,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.programmes import services
from trainingmgr.programmes.models import (
    Module,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
    ProgrammeStatus,
)
from trainingmgr.programmes.services import ModuleInput, PartnerInput, ProgrammeInput

MISSING = 987_654_321


def programme_input(**kw: Any) -> ProgrammeInput:
    kw.setdefault("code", "MMDP-2026")
    kw.setdefault("title", "Migration Management Diploma Programme")
    kw.setdefault("kind", ProgrammeKind.DIPLOMA)
    return ProgrammeInput(**kw)


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def refused(call: Any, field: str | None = None) -> DomainError:
    """Run ``call``; assert it raised a DomainError (on ``field``); return the error."""
    with pytest.raises(DomainError) as info:
        call()
    assert info.value.field == field, info.value.message
    return info.value


# =======================================================================================
# Programmes: rules


def test_create_programme_normalises_and_audits(db_session: Any, make: Any) -> None:
    actor = make.user()
    programme = services.create_programme(
        programme_input(
            code=" mmdp-2026 ",
            budget=Decimal("1319151.36"),
            currency="eur",
            target_countries="az, Georgia; Турция\nAZE, Russia, türkiye",
            start_date=date(2026, 1, 12),
            end_date=date(2026, 4, 10),
            default_min_hours=Decimal("120"),
        ),
        actor=actor,
    )
    assert programme.code == "MMDP-2026"
    assert programme.currency == "EUR"
    assert programme.target_countries == "AZ,GE,TR,RU"
    assert programme.status == ProgrammeStatus.ACTIVE
    (event,) = events("programme.create")
    assert event.actor_id == actor.id
    assert event.programme_id == programme.id
    assert event.changes["code"] == [None, "MMDP-2026"]
    assert event.changes["budget"] == [None, "1319151.36"]


@pytest.mark.parametrize("code", ["MMDP 2026", "MM_DP", "-MMDP", "MMDP-", "A--B", "MMDP/1", "ÇAĞ"])
def test_programme_code_format(db_session: Any, code: str) -> None:
    error = refused(
        lambda: services.create_programme(programme_input(code=code), actor=None), "code"
    )
    assert "letters A-Z, digits and single dashes" in error.message


def test_programme_code_required_and_short(db_session: Any) -> None:
    refused(lambda: services.create_programme(programme_input(code="  "), actor=None), "code")
    error = refused(
        lambda: services.create_programme(programme_input(code="A" * 21), actor=None), "code"
    )
    assert "at most 20 characters" in error.message


def test_programme_code_is_unique_whatever_the_case(db_session: Any, make: Any) -> None:
    existing = make.programme(code="MMDP")
    error = refused(
        lambda: services.create_programme(programme_input(code="mmdp"), actor=None), "code"
    )
    assert "already uses the code MMDP" in error.message
    # Keeping its own code is fine.
    services.update_programme(existing, programme_input(code="MMDP", title="Renamed"), actor=None)
    assert existing.title == "Renamed"


def test_programme_dates_in_order(db_session: Any) -> None:
    error = refused(
        lambda: services.create_programme(
            programme_input(start_date=date(2026, 5, 1), end_date=date(2026, 4, 30)), actor=None
        ),
        "end_date",
    )
    assert "before the start date" in error.message
    one_day = services.create_programme(
        programme_input(start_date=date(2026, 5, 1), end_date=date(2026, 5, 1)), actor=None
    )
    assert one_day.end_date == one_day.start_date


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"budget": Decimal("-1"), "currency": "EUR"}, "budget"),
        ({"budget": Decimal("NaN"), "currency": "EUR"}, "budget"),
        ({"budget": Decimal("1e15"), "currency": "EUR"}, "budget"),
        ({"budget": Decimal("10.001"), "currency": "EUR"}, "budget"),
        ({"budget": Decimal("10")}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "ABC"}, "currency"),
        ({"default_min_attendance_pct": 101}, "default_min_attendance_pct"),
        ({"default_min_attendance_pct": -1}, "default_min_attendance_pct"),
        ({"default_min_hours": Decimal("-0.5")}, "default_min_hours"),
        ({"title": " "}, "title"),
        ({"kind": "seminar"}, "kind"),
    ],
)
def test_programme_values_are_checked(db_session: Any, kw: dict[str, Any], field: str) -> None:
    refused(lambda: services.create_programme(programme_input(**kw), actor=None), field)
    assert db_session.scalar(sa.select(sa.func.count(Programme.id))) == 0


def test_currency_must_be_iso_4217(db_session: Any) -> None:
    error = refused(
        lambda: services.create_programme(
            programme_input(budget=Decimal("5"), currency="XYZ"), actor=None
        ),
        "currency",
    )
    assert "ISO 4217" in error.message and "XYZ" in error.message
    programme = services.create_programme(programme_input(budget=0, currency="azn"), actor=None)
    assert (programme.budget, programme.currency) == (0, "AZN")


def test_countries_normalised_from_codes_and_names() -> None:
    assert services.normalise_countries("gm, The Gambia, Gambia") == ["GM"]
    assert services.normalise_countries(["Azərbaycan", "Грузия", "UK", "Turkey"]) == [
        "AZ",
        "GE",
        "GB",
        "TR",
    ]
    assert services.normalise_countries(" , ;") == []


def test_unknown_country_is_named(db_session: Any) -> None:
    error = refused(
        lambda: services.create_programme(
            programme_input(target_countries="AZ, Atlantis, QQ"), actor=None
        ),
        "target_countries",
    )
    assert "Atlantis, QQ" in error.message


def test_update_programme_audits_only_what_changed(db_session: Any, make: Any) -> None:
    actor = make.user()
    programme = services.create_programme(programme_input(target_countries="AZ"), actor=actor)
    services.update_programme(
        programme, programme_input(title="MMDP", target_countries="AZ, GE"), actor=actor
    )
    (event,) = events("programme.update")
    assert event.changes == {
        "title": ["Migration Management Diploma Programme", "MMDP"],
        "target_countries": ["AZ", "AZ,GE"],
    }
    services.update_programme(
        programme, programme_input(title="MMDP", target_countries="az,ge"), actor=actor
    )
    assert len(events("programme.update")) == 1


def test_archive_and_unarchive(db_session: Any, make: Any) -> None:
    actor = make.user()
    programme = make.programme()
    services.set_archived(programme, True, actor=actor)
    assert programme.status == ProgrammeStatus.ARCHIVED
    assert (
        "already archived"
        in refused(lambda: services.set_archived(programme, True, actor=actor)).message
    )
    services.set_archived(programme, False, actor=actor)
    assert programme.status == ProgrammeStatus.ACTIVE
    archived, unarchived = events("programme.archive"), events("programme.unarchive")
    assert archived[0].changes == {"status": ["active", "archived"]}
    assert unarchived[0].changes == {"status": ["archived", "active"]}


def test_programme_with_cohorts_cannot_be_deleted(db_session: Any, make: Any) -> None:
    programme = make.programme(code="RTCM")
    make.cohort(programme)
    error = refused(lambda: services.delete_programme(programme, actor=None))
    assert "RTCM has 1 cohort," in error.message and "Archive" in error.message
    assert db_session.get(Programme, programme.id) is not None
    assert events("programme.delete") == []


def test_programme_without_cohorts_is_deleted_with_its_curriculum(
    db_session: Any, make: Any
) -> None:
    actor = make.user()
    programme = make.programme(code="GONE")
    module = make.module(programme)
    partner = services.add_partner(programme, PartnerInput("UNU-MERIT"), actor=actor)
    ids = (programme.id, module.id, partner.id)
    services.delete_programme(programme, actor=actor)
    assert db_session.get(Programme, ids[0]) is None
    assert db_session.get(Module, ids[1]) is None
    assert db_session.get(ProgrammePartner, ids[2]) is None
    (event,) = events("programme.delete")
    assert (event.object_id, event.changes["code"]) == (ids[0], ["GONE", None])


# =======================================================================================
# Partners and funders: rules


def test_funding_shares_may_not_exceed_100(db_session: Any, make: Any) -> None:
    programme = make.programme()
    eu = services.add_partner(
        programme, PartnerInput("EU AMIF", "funder", Decimal("94.91")), actor=None
    )
    services.add_partner(programme, PartnerInput("ICMPD", "funder", Decimal("5.09")), actor=None)
    error = refused(
        lambda: services.add_partner(
            programme, PartnerInput("Donor", "funder", Decimal("0.01")), actor=None
        ),
        "funding_share",
    )
    assert "100.01%" in error.message
    # Editing a funder counts its new share, not its old one.
    error = refused(
        lambda: services.update_partner(
            eu, PartnerInput("EU AMIF", "funder", Decimal(95)), actor=None
        ),
        "funding_share",
    )
    assert "100.09%" in error.message and "at most 94.91%" in error.message
    services.update_partner(eu, PartnerInput("EU AMIF", "funder", Decimal("90")), actor=None)
    assert eu.funding_share == Decimal("90")
    # A funder without a stated share is fine.
    services.add_partner(programme, PartnerInput("Anonymous donor", "funder"), actor=None)


@pytest.mark.parametrize("share", [Decimal("0"), Decimal("-5"), Decimal("100.5"), Decimal("1.234")])
def test_funding_share_range(db_session: Any, make: Any, share: Decimal) -> None:
    programme = make.programme()
    refused(
        lambda: services.add_partner(programme, PartnerInput("EU", "funder", share), actor=None),
        "funding_share",
    )


def test_partner_rules(db_session: Any, make: Any) -> None:
    programme = make.programme()
    error = refused(
        lambda: services.add_partner(
            programme, PartnerInput("UNU", "partner", Decimal(10)), actor=None
        ),
        "funding_share",
    )
    assert "Only funders" in error.message
    refused(lambda: services.add_partner(programme, PartnerInput(" "), actor=None), "name")
    services.add_partner(programme, PartnerInput("Maastricht University"), actor=None)
    error = refused(
        lambda: services.add_partner(programme, PartnerInput("maastricht university"), actor=None),
        "name",
    )
    assert "already listed" in error.message
    # The same organisation may be a partner and a funder.
    services.add_partner(programme, PartnerInput("Maastricht University", "funder"), actor=None)


def test_partners_are_ordered_and_audited(db_session: Any, make: Any) -> None:
    actor = make.user()
    programme = make.programme()
    a, b, c = (services.add_partner(programme, PartnerInput(n), actor=actor) for n in "ABC")
    assert [p.position for p in (a, b, c)] == [0, 1, 2]
    services.move_partner(c, "up", actor=actor)
    assert [p.name for p in sorted(programme.partners, key=lambda p: p.position)] == list("ACB")
    services.move_partner(a, "up", actor=actor)  # already first: nothing happens
    services.delete_partner(a, actor=actor)
    assert sorted((p.position, p.name) for p in programme.partners) == [(0, "C"), (1, "B")]
    assert len(events("programme.partner_add")) == 3
    assert [e.changes for e in events("programme.partner_move")] == [{"position": [2, 1]}]
    (removed,) = events("programme.partner_remove")
    assert removed.changes["name"] == ["A", None]


# =======================================================================================
# Curriculum modules: rules


def test_module_code_unique_within_programme(db_session: Any, make: Any) -> None:
    programme, other = make.programme(code="MMDP"), make.programme()
    services.add_module(programme, ModuleInput("IML", "International migration law"), actor=None)
    error = refused(
        lambda: services.add_module(programme, ModuleInput("iml", "Again"), actor=None), "code"
    )
    assert "Another module of MMDP already uses the code IML" in error.message
    services.add_module(other, ModuleInput("IML", "Same code elsewhere"), actor=None)
    refused(lambda: services.add_module(programme, ModuleInput("I M L", "Bad"), actor=None), "code")


def test_module_hours(db_session: Any, make: Any) -> None:
    programme = make.programme()
    refused(
        lambda: services.add_module(
            programme, ModuleInput("A", "A", hours=Decimal(-1)), actor=None
        ),
        "hours",
    )
    refused(
        lambda: services.add_module(
            programme, ModuleInput("A", "A", hours=Decimal(10**5)), actor=None
        ),
        "hours",
    )
    module = services.add_module(programme, ModuleInput("A", "A", hours=None), actor=None)
    assert module.hours == 0


def test_update_module_audits_changes(db_session: Any, make: Any) -> None:
    module = make.module(code="GCM", title="Global Compact", hours=Decimal("3"))
    services.update_module(
        module,
        ModuleInput("GCM", "Global Compact for Migration", hours=Decimal("3.00")),
        actor=None,
    )
    (event,) = events("module.update")
    assert event.changes == {"title": ["Global Compact", "Global Compact for Migration"]}


def test_modules_reorder_with_contiguous_positions(db_session: Any, make: Any) -> None:
    programme = make.programme()
    # Modules made elsewhere may all sit at position 0: moving still works.
    a, b, c = (make.module(programme, code=code) for code in "ABC")
    d = services.add_module(programme, ModuleInput("D", "D"), actor=None)
    assert d.position == 3

    def order() -> list[str]:
        return [m.code for m in services.curriculum(programme.id)]

    services.move_module(a, "down", actor=None)
    assert order() == ["B", "A", "C", "D"]
    services.move_module(d, "up", actor=None)
    assert order() == ["B", "A", "D", "C"]
    services.move_module(c, "down", actor=None)  # already last
    assert order() == ["B", "A", "D", "C"]
    services.delete_module(a, actor=None)
    assert [(m.code, m.position) for m in services.curriculum(programme.id)] == [
        ("B", 0),
        ("D", 1),
        ("C", 2),
    ]
    refused(lambda: services.move_module(b, "sideways", actor=None))
    assert [e.changes for e in events("module.move")] == [
        {"position": [0, 1]},
        {"position": [3, 2]},
    ]


def test_retire_and_unretire(db_session: Any, make: Any) -> None:
    module = make.module()
    services.set_retired(module, True, actor=None)
    assert module.retired
    refused(lambda: services.set_retired(module, True, actor=None))
    services.set_retired(module, False, actor=None)
    assert not module.retired
    assert events("module.retire")[0].changes == {"retired": [False, True]}
    assert events("module.unretire")[0].changes == {"retired": [True, False]}


def test_module_used_by_a_session_cannot_be_deleted(db_session: Any, make: Any) -> None:
    programme = make.programme()
    module = make.module(programme, code="SMUG")
    make.session(make.cohort(programme), module=module)
    error = refused(lambda: services.delete_module(module, actor=None))
    assert "SMUG is used by 1 session," in error.message and "Retire" in error.message
    assert db_session.get(Module, module.id) is not None
    services.set_retired(module, True, actor=None)  # retiring is the way out


def test_module_required_by_a_cohort_cannot_be_deleted(db_session: Any, make: Any) -> None:
    programme = make.programme()
    module = make.module(programme, code="REQ")
    cohort = make.cohort(programme)
    db_session.execute(
        sa.insert(cohort_required_modules).values(cohort_id=cohort.id, module_id=module.id)
    )
    error = refused(lambda: services.delete_module(module, actor=None))
    assert "required by 1 cohort," in error.message


def test_unused_module_is_deleted_and_audited(db_session: Any, make: Any) -> None:
    actor = make.user()
    module = make.module(code="OLD")
    module_id, programme_id = module.id, module.programme_id
    services.delete_module(module, actor=actor)
    assert db_session.get(Module, module_id) is None
    (event,) = events("module.delete")
    assert (event.object_id, event.programme_id, event.actor_id) == (
        module_id,
        programme_id,
        actor.id,
    )


# =======================================================================================
# Lists and the programme page: what they count


def test_overview_counts(db_session: Any, make: Any) -> None:
    programme = make.programme()
    m1 = make.module(programme, hours=Decimal("6"))
    make.module(programme, hours=Decimal("4.5"))
    make.module(programme, hours=Decimal("10"), retired=True)
    c1, c2 = make.cohort(programme), make.cohort(programme)
    shared = make.person()
    make.enrolment(c1, shared)
    make.enrolment(c2, shared)
    make.enrolment(c1)
    make.enrolment(c1, status=EnrolmentStatus.WITHDRAWN)
    make.session(c1, module=m1)
    make.session(c2)
    make.session(c2, status=SessionStatus.CANCELLED)
    overview = services.programme_overview(programme.id)
    assert overview is not None
    assert len(overview.cohorts) == 2
    assert overview.participants == 2  # distinct people, withdrawn not counted
    assert overview.sessions == 2  # cancelled not counted
    assert overview.curriculum_hours == Decimal("10.5")  # retired not counted
    assert [r.enrolled for r in overview.cohorts] == [2, 1]
    assert [r.deletable for r in overview.modules] == [False, True, True]
    assert services.programme_overview(MISSING) is None


def test_list_programmes_filters_by_status(db_session: Any, make: Any) -> None:
    active = make.programme(code="A1")
    archived = make.programme(code="A2", status=ProgrammeStatus.ARCHIVED)
    make.module(active)
    make.module(active, retired=True)
    make.enrolment(make.cohort(active))
    (row,) = services.list_programmes()
    assert (row.programme, row.cohorts, row.modules, row.participants) == (active, 1, 1, 1)
    assert [r.programme for r in services.list_programmes(ProgrammeStatus.ARCHIVED)] == [archived]
    assert len(services.list_programmes(None)) == 2


# =======================================================================================
# Screens


def error_of(html: str, field: str) -> str:
    """The message shown next to ``field`` (empty when there is none)."""
    found = re.search(rf'id="{field}-error"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


FORM = {
    "code": "mmdp",
    "title": "Migration Management Diploma Programme",
    "kind": "diploma",
    "description": "Three months in Maastricht.",
    "start_date": "2026-01-12",
    "end_date": "2026-04-10",
    "budget": "1,319,151.36",
    "currency": "eur",
    "target_countries": "AZ, Georgia, Türkiye",
    "target_regions": "South Caucasus",
    "default_min_attendance_pct": "80",
    "default_min_hours": "",
    "default_certificate_language": "en",
}


def test_create_programme_page(client: FlaskClient, login: Any, db_session: Any) -> None:
    login(Role.COORDINATOR)
    assert client.get("/programmes/new").status_code == 200
    response = client.post("/programmes/new", data=FORM)
    programme = db_session.scalar(sa.select(Programme).where(Programme.code == "MMDP"))
    assert programme is not None
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/programmes/{programme.id}")
    assert programme.budget == Decimal("1319151.36")
    assert programme.target_countries == "AZ,GE,TR"
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "€1,319,151.36" in page
    assert "Azerbaijan" in page and "Georgia" in page
    assert "Programme created" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_date": "2026-01-01"}, "end_date", "before the start date"),
        ({"code": "MM DP"}, "code", "letters A-Z"),
        ({"currency": "EUX"}, "currency", "ISO 4217"),
        ({"target_countries": "Narnia"}, "target_countries", "Unknown country: Narnia"),
        ({"budget": "lots"}, "budget", "Enter an amount"),
        ({"title": ""}, "title", "Enter a title"),
        ({"default_min_attendance_pct": "120"}, "default_min_attendance_pct", "0 to 100"),
    ],
)
def test_bad_programme_input_writes_nothing(
    client: FlaskClient,
    login: Any,
    db_session: Any,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    login(Role.COORDINATOR)
    response = client.post("/programmes/new", data={**FORM, **changes})
    assert response.status_code == 200
    assert message in error_of(response.get_data(as_text=True), field)
    assert db_session.scalar(sa.select(sa.func.count(Programme.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == 0


def test_duplicate_code_shown_next_to_the_field(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    make.programme(code="MMDP")
    login(Role.COORDINATOR)
    response = client.post("/programmes/new", data=FORM)
    assert "already uses the code MMDP" in error_of(response.get_data(as_text=True), "code")
    assert db_session.scalar(sa.select(sa.func.count(Programme.id))) == 1


def test_edit_programme_page(client: FlaskClient, login: Any, db_session: Any, make: Any) -> None:
    programme = make.programme(code="RTCM", target_countries="AZ,GE")
    login(Role.ADMIN)
    form = client.get(f"/programmes/{programme.id}/edit").get_data(as_text=True)
    assert 'value="AZ, GE"' in form
    response = client.post(
        f"/programmes/{programme.id}/edit",
        data={**FORM, "code": "RTCM", "title": "Regional Training Centre on Migration"},
    )
    assert response.status_code == 302
    db_session.refresh(programme)
    assert programme.title == "Regional Training Centre on Migration"
    assert events("programme.update")[0].changes["title"][1] == programme.title
    # A refused edit keeps the stored programme as it was.
    response = client.post(
        f"/programmes/{programme.id}/edit", data={**FORM, "code": "RTCM", "budget": "-4"}
    )
    assert "Enter a budget of 0 or more" in error_of(response.get_data(as_text=True), "budget")
    db_session.refresh(programme)
    assert programme.budget == Decimal("1319151.36")


def test_programme_page_shows_everything(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    programme = make.programme(code="MMDP", budget=Decimal("1000"), currency="AZN")
    services.add_partner(programme, PartnerInput("EU AMIF", "funder", Decimal("94.91")), actor=None)
    services.add_partner(programme, PartnerInput("UNU-MERIT"), actor=None)
    make.module(programme, code="OLD", retired=True)
    make.module(programme, code="IML", title="International migration law")
    cohort = make.cohort(
        programme, name="MMDP 2026", city="Maastricht", delivery_mode=DeliveryMode.IN_PERSON
    )
    make.cohort(programme, name="Online run", delivery_mode=DeliveryMode.ONLINE)
    make.enrolment(cohort)
    login(Role.COORDINATOR)
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert "AZN" in page and "1,000.00" in page
    assert "EU AMIF" in page and "94.91" in page and "UNU-MERIT" in page
    retired_row = re.search(
        r'<tr class="table-secondary" data-testid="module-OLD">(.*?)</tr>', page, re.S
    )
    assert retired_row and "Retired" in retired_row.group(1)
    assert "International migration law" in page
    assert "Maastricht" in page and "Online" in page
    assert 'data-testid="count-participants">1<' in page
    # A programme with cohorts offers no delete button.
    assert 'data-testid="delete-programme"' not in page


def test_archive_unarchive_and_filters(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    programme = make.programme(code="ARCH", title="To be archived")
    login(Role.COORDINATOR)
    response = client.post(f"/programmes/{programme.id}/archive")
    assert response.status_code == 302
    said = client.get(response.location).get_data(as_text=True)
    assert "ARCH is archived. It no longer appears among the active programmes." in said
    db_session.refresh(programme)
    assert programme.status == ProgrammeStatus.ARCHIVED
    assert "To be archived" not in client.get("/programmes/").get_data(as_text=True)
    assert "To be archived" in client.get("/programmes/?status=archived").get_data(as_text=True)
    assert "To be archived" in client.get("/programmes/?status=all").get_data(as_text=True)
    response = client.post(f"/programmes/{programme.id}/unarchive", follow_redirects=True)
    assert "ARCH is active again." in response.get_data(as_text=True)
    db_session.refresh(programme)
    assert programme.status == ProgrammeStatus.ACTIVE
    # In the coordinator's language, with the programme's code in it.
    russian = {"Accept-Language": "ru"}
    response = client.post(
        f"/programmes/{programme.id}/archive", headers=russian, follow_redirects=True
    )
    assert "ARCH перенесена в архив" in response.get_data(as_text=True)
    assert [e.action for e in db_session.scalars(sa.select(AuditEvent))] == [
        "programme.archive",
        "programme.unarchive",
        "programme.archive",
    ]


def test_delete_programme_page(client: FlaskClient, login: Any, db_session: Any, make: Any) -> None:
    kept, gone = make.programme(code="KEPT"), make.programme(code="GONE")
    make.cohort(kept)
    login(Role.COORDINATOR)
    response = client.post(f"/programmes/{kept.id}/delete", follow_redirects=True)
    assert "cannot be deleted" in response.get_data(as_text=True)
    assert db_session.get(Programme, kept.id) is not None
    response = client.post(f"/programmes/{gone.id}/delete")
    assert response.headers["Location"].endswith("/programmes/")
    assert db_session.get(Programme, gone.id) is None


def test_partner_pages(client: FlaskClient, login: Any, db_session: Any, make: Any) -> None:
    programme = make.programme()
    services.add_partner(programme, PartnerInput("EU", "funder", Decimal("80")), actor=None)
    login(Role.COORDINATOR)
    base = f"/programmes/{programme.id}/partners"
    assert client.get(f"{base}/new").status_code == 200
    response = client.post(
        f"{base}/new", data={"name": "Donor", "role": "funder", "funding_share": "25"}
    )
    assert "would total 105.00%" in error_of(response.get_data(as_text=True), "funding_share")
    assert len(programme.partners) == 1
    response = client.post(
        f"{base}/new", data={"name": "Donor", "role": "funder", "funding_share": "20"}
    )
    assert response.status_code == 302
    donor = db_session.scalar(sa.select(ProgrammePartner).where(ProgrammePartner.name == "Donor"))
    assert client.get(f"{base}/{donor.id}/edit").status_code == 200
    client.post(
        f"{base}/{donor.id}/edit",
        data={"name": "Donor fund", "role": "funder", "funding_share": "15"},
    )
    client.post(f"{base}/{donor.id}/move", data={"direction": "up"})
    db_session.refresh(donor)
    assert (donor.name, donor.funding_share, donor.position) == ("Donor fund", 15, 0)
    page = client.get(f"/programmes/{programme.id}").get_data(as_text=True)
    assert 'data-testid="funded-share">95' in page
    client.post(f"{base}/{donor.id}/delete")
    assert db_session.get(ProgrammePartner, donor.id) is None


def test_module_pages(client: FlaskClient, login: Any, db_session: Any, make: Any) -> None:
    programme = make.programme()
    login(Role.COORDINATOR)
    base = f"/programmes/{programme.id}/modules"
    assert client.get(f"{base}/new").status_code == 200
    data = {"code": "iml", "title": "International migration law", "hours": "6"}
    response = client.post(f"{base}/new", data={**data, "next": "another"})
    assert response.headers["Location"].endswith(f"{base}/new")
    response = client.post(f"{base}/new", data={**data, "title": "Twice"})
    assert "already uses the code IML" in error_of(response.get_data(as_text=True), "code")
    response = client.post(f"{base}/new", data={"code": "GCM", "title": "GCM", "hours": "-2"})
    assert "from 0 to" in error_of(response.get_data(as_text=True), "hours")
    client.post(f"{base}/new", data={"code": "GCM", "title": "Global Compact", "hours": "3"})
    iml, gcm = services.curriculum(programme.id)
    assert (iml.code, gcm.code) == ("IML", "GCM")
    client.post(f"{base}/{gcm.id}/move", data={"direction": "up"})
    assert [m.code for m in services.curriculum(programme.id)] == ["GCM", "IML"]
    client.post(f"{base}/{iml.id}/edit", data={"code": "IML", "title": "Law", "hours": "7.5"})
    db_session.refresh(iml)
    assert (iml.title, iml.hours) == ("Law", Decimal("7.5"))
    make.session(make.cohort(programme), module=iml)
    response = client.post(f"{base}/{iml.id}/delete", follow_redirects=True)
    assert "is used by 1 session," in response.get_data(as_text=True)
    assert db_session.get(Module, iml.id) is not None
    response = client.post(f"{base}/{iml.id}/retire", follow_redirects=True)
    said = response.get_data(as_text=True)
    assert "IML is retired: it stays on past sessions and is offered no more." in said
    db_session.refresh(iml)
    assert iml.retired
    response = client.post(f"{base}/{iml.id}/unretire", follow_redirects=True)
    assert "IML is back in the curriculum." in response.get_data(as_text=True)
    db_session.refresh(iml)
    assert not iml.retired
    client.post(f"{base}/{gcm.id}/delete")
    assert db_session.get(Module, gcm.id) is None


# =======================================================================================
# Access: every route, every role; unknown objects


def routes(make: Any) -> list[tuple[str, str]]:
    programme = make.programme()
    partner = services.add_partner(programme, PartnerInput("UNU"), actor=None)
    module = make.module(programme)
    p, pp, m = (
        programme.id,
        f"{programme.id}/partners/{partner.id}",
        f"{programme.id}/modules/{module.id}",
    )
    return [
        ("GET", "/programmes/"),
        ("GET", "/programmes/new"),
        ("POST", "/programmes/new"),
        ("GET", f"/programmes/{p}"),
        ("GET", f"/programmes/{p}/edit"),
        ("POST", f"/programmes/{p}/edit"),
        ("POST", f"/programmes/{p}/archive"),
        ("POST", f"/programmes/{p}/unarchive"),
        ("POST", f"/programmes/{p}/delete"),
        ("GET", f"/programmes/{p}/partners/new"),
        ("POST", f"/programmes/{p}/partners/new"),
        ("GET", f"/programmes/{pp}/edit"),
        ("POST", f"/programmes/{pp}/edit"),
        ("POST", f"/programmes/{pp}/move"),
        ("POST", f"/programmes/{pp}/delete"),
        ("GET", f"/programmes/{pp}/logo/abc"),
        ("GET", f"/programmes/{p}/modules/new"),
        ("POST", f"/programmes/{p}/modules/new"),
        ("GET", f"/programmes/{m}/edit"),
        ("POST", f"/programmes/{m}/edit"),
        ("POST", f"/programmes/{m}/move"),
        ("POST", f"/programmes/{m}/retire"),
        ("POST", f"/programmes/{m}/unretire"),
        ("POST", f"/programmes/{m}/delete"),
    ]


def test_every_route_is_listed(app: Any) -> None:
    endpoints = {
        r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("programmes.")
    }
    # index, create, detail, edit, archiving (archive and unarchive), delete, 5 for partners
    # (new, edit, move, delete, logo), 5 for modules (retirement: retire and unretire)
    assert len(endpoints) == 16


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_get_403_everywhere(
    client: FlaskClient, login: Any, db_session: Any, make: Any, role: Role
) -> None:
    login(role)
    urls = routes(make)
    before = db_session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    for method, url in urls:
        response = client.open(url, method=method, data={"code": "X", "title": "X"})
        assert response.status_code == 403, f"{method} {url}"
    assert db_session.scalar(sa.select(sa.func.count(AuditEvent.id))) == before


def test_signed_out_users_are_sent_to_sign_in(
    client: FlaskClient, db_session: Any, make: Any
) -> None:
    for method, url in routes(make):
        response = client.open(url, method=method)
        assert response.status_code == 302, f"{method} {url}"
        assert response.headers["Location"].startswith("/login")


def test_unknown_objects_are_404(
    client: FlaskClient, login: Any, db_session: Any, make: Any
) -> None:
    other = make.programme()
    login(Role.COORDINATOR)
    for method, url in routes(make):
        if url.count("/") < 3:
            continue  # no id in the URL
        parts = url.split("/")
        # An unknown programme, and (for partners and modules) an unknown row or one of
        # another programme.
        variants = [re.sub(r"^/programmes/\d+", f"/programmes/{MISSING}", url)]
        if len(parts) > 4 and parts[4].isdigit():
            variants.append("/".join([*parts[:4], str(MISSING), *parts[5:]]))
            variants.append("/".join([parts[0], parts[1], str(other.id), *parts[3:]]))
        for bad in variants:
            response = client.open(bad, method=method, data={"direction": "up"})
            assert response.status_code == 404, f"{method} {bad}"


# =======================================================================================
# Bounded queries


def _fill(make: Any, programme: Programme, start: int, stop: int) -> None:
    for i in range(start, stop):
        module = make.module(programme, code=f"M{i}")
        cohort = make.cohort(programme, name=f"C{i}", city="Baku")
        make.enrolment(cohort)
        make.session(cohort, module=module)


def _count_get(client: FlaskClient, count_queries: Any, url: str) -> int:
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200
    return q.count


def test_pages_run_a_fixed_number_of_queries(
    client: FlaskClient, login: Any, db_session: Any, make: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    programme = make.programme(code="BIG")
    services.add_partner(programme, PartnerInput("EU", "funder", Decimal("50")), actor=None)
    services.add_partner(programme, PartnerInput("UNU-MERIT"), actor=None)
    counts = {}
    done = 0
    for n in (3, 40):
        for _ in range(done, n):
            _fill(make, make.programme(), 0, 1)
        _fill(make, programme, done, n)
        done = n
        db_session.expire_all()
        counts[n] = (
            _count_get(client, count_queries, "/programmes/?status=all"),
            _count_get(client, count_queries, f"/programmes/{programme.id}"),
        )
    assert counts[3] == counts[40], counts
    # 9: the certificate signatories (one query); 10: the organisation name in the footer
    assert max(counts[40]) <= 10, counts


@pytest.mark.parametrize(
    ("language", "budget", "hours"),
    [("ru", "1 319 151,36", "1,5"), ("az", "1.319.151,36", "1,5"), ("en", "1,319,151.36", "1.5")],
)
def test_amounts_are_typed_as_the_coordinators_language_writes_them(
    client: FlaskClient, login: Any, db_session: Any, language: str, budget: str, hours: str
) -> None:
    login(Role.COORDINATOR, locale=language)
    client.post("/programmes/new", data={**FORM, "budget": budget})
    programme = db_session.scalar(sa.select(Programme).where(Programme.code == "MMDP"))
    assert programme is not None and programme.budget == Decimal("1319151.36")
    base = f"/programmes/{programme.id}/modules"
    client.post(f"{base}/new", data={"code": "IML", "title": "Law", "hours": hours})
    [module] = services.curriculum(programme.id)
    assert module.hours == Decimal("1.5")
