"""Reading spreadsheets: encodings, delimiters, header rows, sheets, and header recognition."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask

from tests.conftest import DATA
from trainingmgr.imports.mapping import auto_mapping, guess_field, mapping_problems
from trainingmgr.imports.parsing import ImportFileError, decode_text, detect_delimiter, read_table

HEADER = ["First name", "Last name", "Email", "Sex", "Country"]


@pytest.fixture(autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def xlsx(*sheets: tuple[str, list[list[Any]]], active: int = 0) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        ws = workbook.create_sheet(title)
        for row in rows:
            ws.append(row)
    workbook.active = active
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the sample files ---------------------------------------------------------------------


def test_rtcm_rollout_csv_keeps_every_script() -> None:
    table = read_table((DATA / "participants_rtcm_rollout.csv").read_bytes(), "rtcm.csv")
    assert (table.kind, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.headers[:3] == ["First name", "Last name", "Email"]
    assert len(table.rows) == 35
    names = {row.cells[0] + " " + row.cells[1] for row in table.rows}
    assert {
        "Ləman Əliyeva",
        "Şükrü Yılmaz",
        "Иван Петров",
        "ნინო ბერიძე",
        "Ҷамшед Қодиров",
    } <= names
    assert table.rows[0].line == 2


def test_cp1251_file_comes_out_as_cyrillic() -> None:
    table = read_table((DATA / "participants_cp1251.csv").read_bytes(), "people.csv")
    assert table.encoding == "cp1251"
    assert [r.cells[:2] for r in table.rows] == [
        ("Иван", "Петров"),
        ("Ольга", "Смирнова"),
        ("Олена", "Коваленко"),
        ("Нурлан", "Жээнбеков"),
    ]


def test_semicolon_file_with_bom_and_crlf() -> None:
    table = read_table((DATA / "participants_semicolon_bom.csv").read_bytes(), "list.csv")
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ";")
    assert table.headers[0] == "First name"  # no BOM left in the first header
    assert len(table.rows) == 15
    assert table.rows[0].cells[:3] == ("Ləman", "Əliyeva", "lman.liyeva1@example.org")


def test_mmpaf_workbook() -> None:
    table = read_table((DATA / "participants_mmpaf.xlsx").read_bytes(), "mmpaf.xlsx")
    assert (table.kind, table.sheet, table.sheets) == ("xlsx", "Participants", ["Participants"])
    assert len(table.rows) == 120
    assert table.rows[0].cells[:2] == ("Ləman", "Əliyeva")
    assert table.rows[-1].cells[:2] == ("Ґанна", "Коваленко")
    assert table.rows[-1].line == 121


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "The file is empty."),
        ("header_only.csv", "but no participants below it"),
        ("not_really.xlsx", "it is not an Excel workbook"),
    ],
)
def test_unreadable_broken_files_get_a_clear_message(name: str, message: str) -> None:
    with pytest.raises(ImportFileError) as info:
        read_table((DATA / "broken" / name).read_bytes(), name)
    assert message in info.value.message
    assert info.value.field == "file"


@pytest.mark.parametrize(
    "name",
    ["bad_values.csv", "duplicate_emails.csv", "formula_injection.csv", "missing_email_column.csv"],
)
def test_readable_broken_files_are_read_as_they_are(name: str) -> None:
    """Their problems are in the values: the parser reads them, the validation judges them."""
    table = read_table((DATA / "broken" / name).read_bytes(), name)
    assert table.rows and table.headers[0] == "First name"


def test_formula_cells_are_read_verbatim() -> None:
    table = read_table((DATA / "broken" / "formula_injection.csv").read_bytes(), "f.csv")
    assert table.rows[0].cells[0] == '=HYPERLINK("http://evil.example/","click")'
    assert table.rows[3].cells[1] == "-2+3"


# --- encodings ----------------------------------------------------------------------------

ROWS = {
    "cp1254": "Şükrü,Yılmaz\nAyşe,Çelik\nÖmer,Doğan\nİrem,Şahin\nTural,Qasımov\n",
    "cp1252": "Zoë,Müller-Lüdenscheidt\nJosé,García\nFrançois,Lefèvre\nÄsel,Nurlanova\n",
    "cp1251": "Иван,Петров\nОльга,Смирнова\nЮрій,Шевченко\nНурлан,Жээнбеков\n",
}


@pytest.mark.parametrize("encoding", sorted(ROWS))
def test_legacy_code_pages_are_detected(encoding: str) -> None:
    text = "First name,Last name\n" + ROWS[encoding]
    decoded, found = decode_text(text.encode(encoding))
    assert (decoded, found) == (text, encoding)
    table = read_table(text.encode(encoding), "x.csv")
    assert table.rows[0].cells == tuple(ROWS[encoding].split("\n")[0].split(","))


def test_a_single_turkish_name_is_enough_to_choose_cp1254() -> None:
    assert decode_text("a,b\nAğa,Şen\n".encode("cp1254"))[1] == "cp1254"


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_utf16_unicode_text_from_excel(bom: bytes) -> None:
    """Excel's "Unicode text": UTF-16 with a BOM, tab separated."""
    text = "First name\tLast name\tEmail\nЛəman\tƏliyeva\tl@example.org\n"
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    table = read_table(bom + text.encode(codec), "unicode.txt")
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows[0].cells == ("Лəman", "Əliyeva", "l@example.org")


