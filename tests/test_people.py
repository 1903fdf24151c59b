"""The people directory: search in any script, filters, pagination, create and edit, the
person page, merging duplicates, access and query bounds."""

from __future__ import annotations

import itertools
import unicodedata
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import Enrolment, EnrolmentStatus, session_trainers
from trainingmgr.core.errors import DomainError
from trainingmgr.core.pagination import Page, page_args
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.people import services
from trainingmgr.people.models import Person, Sex
from trainingmgr.people.services import DirectoryFilter, DirectoryRole, PersonData

MISSING_ID = 987_654_321
HOUR = timedelta(hours=1)
_serial = itertools.count(1)


def names(page: Page[services.DirectoryRow]) -> list[str]:
    return [row.person.full_name for row in page.items]


def search(q: str = "", **kw: Any) -> list[str]:
    return names(services.directory(DirectoryFilter(q=q, **kw), per_page=200))


def count(model: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def certificate(enrolment: Enrolment) -> Certificate:
    n = next(_serial)
    cert = Certificate(
        serial=f"T-{n}",
        verification_code=f"code-{n}",
        enrolment_id=enrolment.id,
        cohort_id=enrolment.cohort_id,
        person_id=enrolment.person_id,
        snapshot={"name": "as printed"},
    )
    db.session.add(cert)
    db.session.flush()
    return cert


def teaches(person: Person, *sessions: Any) -> None:
    for s in sessions:
        s.trainers.append(person)
    db.session.flush()


# ---------------------------------------------------------------------------------------
# Search in any script


@pytest.fixture
def many_scripts(make: Any) -> None:
    make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    make.person(first_name="Şükrü", last_name="Yılmaz", email=None, country="TR")
    make.person(first_name="Иван", last_name="Петров", email=None, country="RU")
    make.person(first_name="ნინო", last_name="ბერიძე", email=None, country="GE")
    make.person(first_name="Олена", last_name="Їжакевич", email=None, country="UA")
    make.person(first_name="John", last_name="Smith", email="j.smith@example.org", country="GB")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("aliyeva", "Ləman Əliyeva"),
        ("ALIYEVA", "Ləman Əliyeva"),
        ("Əliyeva", "Ləman Əliyeva"),
        ("eliyeva", "Ləman Əliyeva"),
        ("yilmaz", "Şükrü Yılmaz"),
        ("YILMAZ", "Şükrü Yılmaz"),
        ("sukru", "Şükrü Yılmaz"),
        ("şükrü", "Şükrü Yılmaz"),
        ("петров", "Иван Петров"),
        ("PETROV", "Иван Петров"),
        ("ПЕТРОВ", "Иван Петров"),
        ("ნინო", "ნინო ბერიძე"),
        ("nino", "ნინო ბერიძე"),
        # anyascii gives "izhakevich"; the Ukrainian passport spelling is "Yizhakevych".
        ("izhakevich", "Олена Їжакевич"),
        ("izhakevych", "Олена Їжакевич"),
        ("yizhakevych", "Олена Їжакевич"),
        ("їжакевич", "Олена Їжакевич"),
        ("leman@example", "Ləman Əliyeva"),
        ("J.SMITH", "John Smith"),
    ],
)
def test_search_finds_names_in_any_script(
    db_session: Any, many_scripts: None, query: str, found: str
) -> None:
    assert search(query) == [found]


def test_every_search_term_must_match(db_session: Any, many_scripts: None) -> None:
    assert search("leman aliyeva") == ["Ləman Əliyeva"]
    assert search("aliyeva ləman") == ["Ləman Əliyeva"]
    assert search("leman petrov") == []
    assert search("   ") == search("")
    assert len(search("")) == 6


def test_long_and_short_search_terms_list_people_in_the_same_name_order(
    db_session: Any, make: Any
) -> None:
    # Terms of three letters or more are sorted without the name index (PostgreSQL finds
    # them through the trigram index): same order, by surname then first name.
    for first, last in (("Олег", "Петрова"), ("Анна", "Петров"), ("Борис", "Петров")):
        make.person(first_name=first, last_name=last)
    expected = ["Анна Петров", "Борис Петров", "Олег Петрова"]
    assert search("петров") == expected
    assert search("пе") == expected
    assert search("petrov") == expected


def test_search_wildcards_are_literal(db_session: Any, make: Any) -> None:
    make.person(first_name="Ann", last_name="Under", email="a_b@example.org")
    make.person(first_name="Bob", last_name="Other", email="axb@example.org")
    assert search("a_b") == ["Ann Under"]
    assert search("%") == []
    assert search("a%b") == []


def test_merged_records_are_hidden_from_the_directory(db_session: Any, make: Any) -> None:
    kept = make.person(first_name="Kamran", last_name="Ismayilov")
    make.person(first_name="Kamran", last_name="Ismayilov", merged_into_id=kept.id, email=None)
    assert search("ismayilov") == ["Kamran Ismayilov"]


