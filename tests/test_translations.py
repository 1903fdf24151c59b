"""Russian and Azerbaijani: the catalogues are sound, and what participants read (e-mails,
their pages, the sign-in pages) is in their language."""

from __future__ import annotations

import gettext
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from tests.mail_fixtures import course, first_day
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import EnrolmentStatus, Session
from trainingmgr.config import ROOT
from trainingmgr.extensions import db
from trainingmgr.mail import delivery, notify
from trainingmgr.mail.models import OutboxMessage

TRANSLATIONS = ROOT / "trainingmgr" / "translations"
LOCALES = ("ru", "az")
# %(name)s, %(num)d, %(n).1f ..., a literal percent sign written as %%, and {n} (texts that
# scripts fill in).
PLACEHOLDER = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{\w+\}")


def catalogue(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def forms(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if not value:
        return ()
    return value if isinstance(value, tuple) else (value,)


def translated(message: Message) -> bool:
    return bool(message.id) and any(forms(message.string))


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def stray_percent_signs(text: str) -> int:
    return PLACEHOLDER.sub("", text).count("%")


# --------------------------------------------------------------------------- catalogues


def test_the_app_reads_the_catalogues_from_inside_the_package(app: Flask) -> None:
    directory = Path(app.config["BABEL_TRANSLATION_DIRECTORIES"])
    assert directory.is_absolute()
    assert directory == Path(__file__).resolve().parent.parent / "trainingmgr" / "translations"
    for locale in LOCALES:
        assert (directory / locale / "LC_MESSAGES" / "messages.mo").is_file()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_translation_keeps_the_placeholders_of_its_text(locale: str) -> None:
    cat = catalogue(locale)
    problems = []
    count = 0
    for message in cat:
        if not translated(message):
            continue
        count += 1
        originals = forms(message.id)
        strings = forms(message.string)
        if isinstance(message.id, tuple) and len(strings) != cat.num_plurals:
            problems.append((message.id, f"{len(strings)} forms, not {cat.num_plurals}"))
        for text in strings:
            if not text:
                problems.append((message.id, "a plural form is empty"))
            elif placeholders(text) not in [placeholders(o) for o in originals]:
                problems.append((message.id, text))
            elif stray_percent_signs(text) != stray_percent_signs(originals[0]):
                problems.append((message.id, f"a lone % sign: {text}"))
    assert problems == []
    assert count >= 1200  # everything a participant reads, and the coordinator pages


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogues_compile_without_errors_or_fuzzy_guesses(locale: str) -> None:
    cat = catalogue(locale)
    assert [(m.id, errors) for m, errors in cat.check()] == []
    assert [m.id for m in cat if m.id and m.fuzzy] == []  # fuzzy entries are not compiled
    assert cat.plural_forms.startswith(f"nplurals={cat.num_plurals};")
    assert cat.num_plurals == {"ru": 3, "az": 2}[locale]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogues_in_the_repository_are_up_to_date(locale: str) -> None:
    """The .mo files are committed (``make run`` compiles nothing): they must match the .po
    files. After editing a .po file run ``make translations``."""
    fresh = io.BytesIO()
    write_mo(fresh, catalogue(locale))
    fresh.seek(0)
    mo = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    with mo.open("rb") as f:
        committed = gettext.GNUTranslations(f)
    expected = gettext.GNUTranslations(fresh)
    # The messages, not the header: it names the compiler's version ("Generated-By: Babel
    # 2.19.0"), which changes with every Babel release and means nothing to a reader.
    assert messages(committed) == messages(expected)


def messages(translations: gettext.GNUTranslations) -> dict[Any, str]:
    return {k: v for k, v in translations._catalog.items() if k != ""}  # type: ignore[attr-defined]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_of_every_e_mail_is_translated(locale: str) -> None:
    cat = catalogue(locale)
    missing = []
    for path in sorted((ROOT / "templates" / "mail").iterdir()):
        for _line, msgid, _comments, _context in extract_from_file(
            "jinja2", str(path), keywords=DEFAULT_KEYWORDS
        ):
            message = cat.get(msgid)
            if message is None or not translated(message):
                missing.append((path.name, msgid))
    assert missing == [], "run `make translations`, then translate the new texts"


# --------------------------------------------------------------------------- e-mails


def outbox() -> list[OutboxMessage]:
    db.session.flush()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def parts(row: OutboxMessage) -> tuple[str, str]:
    msg = delivery.parse(row.message)
    text = str(msg.get_body(("plain",)).get_content())
    html = str(msg.get_body(("html",)).get_content())
    return text, html


ENROLMENT_MAIL = {
    "ru": {
        "subject": "Вы зачислены: Управление миграцией, Bakı 2030",
        "text": [
            "Здравствуйте, Ləman Əliyeva!",
            "Вы зачислены на обучение «Управление миграцией» (Bakı 2030).",
            "Даты:",
            "Место: ADA University, Baku",
            "Расписание (время:",
            f"- {first_day('ru')}, 09:00–12:00: Day 1",
            "Приложенный файл",
            "Страница Вашего обучения: https://training.example.org/",
            "Ждём Вас!",
        ],
        "html": ["Вы зачислены на обучение", "Страница Вашего обучения", "trainingmgr"],
    },
    "az": {
        "subject": "Qəbul olundunuz: Управление миграцией, Bakı 2030",
        "text": [
            "Hörmətli Ləman Əliyeva,",
            "Siz “Управление миграцией” (Bakı 2030) təliminə qəbul olundunuz.",
            "Tarixlər:",
            "Yer: ADA University, Baku",
            "Cədvəl (vaxt:",
            f"- {first_day('az')}, 09:00–12:00: Day 1",
            "Əlavə olunmuş",
            "Təlim səhifəniz: https://training.example.org/",
            "Sizi gözləyirik.",
        ],
        "html": ["təliminə qəbul olundunuz", "Təlim səhifəniz", "trainingmgr sistemi"],
    },
}
ENGLISH = ("Dear", "You are enrolled", "Schedule", "Your training page", "We look forward")


@pytest.mark.parametrize("language", LOCALES)
def test_an_enrolment_confirmation_is_in_the_cohorts_language(
    db_session: Any, make: Any, language: str
) -> None:
    cohort = course(make, language=language)
    person = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    enrolment = make.enrolment(cohort, person)

    row = notify.enrolment_confirmation(enrolment)

    assert row is not None and outbox() == [row]
    expected = ENROLMENT_MAIL[language]
    assert row.subject == expected["subject"]
    text, html = parts(row)
    for line in expected["text"]:
        assert line in text, line
    for words in expected["html"]:
        assert words in html, words
    assert f'<html lang="{language}">' in html
    for english in ENGLISH:
        assert english not in text and english not in html, english


def test_an_english_cohort_still_writes_in_english(db_session: Any, make: Any) -> None:
    cohort = course(make, language="en")
    enrolment = make.enrolment(cohort, make.person(first_name="Anna", last_name="Smith"))

    row = notify.enrolment_confirmation(enrolment)

    assert row is not None
    assert row.subject == "You are enrolled: Управление миграцией, Bakı 2030"
    text, _html = parts(row)
    assert "Dear Anna Smith," in text and "We look forward to seeing you." in text


def test_a_bilingual_cohort_writes_russian_to_a_russian_speaker(db_session: Any, make: Any) -> None:
    cohort = course(make, language="en+ru", sessions=1)
    ivan = make.person(first_name="Иван", last_name="Петров", email="ivan@example.org")
    make.user(role=Role.PARTICIPANT, email="ivan@example.org", person=ivan, locale="ru")
    guest = make.person(first_name="Guest", last_name="Person", email="guest@example.org")

    notify.enrolment_confirmations([make.enrolment(cohort, ivan), make.enrolment(cohort, guest)])

    rows = {row.recipient: row for row in outbox()}
    assert rows["ivan@example.org"].subject.startswith("Вы зачислены:")
    assert "Здравствуйте, Иван Петров!" in parts(rows["ivan@example.org"])[0]
    assert rows["guest@example.org"].subject.startswith("You are enrolled:")


@pytest.mark.parametrize(
    ("language", "subject", "line"),
    [
        ("ru", f"Отменено: Day 1, {first_day('ru')}", "Занятие «Day 1»"),
        ("az", f"Ləğv edildi: Day 1, {first_day('az')}", "“Day 1” məşğələsi"),
    ],
)
def test_a_cancelled_session_is_announced_in_the_cohorts_language(
    db_session: Any, make: Any, language: str, subject: str, line: str
) -> None:
    cohort = course(make, language=language, sessions=1)
    make.enrolment(cohort, make.person(email="p@example.org"))
    session = db.session.scalars(sa.select(Session).where(Session.cohort_id == cohort.id)).one()

    [row] = notify.session_changed(session, notify.CANCELLED)

    assert row.subject == subject
    assert line in parts(row)[0]


# --------------------------------------------------------------------------- pages


def test_the_participant_home_follows_the_users_language(
    client: FlaskClient, login: Any, make: Any
) -> None:
    me = login(Role.PARTICIPANT, locale="ru")
    cohort = make.cohort(name="Gəncə 2030", timezone="Asia/Baku")
    make.enrolment(cohort=cohort, person=me.person)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    make.session(cohort=cohort, title="Введение", starts_at=soon, ends_at=soon + timedelta(hours=3))

    html = client.get("/me").text

    assert '<html lang="ru">' in html
    for heading in (
        "<title>Моё обучение · trainingmgr</title>",
        ">Моё обучение</h1>",
        "Ваше следующее занятие",
        ">Расписание</h3>",
        "Предстоящие занятия",
        "Зачислен(а)",  # the enrolment's status
        "Часовой пояс, язык и календарь",
        ">Выйти</button>",
        "Проверить сертификат",  # the footer
    ):
        assert heading in html, heading
    for english in ("My training", "Your next session", "Upcoming sessions", "Sign out"):
        assert english not in html, english


def test_the_participant_home_in_azerbaijani(client: FlaskClient, login: Any, make: Any) -> None:
    me = login(Role.PARTICIPANT, locale="az")
    make.enrolment(
        cohort=make.cohort(),
        person=me.person,
        status=EnrolmentStatus.WAITLISTED,
        waitlist_position=2,
    )

    html = client.get("/me").text

    assert '<html lang="az">' in html and ">Təlimlərim</h1>" in html
    assert (
        "Gözləmə siyahısında" in html and "Siz gözləmə siyahısındasınız (sıra nömrəsi: 2)." in html
    )


def test_the_sign_in_link_pages_follow_the_browsers_language(
    client: FlaskClient, make: Any
) -> None:
    make.user(Role.PARTICIPANT, email="leman@example.org")
    headers = {"Accept-Language": "az-AZ,az;q=0.9,en;q=0.5"}

    page = client.get("/login/link", headers=headers).text

    assert '<html lang="az' in page
    assert '<h1 class="h3 mb-3">Keçidlə giriş</h1>' in page
    assert "Giriş keçidini e-poçtuma göndərin" in page  # the button
    assert "Əvəzində şifrə ilə daxil olun" in page
    assert ">E-poçt</label>" in page
    assert "Sign in with a link" not in page

    sent = client.post("/login/link", data={"email": "leman@example.org"}, headers=headers)

    assert "Poçt qutunuzu yoxlayın" in sent.text
    assert "Əgər leman@example.org hesab ünvanıdırsa, giriş keçidi ora göndərilir." in sent.text

    refused = client.post("/login/link", data={"email": "no address"}, headers=headers)
    assert "Düzgün e-poçt ünvanı daxil edin." in refused.text


def test_the_sign_in_page_in_russian(client: FlaskClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).text

    assert '<html lang="ru' in page
    assert "Забыли пароль?" in page and "Получить ссылку для входа по почте" in page
    assert ">Пароль</label>" in page and "Не выходить на этом устройстве" in page


def test_error_pages_are_translated(client: FlaskClient) -> None:
    page = client.get("/no/such/page", headers={"Accept-Language": "ru"})

    assert page.status_code == 404
    assert "Страница не найдена" in page.text and "Ошибка 404" in page.text


# --------------------------------------------------------------------------- reasons


@pytest.mark.parametrize(
    ("locale", "reason"),
    [
        ("en", "3 of 5 sessions, 60% is below 80%"),
        ("ru", "посещено занятий: 3 из 5; 60% — ниже требуемых 80%"),
        ("az", "iştirak edilən məşğələlər: 3 / 5; 60% tələb olunan minimumdan (80%) aşağıdır"),
    ],
)
def test_the_reasons_for_not_completing_are_translated(
    db_session: Any, make: Any, locale: str, reason: str
) -> None:
    cohort = make.cohort(min_attendance_pct=80)
    enrolment = make.enrolment(cohort)
    start = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    for day in range(5):
        session = make.session(cohort, starts_at=start + timedelta(days=day))
        status = AttendanceStatus.PRESENT if day < 3 else AttendanceStatus.ABSENT
        make.attendance(session, enrolment, status)

    with force_locale(locale):
        result = eligibility(cohort.id)[enrolment.id]

    assert result.reasons == [reason]