def test_damaged_utf8_after_a_bom_is_refused() -> None:
    with pytest.raises(ImportFileError, match="damaged"):
        read_table(codecs.BOM_UTF8 + b"First name,Last name\n\xff\xfe\xfd,x\n", "x.csv")


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2;3\n", ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        # commas inside the values of a semicolon file do not fool the detection
        ("Name;Organisation;Email\nA;Ministry of Labour, Social Protection;a@x.org\n", ";"),
        ('Name,Organisation\nA,"Ministry; Labour"\nB,"Agency; Border"\n', ","),
    ],
)
def test_delimiter_detection(text: str, delimiter: str) -> None:
    assert detect_delimiter(text) == delimiter


def test_binary_data_is_not_taken_for_text() -> None:
    with pytest.raises(ImportFileError, match="binary data"):
        read_table(b"\x00\x01\x02First name,Last name\x00\x00\x03\x04" * 20, "x.csv")


def test_old_xls_files_are_explained() -> None:
    with pytest.raises(ImportFileError, match=r"old Excel file \(\.xls\)"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "list.xls")


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    out = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(ImportFileError, match="could not be read as an Excel workbook"):
        read_table(out.getvalue(), "list.xlsx")


# --- header rows, blank rows, sheets ------------------------------------------------------


def test_title_and_blank_rows_above_the_header_are_skipped_in_csv() -> None:
    text = (
        "Participants of the MMPAF course 2,,,\n"
        ",,,\n"
        "\n"
        "First name,Last name,Email,Sex\n"
        "Ləman,Əliyeva,l@example.org,F\n"
        ",,,\n"
        "İlkin,Ağayev,i@example.org,M\n"
    )
    table = read_table(text.encode(), "x.csv")
    assert table.header_line == 4
    assert table.headers == ["First name", "Last name", "Email", "Sex"]
    assert [(r.line, r.cells[0]) for r in table.rows] == [(5, "Ləman"), (7, "İlkin")]


def test_title_row_and_blank_rows_in_a_workbook_and_the_sheet_choice() -> None:
    data = xlsx(
        ("Notes", [["Read me"]]),
        (
            "List",
            [
                ["Moving the Migration Policy Agenda Forward: participants"],
                [None],
                [],
                HEADER,
                ["Ləman", "Əliyeva", "l@example.org", "F", "AZ"],
                [None, None, None],
                ["Иван", "Петров", "i@example.org", "M", "BY"],
            ],
        ),
        active=1,
    )
    table = read_table(data, "list.xlsx")
    assert (table.sheet, table.sheets) == ("List", ["Notes", "List"])
    assert table.header_line == 4
    assert [(r.line, r.cells[0]) for r in table.rows] == [(5, "Ləman"), (7, "Иван")]
    with pytest.raises(ImportFileError, match="No header row"):
        read_table(data, "list.xlsx", sheet="Notes")
    with pytest.raises(ImportFileError, match="no sheet named Missing"):
        read_table(data, "list.xlsx", sheet="Missing")