def test_search_text_follows_edits(db_session: Any, make: Any) -> None:
    person = make.person(first_name="Anna", last_name="Old")
    services.update_person(person, PersonData(first_name="Anna", last_name="Гусейнова"), actor=None)
    db.session.flush()
    assert search("guseynova") == ["Anna Гусейнова"]
    assert search("old") == []


# ---------------------------------------------------------------------------------------
# Filters


@pytest.fixture
def roles_data(make: Any) -> dict[str, Person]:
    participant = make.person(
        first_name="Pat",
        last_name="Participant",
        country="AZ",
        organisation="State Migration Service",
    )
    trainer = make.person(
        first_name="Tom", last_name="Trainer", country="GE", organisation="Public Service Hall"
    )
    both = make.person(
        first_name="Bea", last_name="Both", country="AZ", organisation="Public Service Hall"
    )
    nobody = make.person(first_name="Ned", last_name="Nobody", country="TR", organisation=None)
    cohort = make.cohort()
    session = make.session(cohort=cohort)
    make.enrolment(cohort=cohort, person=participant)
    make.enrolment(cohort=cohort, person=both, status=EnrolmentStatus.WITHDRAWN)
    teaches(trainer, session)
    teaches(both, session, make.session(cohort=cohort))
    return {"participant": participant, "trainer": trainer, "both": both, "nobody": nobody}


def test_filters_by_country_organisation_and_role(
    db_session: Any, roles_data: dict[str, Person]
) -> None:
    assert search(country="AZ") == ["Bea Both", "Pat Participant"]
    assert search(organisation="Public Service Hall") == ["Bea Both", "Tom Trainer"]
    assert search(role=DirectoryRole.PARTICIPANT) == ["Bea Both", "Pat Participant"]
    assert search(role=DirectoryRole.TRAINER) == ["Bea Both", "Tom Trainer"]
    assert search(country="AZ", role=DirectoryRole.TRAINER) == ["Bea Both"]
    assert search("pat", organisation="Public Service Hall") == []


def test_directory_counts_cohorts_and_sessions_taught(
    db_session: Any, roles_data: dict[str, Person]
) -> None:
    rows = {
        r.person.last_name: (r.cohorts, r.sessions)
        for r in services.directory(DirectoryFilter()).items
    }
    assert rows["Participant"] == (1, 0)
    assert rows["Trainer"] == (0, 1)
    assert rows["Both"] == (1, 2)
    assert rows["Nobody"] == (0, 0)


def test_directory_page_shows_filters_with_country_names(
    client: FlaskClient, login: Any, roles_data: dict[str, Person]
) -> None:
    login(Role.COORDINATOR)
    page = client.get("/people/?country=GE").text
    assert '<option value="GE" selected>Georgia</option>' in page
    assert '<option value="AZ">Azerbaijan</option>' in page
    assert '<option value="Public Service Hall">Public Service Hall</option>' in page
    assert "Tom Trainer" in page and "Pat Participant" not in page
    page = client.get("/people/?role=trainer&organisation=Public+Service+Hall").text
    assert "Tom Trainer" in page and "Bea Both" in page and "Pat Participant" not in page
    # Nonsense filter values are ignored rather than failing.
    assert client.get("/people/?role=boss&country=Narnia&page=x&per_page=-3").status_code == 200


@pytest.mark.parametrize(
    ("locale", "georgia", "azerbaijan"),
    [("ru", "Грузия", "Азербайджан"), ("az", "Gürcüstan", "Azərbaycan")],
)
def test_the_directorys_countries_are_in_the_readers_language(
    client: FlaskClient,
    login: Any,
    roles_data: dict[str, Person],
    locale: str,
    georgia: str,
    azerbaijan: str,
) -> None:
    login(Role.COORDINATOR, locale=locale)
    page = client.get("/people/?country=GE").text
    assert f'<option value="GE" selected>{georgia}</option>' in page  # the filter
    assert f'<option value="AZ">{azerbaijan}</option>' in page
    assert f'<td class="small">{georgia}</td>' in page  # the table
    assert ">Georgia<" not in page


def test_the_country_filter_follows_each_readers_language(
    client: FlaskClient, login: Any, roles_data: dict[str, Person]
) -> None:
    login(Role.COORDINATOR)
    russian = client.get("/people/", headers={"Accept-Language": "ru"}).text
    assert '<option value="GE">Грузия</option>' in russian
    # The same options, cached, read by someone else in another language.
    page = client.get("/people/", headers={"Accept-Language": "az"}).text
    assert '<option value="GE">Gürcüstan</option>' in page and "Грузия" not in page


def test_directory_page_search_in_another_script(
    client: FlaskClient, login: Any, many_scripts: None
) -> None:
    login(Role.COORDINATOR)
    page = client.get("/people/", query_string={"q": "aliyeva"}).text
    assert "Ləman Əliyeva" in page and "Иван Петров" not in page
    page = client.get("/people/", query_string={"q": "nobody-matches-this"}).text
    assert "Nobody matches this search." in page


