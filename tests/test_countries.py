"""One set of country spellings everywhere: a person's country, an imported row's country
and a programme's target countries are read by ``core.countries``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from trainingmgr.core.countries import country_code, country_key, country_names
from trainingmgr.core.errors import DomainError
from trainingmgr.imports.parsing import SourceRow
from trainingmgr.imports.validation import clean_row
from trainingmgr.people.services import country_choices, country_name, normalise_country
from trainingmgr.programmes.rules import normalise_countries


def person_country(text: str) -> str | None:
    return normalise_country(text)


def imported_country(text: str) -> str | None:
    """As an import reads the cell of a "Country" column."""
    row = clean_row(SourceRow(2, (text,)), ["country"])
    if row.errors:
        raise DomainError(" ".join(row.errors), "country")
    return row.values.get("country")


def target_country(text: str) -> str | None:
    """As a programme reads one entry of its target countries (a list: "Korea, Republic of"
    typed as text would be two entries)."""
    [code] = normalise_countries([text])
    return code


ENTRY_POINTS: dict[str, Callable[[str], str | None]] = {
    "person": person_country,
    "import": imported_country,
    "programme": target_country,
}


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Азербайджан", "AZ"),
        ("Azərbaycan", "AZ"),
        ("Azerbaijan", "AZ"),
        ("aze", "AZ"),
        ("AZ", "AZ"),
        ("Турция", "TR"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("Türkei", "TR"),
        ("England", "GB"),
        ("UK", "GB"),
        ("the Netherlands", "NL"),
        ("Holland", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("Cote dIvoire", "CI"),
        ("Ivory Coast", "CI"),
        ("Korea, Republic of", "KR"),
        ("Bosnia & Herzegovina", "BA"),
        ("XK", "XK"),
        ("Kosovo", "XK"),
        ("Косово", "XK"),
        ("Кыргызстан", "KG"),
        ("Kirghizia", "KG"),
        ("საქართველო", "GE"),
    ],
)
def test_every_entry_point_reads_a_spelling_as_the_same_country(
    app: Flask, typed: str, code: str
) -> None:
    with app.test_request_context():
        read = {name: read_country(typed) for name, read_country in ENTRY_POINTS.items()}
    assert read == dict.fromkeys(ENTRY_POINTS, code)
    assert country_code(typed) == code


@pytest.mark.parametrize("typed", ["Atlantis", "ZZ", "123", "!!"])
def test_every_entry_point_refuses_an_unknown_country_with_its_message(
    app: Flask, typed: str
) -> None:
    messages = {}
    fields = {}
    with app.test_request_context():
        for name, read_country in ENTRY_POINTS.items():
            with pytest.raises(DomainError) as refused:
                read_country(typed)
            messages[name], fields[name] = refused.value.message, refused.value.field
    assert messages["person"].startswith(f"Unknown country “{typed}”: enter a country name")
    assert messages["import"] == messages["person"]
    assert messages["programme"].startswith(f"Unknown country: {typed}. Enter ISO 3166 codes")
    assert fields == {"person": "country", "import": "country", "programme": "target_countries"}
    assert country_code(typed) is None


def test_names_and_choices_include_kosovo() -> None:
    assert country_names()["XK"] == "Kosovo"
    assert country_name("kr") == "South Korea"
    assert country_name("QQ") == "QQ"
    choices = country_choices()
    assert ("XK", "Kosovo") in choices
    assert [name for _, name in choices] == sorted((name for _, name in choices), key=country_key)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("  The  Gambia ", "gambia"),
        ("Côte d’Ivoire", "cote d ivoire"),
        ("Korea, Republic of", "korea republic of"),
        ("Guinea-Bissau", "guinea bissau"),
        ("Ｔｕｒｋｅｙ", "turkey"),  # full-width letters, NFKC
        ("", ""),
    ],
)
def test_country_key_folds_case_script_and_punctuation(text: str, key: str) -> None:
    assert country_key(text) == key


def test_target_countries_text_is_still_split_into_entries() -> None:
    assert normalise_countries("Азербайджан; Kosovo, England\nkirghizia") == [
        "AZ",
        "XK",
        "GB",
        "KG",
    ]
