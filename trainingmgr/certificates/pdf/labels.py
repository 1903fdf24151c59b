"""The printed labels in each certificate language, dates and periods."""

from __future__ import annotations

from datetime import date
from typing import Any

# ------------------------------------------------------------------------------ labels

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Certificate of Completion",
        "certify": "This is to certify that",
        "completed": "has successfully completed",
        "hours": "{hours} hours",
        "modules": "Modules",
        "partners": "In partnership with",
        "funders": "Funded by",
        "serial": "Certificate no.",
        "issued": "Issued on",
        "verify": "Verify at",
        "code": "Verification code",
        "eu": "Funded by|the European Union",
    },
    "ru": {
        "title": "Сертификат об окончании",
        "certify": "Настоящим удостоверяется, что",
        "completed": "успешно завершил(а) программу",
        "completed:male": "успешно завершил программу",
        "completed:female": "успешно завершила программу",
        "hours": "{hours} ч.",
        "modules": "Модули",
        "partners": "В партнёрстве с",
        "funders": "При финансовой поддержке",
        "serial": "Сертификат №",
        "issued": "Выдан",
        "verify": "Проверка",
        "code": "Код проверки",
        "eu": "Финансируется|Европейским союзом",
    },
    "az": {
        "title": "Bitirmə sertifikatı",
        "certify": "Bununla təsdiq edilir ki,",
        "completed": "proqramını uğurla başa vurmuşdur",
        "hours": "{hours} saat",
        "modules": "Modullar",
        "partners": "Tərəfdaşlar",
        "funders": "Maliyyələşdirən",
        "serial": "Sertifikat №",
        "issued": "Verilmə tarixi",
        "verify": "Yoxlama",
        "code": "Yoxlama kodu",
        "eu": "Avropa İttifaqı|tərəfindən maliyyələşdirilir",
    },
}
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
    "az": [
        "yanvar",
        "fevral",
        "mart",
        "aprel",
        "may",
        "iyun",
        "iyul",
        "avqust",
        "sentyabr",
        "oktyabr",
        "noyabr",
        "dekabr",
    ],
}


def languages(code: str) -> list[str]:
    """``"en+az"`` -> ``["en", "az"]``; unknown languages fall back to English."""
    found = [p for p in (code or "en").split("+") if p in _LABELS]
    return found or ["en"]


def label(langs: list[str], key: str, sep: str = " / ", *, sex: str = "", **kw: Any) -> str:
    """The label in each language; ``sex`` ("male", "female") picks the wording of a
    language that agrees with it (Russian "завершил" / "завершила") where there is one."""
    return sep.join(
        _LABELS[lang].get(f"{key}:{sex}", _LABELS[lang][key]).format(**kw) for lang in langs
    )


def upper(text: str, lang: str) -> str:
    """Capitals as the language writes them (Azerbaijani: i -> İ, not I)."""
    return (text.replace("i", "İ") if lang == "az" else text).upper()


def fmt_day(value: str | date, lang: str) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def fmt_period(start: str | date | None, end: str | date | None, lang: str) -> str:
    """``1–12 March 2022``, ``28 February – 4 March 2022``, or one day."""
    if not start:
        return fmt_day(end, lang) if end else ""
    first = start if isinstance(start, date) else date.fromisoformat(start)
    last = (end if isinstance(end, date) else date.fromisoformat(end)) if end else first
    if first == last:
        return fmt_day(first, lang)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{fmt_day(last, lang)}"
    if first.year == last.year:
        return f"{first.day} {_MONTHS[lang][first.month - 1]} – {fmt_day(last, lang)}"
    return f"{fmt_day(first, lang)} – {fmt_day(last, lang)}"