# ---------------------------------------------------------------------------------------
# Pagination


def add_people(n: int, prefix: str = "Bulk") -> list[Person]:
    people = [
        Person(first_name=f"{prefix}{i:03d}", last_name="Person", email=f"{prefix}{i}@example.org")
        for i in range(n)
    ]
    db.session.add_all(people)
    db.session.flush()
    return people


def test_directory_pages_by_fifty(client: FlaskClient, login: Any, db_session: Any) -> None:
    login(Role.COORDINATOR)
    add_people(120)
    first = services.directory(DirectoryFilter(q="bulk"), page=1)
    assert (first.total, first.pages, len(first.items)) == (120, 3, 50)
    last = services.directory(DirectoryFilter(q="bulk"), page=3)
    assert len(last.items) == 20 and last.items[-1].person.first_name == "Bulk119"
    beyond = services.directory(DirectoryFilter(q="bulk"), page=99)
    assert beyond.page == 3
    seen = {r.person.id for p in (1, 2, 3) for r in services.directory(DirectoryFilter(), p).items}
    assert len(seen) == 120

    page = client.get("/people/?q=bulk&page=2").text
    assert "Bulk050" in page and "Bulk049" not in page and "Bulk100" not in page
    assert "Showing 51–100 of 120" in page
    assert "/people/?q=bulk&amp;page=3" in page  # links keep the search
    assert "/people/?q=bulk&amp;page=1" in page


def test_page_args_and_page_links() -> None:
    assert page_args({}) == (1, 50)
    assert page_args({"page": "3", "per_page": "20"}) == (3, 20)
    assert page_args({"page": "0", "per_page": "100000"}) == (1, 200)
    assert page_args({"page": "x", "per_page": "-1"}) == (1, 50)
    page = Page(items=[1], page=10, per_page=10, total=200)
    assert list(page.iter_pages()) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert (page.prev_num, page.next_num, page.pages) == (9, 11, 20)
    empty = Page(items=[], page=1, per_page=50, total=0)
    assert (empty.pages, empty.has_prev, empty.has_next, empty.first_index) == (1, False, False, 0)


# ---------------------------------------------------------------------------------------
# Create and edit


def form_data(**kw: str) -> dict[str, str]:
    data = {
        "first_name": "Şükrü",
        "last_name": "Yılmaz",
        "name_latin": "Sukru Yilmaz",
        "email": "Sukru.Yilmaz@Example.ORG",
        "sex": "male",
        "country": "Türkiye",
        "organisation": "Presidency of Migration Management",
        "position": "Expert",
        "phone": "+90 312 000 00 00",
        "notes": "",
    }
    data.update(kw)
    return data


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_a_one_word_name_is_accepted_and_printed_as_written(
    client: FlaskClient, login: Any, db_session: Any, field: str
) -> None:
    login(Role.COORDINATOR)
    other = "last_name" if field == "first_name" else "first_name"

    response = client.post(
        "/people/new",
        data=form_data(**{field: "Suharto", other: "", "name_latin": "", "email": ""}),
    )

    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).order_by(Person.id.desc()))
    assert person.full_name == "Suharto"
    assert "Suharto" in client.get(response.headers["Location"]).text


def test_forms_keep_joiners_and_drop_other_invisible_characters(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    """As the import does: U+200C (Persian محمدی‌پور) and U+200D (Sinhala ශ්‍රී) are part of
    the spelling; a zero width space, word joiner, soft hyphen or byte order mark is not."""
    login(Role.COORDINATOR)

    response = client.post(
        "/people/new",
        data=form_data(
            first_name="\ufeffشیرین\u200b",
            last_name="محمدی\u200cپور",
            name_latin="Shi\u00adrin Mo\u2060hammadipour",
            email="",
        ),
    )
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.first_name == "شیرین"))
    assert person.last_name == "محمدی\u200cپور"
    assert person.name_latin == "Shirin Mohammadipour"

    edited = client.post(
        f"/people/{person.id}/edit",
        data=form_data(first_name="ශ්\u200dරී", last_name="\u200bSuharto", email=""),
    )
    assert edited.status_code == 302
    db.session.refresh(person)
    assert (person.first_name, person.last_name) == ("ශ්\u200dරී", "Suharto")


def test_create_person_keeps_names_as_typed(
    client: FlaskClient, login: Any, db_session: Any
) -> None:
    user = login(Role.COORDINATOR)
    decomposed = unicodedata.normalize("NFD", "  Şükrü ")
    response = client.post("/people/new", data=form_data(first_name=decomposed))
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.last_name == "Yılmaz"))
    assert response.headers["Location"] == f"/people/{person.id}"
    assert person.first_name == "Şükrü"  # NFC, trimmed
    assert person.email == "sukru.yilmaz@example.org"
    assert (person.country, person.sex) == ("TR", Sex.MALE)
    assert person.notes is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.create"))
    assert event.object_id == person.id and event.actor_id == user.id
    assert "Şükrü Yılmaz" in client.get(response.headers["Location"]).text