def test_an_empty_active_sheet_falls_back_to_the_first_with_data() -> None:
    data = xlsx(("Empty", []), ("Data", [HEADER, ["A", "B", "a@example.org", "F", "AZ"]]))
    assert read_table(data, "x.xlsx").sheet == "Data"


def test_workbook_cell_types_become_text() -> None:
    data = xlsx(
        (
            "S",
            [
                [*HEADER, "Phone", "Born", "Since", "Ok"],
                ["A", "B", "a@example.org", "F", "AZ", 994501234567, date(1990, 5, 1), 2.5, True],
                [
                    "C",
                    "D",
                    "c@example.org",
                    "M",
                    "AZ",
                    "=A3&B3",
                    datetime(2020, 1, 2, 3, 4),
                    7,
                    None,
                ],
            ],
        )
    )
    table = read_table(data, "x.xlsx")
    assert table.rows[0].cells[5:] == ("994501234567", "1990-05-01", "2.5", "TRUE")
    # A formula is read as its text, so the validation can refuse it.
    assert table.rows[1].cells[5:8] == ("=A3&B3", "2020-01-02T03:04:00", "7")


def test_spaces_are_tidied_and_invisible_characters_removed() -> None:
    text = "First name,Last name\n  Ləman\u00a0 ,\ufeffƏli\u200byeva\n"
    table = read_table(text.encode(), "x.csv")
    assert table.rows[0].cells == ("Ləman", "Əliyeva")


def test_decomposed_letters_are_composed() -> None:
    text = "First name,Last name\nZoe\u0308,Mu\u0308ller\n"
    assert read_table(text.encode(), "x.csv").rows[0].cells == ("Zoë", "Müller")


def test_too_many_rows_are_refused() -> None:
    from trainingmgr.imports import parsing

    text = "First name,Last name\n" + "A,B\n" * (parsing.MAX_ROWS + 1)
    with pytest.raises(ImportFileError, match="more than"):
        read_table(text.encode(), "x.csv")


def test_a_file_without_any_table_is_refused() -> None:
    with pytest.raises(ImportFileError, match="No header row"):
        read_table(b"just one line of text\n", "x.csv")


# --- header recognition -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("First name", "first_name"),
        ("Given names", "first_name"),
        ("FORENAME *", "first_name"),
        ("Имя", "first_name"),
        ("Surname", "last_name"),
        ("Family name", "last_name"),
        ("Фамилия", "last_name"),
        ("Soyadı", "last_name"),
        ("E-mail", "email"),
        ("Email address", "email"),
        ("E-poçt", "email"),
        ("Gender", "sex"),
        ("Пол", "sex"),
        ("Nationality", "country"),
        ("Ölkə", "country"),
        ("Institution", "organisation"),
        ("Organization", "organisation"),
        ("Job title", "position"),
        ("Должность", "position"),
        ("Mobile", "phone"),
        ("Telephone number", "phone"),
        ("Name in Latin script", "name_latin"),
        ("Favourite colour", None),
        ("", None),
    ],
)
def test_common_headers_are_recognised(header: str, field: str | None) -> None:
    assert guess_field(header) == field


def test_auto_mapping_prefers_exact_headers_and_uses_each_field_once() -> None:
    headers = ["No.", "Name", "Surname", "E-mail", "Email address", "First name", "Notes"]
    assert auto_mapping(headers) == [
        None,
        None,  # "Name" only counts when there is no better first-name column
        "last_name",
        "email",
        None,  # e-mail already taken by the column before
        "first_name",
        None,
    ]
    assert auto_mapping(["Name", "Surname", "Email"]) == ["first_name", "last_name", "email"]


def test_mapping_problems_name_the_missing_and_repeated_fields() -> None:
    assert mapping_problems(["first_name", "last_name", "email"]) == []
    problems = mapping_problems(["first_name", "first_name", None])
    assert any("Last name" in p for p in problems)
    assert any("E-mail" in p for p in problems)
    assert any("more than one column" in p for p in problems)
