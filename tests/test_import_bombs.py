"""Hostile and oversized spreadsheets are refused quickly, reading little, holding little.

A small file must not be able to take a worker down: a ZIP that unpacks into gigabytes, a
sheet of millions of empty rows, a huge shared-strings table, an enormous cell. Costs are
checked by what the parser reads (declared sizes, rows scanned), not by timing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from flask import Flask

from trainingmgr.imports import parsing
from trainingmgr.imports.parsing import ImportFileError, read_table


@pytest.fixture(autouse=True)
def _context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def workbook(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_sheet_rows(base: bytes, chunks: Iterator[str]) -> bytes:
    """``base`` with the rows of its first sheet replaced by the XML of ``chunks`` (streamed
    into the archive, so a test can build a 120 MB sheet without holding it)."""
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, data)
                continue
            head, tail = re.split(rb"<sheetData>.*</sheetData>|<sheetData/>", data, maxsplit=1)
            with target.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b"<sheetData>")
                for chunk in chunks:
                    sheet.write(chunk.encode())
                sheet.write(b"</sheetData>" + tail)
    return out.getvalue()


HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>First name</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>Last name</t></is></c></row>'
)


def empty_rows(count: int) -> Iterator[str]:
    """A header, then ``count`` empty ``<row/>`` elements (they compress about 1,000 times)."""
    yield HEADER
    step = 1_000_000
    for start in range(0, count, step):
        yield "<row/>" * min(step, count - start)


def test_a_small_file_that_unpacks_to_gigabytes_is_refused_before_it_is_unpacked() -> None:
    """The measured attack: a header, then 20,000,000 empty rows (about 170 KB packed)."""
    bomb = with_sheet_rows(workbook([["First name"]]), empty_rows(20_000_000))
    assert len(bomb) < 2_000_000

    with pytest.raises(ImportFileError, match="unpacks to more than 60 MB"):
        read_table(bomb, "bomb.xlsx")


def test_millions_of_empty_rows_within_the_size_limit_are_not_all_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanned = 0
    original = parsing._sheet_rows

    def counting(ws: Any) -> Iterator[Any]:
        nonlocal scanned
        for row in original(ws):
            scanned += 1
            yield row

    monkeypatch.setattr(parsing, "_sheet_rows", counting)
    blank = with_sheet_rows(workbook([["x"]]), empty_rows(2_000_000))

    with pytest.raises(ImportFileError, match="no participants below it"):
        read_table(blank, "blank.xlsx")
    assert scanned <= parsing.BLANK_RUN_LIMIT + 2  # stopped early, not 2,000,000 rows


def test_a_real_sheet_formatted_down_to_the_last_row_is_read() -> None:
    rows = [["First name", "Last name", "Email"], ["Ləman", "Əliyeva", "leman@example.org"]]
    data = workbook(rows)
    data = with_sheet_rows(
        data,
        iter(
            [
                '<row r="1"><c r="A1" t="inlineStr"><is><t>First name</t></is></c>'
                '<c r="B1" t="inlineStr"><is><t>Last name</t></is></c>'
                '<c r="C1" t="inlineStr"><is><t>Email</t></is></c></row>'
                '<row r="2"><c r="A2" t="inlineStr"><is><t>Ləman</t></is></c>'
                '<c r="B2" t="inlineStr"><is><t>Əliyeva</t></is></c>'
                '<c r="C2" t="inlineStr"><is><t>leman@example.org</t></is></c></row>',
                "".join(f'<row r="{r}" s="1" customFormat="1"/>' for r in range(3, 200_001)),
            ]
        ),
    )

    table = read_table(data, "formatted.xlsx")

    assert [row.cells for row in table.rows] == [("Ləman", "Əliyeva", "leman@example.org")]


def test_a_huge_shared_strings_table_is_refused() -> None:
    base = workbook([["First name", "Last name"], ["A", "B"]])
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        with target.open("xl/sharedStrings.xml", "w") as strings:
            strings.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            for _ in range(20):
                strings.write(b"<si><t/></si>" * 100_000)
            strings.write(b"</sst>")

    with pytest.raises(ImportFileError, match="unpacks to more than"):
        read_table(out.getvalue(), "strings.xlsx")


def test_an_enormous_cell_is_refused_with_its_row() -> None:
    data = workbook([["First name", "Last name"], ["Ann", "B" * (parsing.MAX_CELL_CHARS + 1)]])
    with pytest.raises(ImportFileError, match="Row 2 has a cell of more than 2000 characters"):
        read_table(data, "cell.xlsx")


def test_a_csv_of_millions_of_blank_lines_is_refused_quickly() -> None:
    data = b"First name,Last name\n" + b"\n" * 5_000_000 + b"Ann,Smith\n"
    # The participant after five million blank lines is not looked for: the file is treated
    # as a header with nobody below it, and said so.
    with pytest.raises(ImportFileError, match="no participants below it"):
        read_table(data, "blank.csv")


def test_too_many_columns_with_values_are_refused_but_empty_ones_are_ignored() -> None:
    wide = [["First name", "Last name"] + [""] * 200, ["Ann", "Smith"] + [None] * 200]
    assert read_table(workbook(wide), "wide.xlsx").rows[0].cells[:2] == ("Ann", "Smith")
    filled = [["First name", "Last name"], ["Ann", "Smith"] + ["x"] * 150]
    with pytest.raises(ImportFileError, match="Row 2 has more than 100 columns"):
        read_table(workbook(filled), "filled.xlsx")


# --- mixed encodings -----------------------------------------------------------------------


def test_a_csv_mixing_utf8_and_legacy_rows_is_refused_with_the_rows() -> None:
    data = (
        b"First name,Last name\n"
        + "Ləman,Əliyeva\n".encode()
        + "Иван,Петров\n".encode("cp1251")
        + "Gül,Şahin\n".encode("cp1254")
    )
    with pytest.raises(ImportFileError, match=r"mixes text encodings.*: row 2 is not written"):
        read_table(data, "mixed.csv")


def test_a_csv_mixing_two_code_pages_is_refused_with_the_rows() -> None:
    data = (
        b"First name,Last name\n"
        + "Иван,Петров\n".encode("cp1251")
        + "Ольга,Смирнова\n".encode("cp1251")
        + "Gül,Şahin\n".encode("cp1254")
    )
    with pytest.raises(ImportFileError, match="row 4 is not written"):
        read_table(data, "mixed.csv")


@pytest.mark.parametrize("encoding", ["cp1251", "cp1254", "cp1252", "utf-8"])
def test_a_csv_in_one_encoding_is_still_read(encoding: str) -> None:
    names = {
        "cp1251": ("Иван", "Петров"),
        "cp1254": ("Şükrü", "Yılmaz"),
        "cp1252": ("Zoë", "Müller"),
        "utf-8": ("Ləman", "Əliyeva"),
    }[encoding]
    data = ("First name,Last name\nAnn,Smith\n" + ",".join(names) + "\n").encode(encoding)
    assert read_table(data, "one.csv").rows[1].cells == names