@pytest.mark.parametrize(("typed", "code"), [("Азербайджан", "AZ"), ("Kosova", "XK")])
def test_the_person_form_takes_the_countrys_name_in_the_import_languages(
    client: FlaskClient, login: Any, db_session: Any, typed: str, code: str
) -> None:
    """The same spellings as an import: Russian, Azerbaijani... and Kosovo."""
    login(Role.COORDINATOR)
    response = client.post("/people/new", data=form_data(country=typed))
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.last_name == "Yılmaz"))
    assert person.country == code
    edit = client.get(f"/people/{person.id}/edit").text
    assert f'value="{services.country_name(code)}"' in edit


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("az", "AZ"),
        ("AZE", "AZ"),
        ("Azerbaijan", "AZ"),
        ("  the gambia ", "GM"),
        ("Turkey", "TR"),
        ("Russia", "RU"),
        ("Côte d'Ivoire", "CI"),
        ("kosovo", "XK"),
        ("", None),
    ],
)
def test_countries_are_normalised(typed: str, code: str | None) -> None:
    assert services.normalise_country(typed) == code


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "is not a valid e-mail address"),
        ("email", "someone@", "is not a valid e-mail address"),
        ("country", "Narnia", "Unknown country “Narnia”"),
        ("first_name", "", "Enter a first name or a last name."),
        ("sex", "robot", "Not a valid choice"),
        ("phone", "1" * 60, "Field cannot be longer than 50 characters."),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    client: FlaskClient, login: Any, db_session: Any, field: str, value: str, message: str
) -> None:
    login(Role.COORDINATOR)
    before = (count(Person), count(AuditEvent))
    data = form_data(**{field: value})
    if field == "first_name":
        data["last_name"] = ""
    response = client.post("/people/new", data=data)
    assert response.status_code == 200
    assert message in response.text
    assert f'id="{field}-error"' in response.text  # next to the field
    assert (count(Person), count(AuditEvent)) == before


