"""Property-based tests of the import parser and row validation (Hypothesis).

Whatever bytes or text arrive, the parser either returns a table or raises its own
``ImportFileError``: never anything else. Tables written by a spreadsheet program (here the
csv module and openpyxl) come back cell for cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator

import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from trainingmgr.imports import services
from trainingmgr.imports.mapping import HEADERS
from trainingmgr.imports.parsing import (
    ImportFileError,
    SourceRow,
    Table,
    cell_text,
    read_table,
)
from trainingmgr.imports.validation import (
    FORMULA_START,
    NameIndex,
    Verdict,
    clean_row,
    judge,
    unquote,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILENAMES = st.sampled_from(["people.csv", "people.xlsx", "people.txt", "people", "P.XLSX"])
HEADER = list(HEADERS.values())
MAPPING = list(HEADERS)


@pytest.fixture(scope="module", autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def parse_or_refuse(data: bytes, filename: str) -> Table | None:
    """The table, or None when refused with ImportFileError (any other exception fails)."""
    try:
        table = read_table(data, filename)
    except ImportFileError as exc:
        assert exc.message and exc.field == "file"
        return None
    for row in table.rows:
        assert len(row.cells) == len(table.headers)
        assert all(isinstance(c, str) for c in row.cells)
    return table


@SETTINGS
@given(data=st.binary(max_size=4096), filename=FILENAMES)
def test_random_bytes_are_read_or_refused(data: bytes, filename: str) -> None:
    parse_or_refuse(data, filename)


@SETTINGS
@given(
    magic=st.sampled_from(
        [b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]
    ),
    data=st.binary(max_size=2048),
    filename=FILENAMES,
)
def test_random_bytes_behind_a_known_signature_are_read_or_refused(
    magic: bytes, data: bytes, filename: str
) -> None:
    parse_or_refuse(magic + data, filename)


@SETTINGS
@given(
    text=st.text(max_size=2000),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "cp1252", "cp1254"]),
    filename=FILENAMES,
)
def test_random_text_in_any_encoding_is_read_or_refused(
    text: str, encoding: str, filename: str
) -> None:
    parse_or_refuse(text.encode(encoding, errors="replace"), filename)


@SETTINGS
@given(
    rows=st.lists(st.lists(st.text(max_size=30), max_size=10), max_size=30),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_random_csv_tables_are_read_or_refused(rows: list[list[str]], delimiter: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    parse_or_refuse(out.getvalue().encode(), "x.csv")


# --- what goes in comes out ---------------------------------------------------------------

LETTERS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "əƏğĞıİşŞçÇöÖüÜабвгджзийклмнопрстуфхцчшщыьэюяЖЩЮЯҶқ"
)
CELL = st.text(alphabet=LETTERS + " -'.,;\"\t", min_size=0, max_size=20)
FIRST = st.text(alphabet=LETTERS, min_size=1, max_size=15)


def expected(cell: str) -> str:
    return " ".join(cell.split())


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(FIRST, *(CELL for _ in range(len(HEADER) - 1))), min_size=1, max_size=20
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_csv_written_by_a_spreadsheet_comes_back_cell_for_cell(
    rows: list[tuple[str, ...]], delimiter: str, encoding: str
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(HEADER)
    writer.writerows(rows)
    table = read_table(out.getvalue().encode(encoding), "x.csv")
    assert table.delimiter == delimiter
    assert table.headers == HEADER
    assert [r.cells for r in table.rows] == [tuple(expected(c) for c in row) for row in rows]


def _reads_as_letters(text: str) -> bool:
    """Letters, and combining marks on letters, beyond ASCII: what a name in UTF-8 reads."""
    previous = " "
    for ch in text:
        mark_on_letter = unicodedata.category(ch) == "Mn" and (
            previous.isalpha() or unicodedata.category(previous) == "Mn"
        )
        if ch > "\x7f" and not (ch.isalpha() or mark_on_letter):
            return False
        previous = ch if ch.isalpha() or mark_on_letter else " "
    return True


CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯіїєґІЇЄҐ"


@SETTINGS
@given(
    names=st.lists(
        st.tuples(
            st.text(alphabet=CYRILLIC, min_size=2, max_size=12),
            st.text(alphabet=CYRILLIC + "-", min_size=1, max_size=15).filter(
                lambda s: s.strip("-")
            ),
        ),
        min_size=1,
        max_size=10,
    )
)
@example(names=[("ВЁ", "ВЁ")])  # its cp1251 bytes are valid UTF-8 too ("¨")
@example(names=[("МЁ", "МЁ")])  # valid UTF-8 too: a combining ogonek on nothing
@example(names=[("ЁЁ", "Ё"), ("ВЁ", "ВЁ")])
def test_cyrillic_lists_saved_in_cp1251_come_back_as_cyrillic(
    names: list[tuple[str, str]],
) -> None:
    """Names of two letters or more: a lone letter reads as well in any code page. Bytes
    that are also UTF-8 letters ("ГЁ" is "è" in UTF-8) are read as UTF-8, by design."""
    for first, last in names:
        for name in (first, last):
            try:
                as_utf8 = name.encode("cp1251").decode("utf-8")
            except UnicodeDecodeError:
                continue
            assume(not _reads_as_letters(as_utf8))
    text = "First name,Last name,Email\n" + "".join(
        f"{first},{last},p{n}@example.org\n" for n, (first, last) in enumerate(names)
    )
    table = read_table(text.encode("cp1251"), "x.csv")
    assert table.encoding == "cp1251"
    assert [r.cells[:2] for r in table.rows] == names


SAFE_TEXT = st.text(alphabet=LETTERS + " -'.", min_size=1, max_size=20).filter(
    lambda s: expected(s) and not expected(s).startswith(FORMULA_START) and expected(s)[0] != "'"
)


@SETTINGS
@given(
    people=st.lists(
        st.tuples(
            SAFE_TEXT,
            SAFE_TEXT,
            st.sampled_from(["female", "male", "other", "undisclosed", ""]),
            st.sampled_from(["AZ", "TR", "BY", "GE", ""]),
            SAFE_TEXT,
            st.from_regex(r"\+[0-9]{3} [0-9]{2} [0-9]{3}", fullmatch=True),
        ),
        min_size=1,
        max_size=15,
    ),
    fmt=st.sampled_from(["csv", "xlsx"]),
)
def test_exported_sheets_import_to_the_same_values(people: list[tuple], fmt: str) -> None:
    rows = [
        [first, last, f"p{n}@example.org", sex, country, organisation, None, phone, None]
        for n, (first, last, sex, country, organisation, phone) in enumerate(people)
    ]
    body = services.render(services.Sheet("People", HEADER, rows), fmt)
    table = read_table(body, f"people.{fmt}")
    assert table.headers == HEADER
    for source, written in zip(rows, table.rows, strict=True):
        result = clean_row(written, MAPPING)
        assert result.errors == []
        assert result.values["first_name"] == expected(source[0])
        assert result.values["last_name"] == expected(source[1])
        assert result.values["phone"] == source[7]
        assert (result.values["sex"].value if "sex" in result.values else "") == source[3]
        assert result.values.get("country", "") == source[4]


@SETTINGS
@given(value=st.text(max_size=40))
def test_neutralised_cells_never_start_a_formula_and_unquote_undoes_it(value: str) -> None:
    safe = services.neutralise(value)
    assert not safe.startswith(FORMULA_START)
    if value[:1] in ("=", "+", "-", "@"):
        assert unquote(safe) == value


@SETTINGS
@given(
    cells=st.lists(st.lists(st.text(max_size=40), min_size=9, max_size=9), max_size=15),
    mapping=st.lists(st.sampled_from([*MAPPING, None]), min_size=9, max_size=9),
)
def test_validation_judges_any_cells_without_raising(
    cells: list[list[str]], mapping: list[str | None]
) -> None:
    rows = [
        clean_row(SourceRow(n + 2, tuple(cell_text(c) for c in r)), mapping)
        for n, r in enumerate(cells)
    ]
    results = judge(rows, {}, NameIndex([]), None)
    assert len(results) == len(rows)
    for result in results:
        assert isinstance(result.verdict, Verdict)
        if result.verdict is Verdict.ERROR:
            assert result.messages and all(isinstance(m, str) for m in result.messages)