def test_duplicate_email_names_the_existing_person(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    existing = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    before = count(Person)
    response = client.post("/people/new", data=form_data(email="LEMAN@example.org "))
    assert response.status_code == 200
    assert f"This e-mail already belongs to Ləman Əliyeva (#{existing.id})." in response.text
    assert 'id="email-error"' in response.text
    assert count(Person) == before


def test_service_refuses_duplicate_email_without_a_request(db_session: Any, make: Any) -> None:
    make.person(email="taken@example.org")
    with pytest.raises(DomainError) as info:
        services.create_person(PersonData(first_name="A", email="Taken@Example.org"), actor=None)
    assert info.value.field == "email"


def test_edit_person(client: FlaskClient, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    person = make.person(first_name="Ivan", last_name="Petrov", email="ivan@example.org")
    form = client.get(f"/people/{person.id}/edit").text
    assert 'value="Azerbaijan"' in form  # the country shown by name
    response = client.post(
        f"/people/{person.id}/edit",
        data=form_data(
            first_name="Иван", last_name="Петров", email="ivan@example.org", country="ge"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (person.first_name, person.last_name, person.country) == ("Иван", "Петров", "GE")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.update"))
    assert event.changes["first_name"] == ["Ivan", "Иван"]
    assert "email" not in event.changes


def test_edit_refuses_another_persons_email_and_writes_nothing(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    other = make.person(first_name="Nino", last_name="Beridze", email="nino@example.org")
    person = make.person(first_name="Ivan", last_name="Petrov", email="ivan@example.org")
    response = client.post(
        f"/people/{person.id}/edit",
        data=form_data(first_name="Changed", email="nino@example.org"),
    )
    assert response.status_code == 200
    assert f"already belongs to Nino Beridze (#{other.id})" in response.text
    db.session.expire_all()
    assert (person.first_name, person.email) == ("Ivan", "ivan@example.org")


def test_merged_record_cannot_be_edited(client: FlaskClient, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    kept = make.person()
    merged = make.person(merged_into_id=kept.id, email=None)
    response = client.post(f"/people/{merged.id}/edit", data=form_data())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{kept.id}"
    with pytest.raises(DomainError):
        services.update_person(merged, PersonData(first_name="X"), actor=None)


# ---------------------------------------------------------------------------------------
# The person page


def test_person_page_shows_cohorts_attended_and_taught(
    app: Any, client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    person = make.person(first_name="Ləman", last_name="Əliyeva")
    account = make.user(role=Role.TRAINER, person=person, email="leman.account@example.org")
    programme = make.programme(code="RTCM", title="Regional Training Centre on Migration")
    attended = make.cohort(programme=programme, name="RTCM ToT Baku")
    sessions = [make.session(cohort=attended) for _ in range(3)]
    enrolment = make.enrolment(cohort=attended, person=person, status=EnrolmentStatus.COMPLETED)
    make.attendance(sessions[0], enrolment, AttendanceStatus.PRESENT)
    make.attendance(sessions[1], enrolment, AttendanceStatus.LATE)
    make.attendance(sessions[2], enrolment, AttendanceStatus.ABSENT)
    make.enrolment(
        cohort=make.cohort(programme=programme, name="Never started"),
        person=person,
        status=EnrolmentStatus.APPLIED,
    )
    taught = make.cohort(programme=programme, name="Roll-out Ganja")
    teaches(person, make.session(cohort=taught, title="Readmission basics"))

    page = client.get(f"/people/{person.id}").text
    assert "RTCM ToT Baku" in page and "Regional Training Centre on Migration" in page
    assert "Completed" in page and "2 of 3" in page
    assert "Never started" in page and "Applied" in page and "not recorded" in page
    assert "Roll-out Ganja" in page and "Readmission basics" in page
    assert account.email in page
    # Cohort names link to the cohort page.
    assert f'/{attended.id}">RTCM ToT Baku</a>' in page


def test_person_page_of_a_merged_record_points_at_the_kept_one(
    client: FlaskClient, login: Any, make: Any
) -> None:
    login(Role.COORDINATOR)
    kept = make.person(first_name="Kept", last_name="Record")
    merged = make.person(merged_into_id=kept.id, email=None)
    page = client.get(f"/people/{merged.id}").text
    assert "This record was merged into" in page and f"/people/{kept.id}" in page
    assert f"/people/{merged.id}/edit" not in page


# ---------------------------------------------------------------------------------------
# Merging


@pytest.fixture
def pair(make: Any) -> tuple[Person, Person]:
    keep = make.person(first_name="Ləman", last_name="Əliyeva", email=None, country=None)
    dup = make.person(
        first_name="Leman",
        last_name="Aliyeva",
        email="leman@example.org",
        country="AZ",
        organisation="State Migration Service",
        notes="Prefers Russian materials.",
    )
    return keep, dup


def test_merge_moves_enrolments_attendance_and_fills_empty_fields(
    db_session: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    actor = make.user(role=Role.COORDINATOR)
    cohort = make.cohort()
    s1, s2 = make.session(cohort=cohort), make.session(cohort=cohort)
    enrolment = make.enrolment(cohort=cohort, person=dup)
    make.attendance(s1, enrolment, AttendanceStatus.PRESENT)
    make.attendance(s2, enrolment, AttendanceStatus.EXCUSED)
    own = make.enrolment(person=keep)

    services.merge_people(keep, dup, actor=actor)
    db.session.flush()

    assert enrolment.person_id == keep.id and own.person_id == keep.id
    records = db.session.scalars(
        sa.select(AttendanceRecord).where(AttendanceRecord.enrolment_id == enrolment.id)
    ).all()
    assert len(records) == 2
    assert (keep.first_name, keep.last_name) == ("Ləman", "Əliyeva")  # not overwritten
    assert (keep.email, keep.country, keep.organisation) == (
        "leman@example.org",
        "AZ",
        "State Migration Service",
    )
    assert keep.notes == "Prefers Russian materials."
    assert (dup.merged_into_id, dup.email) == (keep.id, None)
    assert "leman" in keep.search_text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.merge"))
    assert event.object_id == keep.id and event.actor_id == actor.id
    assert event.changes["duplicate_id"] == dup.id
    assert event.changes["enrolments_moved"] == [enrolment.id]
    assert event.changes["fields_filled"]["email"] == "leman@example.org"


def test_merge_keeps_the_better_enrolment_and_moves_attendance_onto_it(
    db_session: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    cohort = make.cohort()
    s1, s2, s3 = (make.session(cohort=cohort) for _ in range(3))
    # The kept person's enrolment is only "enrolled" but has s1 recorded.
    ours = make.enrolment(cohort=cohort, person=keep, status=EnrolmentStatus.ENROLLED)
    make.attendance(s1, ours, AttendanceStatus.ABSENT)
    # The duplicate completed the cohort and has s1 and s2 recorded.
    theirs = make.enrolment(cohort=cohort, person=dup, status=EnrolmentStatus.COMPLETED)
    make.attendance(s1, theirs, AttendanceStatus.PRESENT)
    make.attendance(s2, theirs, AttendanceStatus.LATE)
    cert = certificate(ours)  # a certificate on the enrolment that goes away
    ours_id = ours.id

    plan = services.merge_people(keep, dup, actor=None)
    db.session.flush()

    assert [(c.kept.id, c.dropped.id) for c in plan.conflicts] == [(theirs.id, ours_id)]
    left = db.session.scalars(sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id)).all()
    assert [(e.id, e.person_id, e.status) for e in left] == [
        (theirs.id, keep.id, EnrolmentStatus.COMPLETED)
    ]
    statuses = dict(
        db.session.execute(
            sa.select(AttendanceRecord.session_id, AttendanceRecord.status).where(
                AttendanceRecord.enrolment_id == theirs.id
            )
        ).all()
    )
    assert statuses == {s1.id: AttendanceStatus.PRESENT, s2.id: AttendanceStatus.LATE}
    assert s3.id not in statuses
    db.session.refresh(cert)
    assert (cert.enrolment_id, cert.person_id) == (theirs.id, keep.id)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.merge"))
    merged = event.changes["enrolments_merged"][0]
    assert merged["dropped_status"] == "enrolled"
    assert merged["attendance_dropped"] == [{"session_id": s1.id, "status": "absent"}]


def test_merge_conflict_moves_the_duplicates_records_where_the_kept_has_none(
    db_session: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    cohort = make.cohort()
    s1, s2 = make.session(cohort=cohort), make.session(cohort=cohort)
    ours = make.enrolment(cohort=cohort, person=keep, status=EnrolmentStatus.COMPLETED)
    make.attendance(s1, ours, AttendanceStatus.PRESENT)
    theirs = make.enrolment(cohort=cohort, person=dup, status=EnrolmentStatus.WITHDRAWN)
    make.attendance(s1, theirs, AttendanceStatus.ABSENT)
    make.attendance(s2, theirs, AttendanceStatus.PRESENT)

    services.merge_people(keep, dup, actor=None)
    db.session.flush()

    assert db.session.get(Enrolment, theirs.id) is None
    rows = db.session.execute(
        sa.select(AttendanceRecord.session_id, AttendanceRecord.status)
        .where(AttendanceRecord.enrolment_id == ours.id)
        .order_by(AttendanceRecord.session_id)
    ).all()
    assert rows == [(s1.id, AttendanceStatus.PRESENT), (s2.id, AttendanceStatus.PRESENT)]


def test_merge_moves_sessions_taught_certificates_and_the_account(
    db_session: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    account = make.user(role=Role.TRAINER, person=dup, email="trainer-dup@example.org")
    cohort = make.cohort()
    shared, own = make.session(cohort=cohort), make.session(cohort=cohort)
    teaches(keep, shared)
    teaches(dup, shared, own)
    cert = certificate(make.enrolment(person=dup, status=EnrolmentStatus.COMPLETED))
    earlier = make.person(merged_into_id=dup.id, email=None)

    services.merge_people(keep, dup, actor=None)
    db.session.flush()

    rows = db.session.execute(
        sa.select(session_trainers.c.session_id, session_trainers.c.person_id).order_by(
            session_trainers.c.session_id
        )
    ).all()
    assert sorted(rows) == sorted([(shared.id, keep.id), (own.id, keep.id)])
    db.session.refresh(cert)
    db.session.refresh(account)
    db.session.refresh(earlier)
    assert cert.person_id == keep.id
    assert account.person_id == keep.id
    assert earlier.merged_into_id == keep.id


def test_merge_of_two_certified_enrolments_leaves_one_valid_certificate(
    client: FlaskClient, login: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    """An import made a duplicate, and each record got a certificate for the same cohort:
    after the merge the person holds one valid certificate for it, the duplicate's being
    superseded by it (its verification page then points at the one that stays)."""
    login(Role.COORDINATOR)
    keep, dup = pair
    cohort = make.cohort()
    ours = make.enrolment(cohort=cohort, person=keep, status=EnrolmentStatus.COMPLETED)
    theirs = make.enrolment(cohort=cohort, person=dup, status=EnrolmentStatus.COMPLETED)
    kept_cert, dup_cert = certificate(ours), certificate(theirs)

    page = client.get("/people/merge", query_string={"keep": keep.id, "duplicate": dup.id}).text
    assert f"{dup_cert.serial} will be marked superseded by {kept_cert.serial}" in page

    response = client.post("/people/merge", data={"keep": keep.id, "duplicate": dup.id})
    assert response.status_code == 302
    db.session.expire_all()
    valid = db.session.scalars(
        sa.select(Certificate.serial).where(
            Certificate.person_id == keep.id, Certificate.status == "valid"
        )
    ).all()
    assert valid == [kept_cert.serial]
    assert (dup_cert.status, dup_cert.superseded_by_id) == ("superseded", kept_cert.id)
    assert dup_cert.enrolment_id == ours.id
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.supersede")
    )
    assert event.object_id == dup_cert.id and event.programme_id == cohort.programme_id
    assert event.summary == f"{dup_cert.serial} -> {kept_cert.serial}"


def test_merge_refused_when_both_have_accounts(
    client: FlaskClient, login: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    login(Role.COORDINATOR)
    keep, dup = pair
    make.user(role=Role.PARTICIPANT, person=keep, email="one@example.org")
    make.user(role=Role.PARTICIPANT, person=dup, email="two@example.org")
    enrolment = make.enrolment(person=dup)
    with pytest.raises(DomainError, match="Both records have a user account"):
        services.plan_merge(keep, dup)

    before = count(AuditEvent)
    response = client.post("/people/merge", data={"keep": keep.id, "duplicate": dup.id})
    assert response.status_code == 200
    assert "Both records have a user account (one@example.org and two@example.org)" in (
        response.text
    )
    db.session.expire_all()
    assert dup.merged_into_id is None and enrolment.person_id == dup.id
    assert count(AuditEvent) == before


def test_merge_into_itself_or_into_a_merged_record_is_refused(
    db_session: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    keep, dup = pair
    gone = make.person(merged_into_id=keep.id, email=None)
    with pytest.raises(DomainError, match="cannot be merged into itself"):
        services.merge_people(keep, keep, actor=None)
    with pytest.raises(DomainError, match="already merged into another record"):
        services.merge_people(gone, dup, actor=None)
    with pytest.raises(DomainError, match="already merged into another record"):
        services.merge_people(keep, gone, actor=None)


def test_merge_pages_preview_then_confirm(
    client: FlaskClient, login: Any, make: Any, pair: tuple[Person, Person]
) -> None:
    login(Role.COORDINATOR)
    keep, dup = pair
    make.enrolment(person=dup)
    teaches(dup, make.session())

    page = client.get("/people/merge", query_string={"keep": keep.id, "q": "aliyeva"}).text
    assert 'data-testid="merge-candidates"' in page
    assert f"duplicate={dup.id}" in page  # candidates can be picked as the duplicate

    page = client.get("/people/merge", query_string={"keep": keep.id, "duplicate": dup.id}).text
    assert 'data-testid="merge-preview"' in page
    assert "Enrolments: 1" in page and "Sessions taught: 1" in page
    assert "E-mail: leman@example.org" in page
    assert "data-confirm=" in page
    db.session.expire_all()
    assert dup.merged_into_id is None  # the preview changes nothing

    response = client.post("/people/merge", data={"keep": keep.id, "duplicate": dup.id})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{keep.id}"
    db.session.expire_all()
    assert dup.merged_into_id == keep.id


def test_merge_page_explains_refusals_and_unknown_numbers(
    client: FlaskClient, login: Any, pair: tuple[Person, Person]
) -> None:
    login(Role.COORDINATOR)
    keep, _dup = pair
    page = client.get("/people/merge", query_string={"keep": keep.id, "duplicate": keep.id}).text
    assert "cannot be merged into itself" in page and "merge-preview" not in page
    page = client.get("/people/merge", query_string={"keep": keep.id, "duplicate": MISSING_ID})
    assert f"There is no record #{MISSING_ID}." in page.text
    assert client.get("/people/merge").status_code == 200


# ---------------------------------------------------------------------------------------
# Access and missing objects


def routes(person_id: int) -> list[tuple[str, str]]:
    return [
        ("GET", "/people/"),
        ("GET", "/people/new"),
        ("POST", "/people/new"),
        ("GET", f"/people/{person_id}"),
        ("GET", f"/people/{person_id}/edit"),
        ("POST", f"/people/{person_id}/edit"),
        ("GET", "/people/merge"),
        ("POST", "/people/merge"),
    ]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.PARTICIPANT])
def test_trainers_and_participants_get_403_everywhere(
    client: FlaskClient, login: Any, make: Any, role: Role
) -> None:
    login(role)
    person = make.person()
    before = (count(Person), count(AuditEvent))
    for method, url in routes(person.id):
        response = client.open(url, method=method, data=form_data())
        assert response.status_code == 403, (method, url)
    assert (count(Person), count(AuditEvent)) == before


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient, make: Any) -> None:
    person = make.person()
    for method, url in routes(person.id):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_coordinators_and_admins_use_every_page(
    client: FlaskClient, login: Any, make: Any, role: Role
) -> None:
    login(role)
    person = make.person()
    for url in (
        "/people/",
        "/people/new",
        f"/people/{person.id}",
        f"/people/{person.id}/edit",
        "/people/merge",
    ):
        assert client.get(url).status_code == 200, url


def test_unknown_people_give_404(client: FlaskClient, login: Any, make: Any) -> None:
    login(Role.COORDINATOR)
    person = make.person()
    assert client.get(f"/people/{MISSING_ID}").status_code == 404
    assert client.get(f"/people/{MISSING_ID}/edit").status_code == 404
    assert client.post(f"/people/{MISSING_ID}/edit", data=form_data()).status_code == 404
    response = client.post("/people/merge", data={"keep": person.id, "duplicate": MISSING_ID})
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------
# Bounded queries


def measure(client: FlaskClient, count_queries: Any, url: str) -> int:
    db.session.expire_all()  # nothing cached from the setup: count what a real request runs
    with count_queries() as q:
        response = client.get(url)
    assert response.status_code == 200, url
    return q.count


def test_directory_runs_the_same_queries_with_3_and_120_people(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    programme = make.programme()
    cohort = make.cohort(programme=programme)
    session = make.session(cohort=cohort)
    urls = ["/people/", "/people/?q=bulk", "/people/?q=bulk&role=participant&country=AZ"]
    counts: dict[str, list[int]] = {url: [] for url in urls}
    for n in (3, 117):
        for person in add_people(n, prefix=f"Bulk{n}-"):
            person.country = "AZ"
            person.organisation = f"Ministry {person.first_name}"
            db.session.add(Enrolment(cohort=cohort, person=person))
            session.trainers.append(person)
        db.session.flush()
        for url in urls:
            counts[url].append(measure(client, count_queries, url))
    for url, (small, large) in counts.items():
        assert small == large, (url, small, large)


def test_person_page_runs_the_same_queries_with_3_and_120_enrolments(
    client: FlaskClient, login: Any, make: Any, count_queries: Any
) -> None:
    login(Role.COORDINATOR)
    person = make.person()
    make.user(role=Role.PARTICIPANT, person=person, email="counted@example.org")
    programme = make.programme()
    counts = []
    for n in (3, 117):
        for _ in range(n):
            cohort = make.cohort(programme=programme)
            session = make.session(cohort=cohort)
            enrolment = make.enrolment(cohort=cohort, person=person)
            make.attendance(session, enrolment)
            session.trainers.append(person)
        db.session.flush()
        counts.append(measure(client, count_queries, f"/people/{person.id}"))
    assert counts[0] == counts[1], counts
    page = client.get(f"/people/{person.id}").text
    assert page.count("1 of 1") == 120


def _account_without_person(make: Any, email: str) -> Any:
    """An invited trainer's account: no person record yet (the invitation found none)."""
    user = make.user(Role.TRAINER, email=email, person=make.person(email=None))
    user.person = None
    db.session.flush()
    return user


def test_a_person_added_with_an_accounts_address_becomes_that_accounts_person(
    client: FlaskClient, login: Any, make: Any
) -> None:
    """A trainer invited before being in the directory: once the coordinator adds them (same
    e-mail) and assigns a session, their account shows it, without an administrator."""
    trainer = _account_without_person(make, "sukru.yilmaz@example.org")
    coordinator = login(Role.COORDINATOR)
    response = client.post("/people/new", data=form_data())
    assert response.status_code == 302
    person = db.session.scalar(sa.select(Person).where(Person.email == trainer.email))
    db.session.refresh(trainer)
    assert trainer.person_id == person.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.person"))
    assert event.object_id == trainer.id and event.actor_id == coordinator.id
    assert event.changes == {"person_id": [None, person.id]}

    start = utcnow() + timedelta(days=2)
    teaches(person, make.session(title="Readmission law", starts_at=start, ends_at=start + HOUR))
    login(user=trainer)
    html = client.get("/trainer").text
    assert "not linked to a trainer record" not in html
    assert "Readmission law" in html


def test_an_address_given_later_or_taken_stays_with_its_owner(
    client: FlaskClient, login: Any, make: Any
) -> None:
    trainer = _account_without_person(make, "sukru.yilmaz@example.org")
    linked = make.user(Role.TRAINER, email="linked@example.org")
    login(Role.COORDINATOR)
    person = make.person(first_name="Şükrü", last_name="Yılmaz", email=None)
    response = client.post(f"/people/{person.id}/edit", data=form_data())
    assert response.status_code == 302
    db.session.refresh(trainer)
    assert trainer.person_id == person.id  # the address given by an edit links too
    # An account already linked to someone keeps its person.
    other = make.person(email=None)
    own = linked.person_id
    client.post(f"/people/{other.id}/edit", data=form_data(email="Linked@example.org"))
    db.session.refresh(linked)
    assert linked.person_id == own


@pytest.mark.parametrize("url", ["/people/new", "/people/{id}/edit"])
def test_the_person_form_lists_every_error_in_one_submit(
    client: FlaskClient, login: Any, make: Any, url: str
) -> None:
    login(Role.COORDINATOR)
    person = make.person(first_name="Ivan", last_name="Petrov", email="ivan@example.org")
    before = (count(Person), count(AuditEvent))
    data = form_data(email="not-an-email", country="Narnia", sex="robot")
    response = client.post(url.format(id=person.id), data=data)
    assert response.status_code == 200
    for field, message in [
        ("email", "is not a valid e-mail address"),
        ("country", "Unknown country “Narnia”"),
        ("sex", "Not a valid choice"),
    ]:
        assert message in response.text
        assert f'id="{field}-error"' in response.text
    # A field refused by the form itself does not hide the rules' errors on the others.
    response = client.post(
        url.format(id=person.id), data=form_data(first_name="A" * 300, country="Narnia")
    )
    assert "Field cannot be longer than 120 characters." in response.text
    assert "Unknown country “Narnia”" in response.text
    assert (count(Person), count(AuditEvent)) == before
    db.session.refresh(person)
    assert (person.first_name, person.email) == ("Ivan", "ivan@example.org")
