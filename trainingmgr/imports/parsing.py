"""Reading an uploaded CSV or XLSX file into rows of text.

CSV files come in UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode
text") or a legacy Windows code page: 1251 (Cyrillic), 1252 (Western) or 1254 (Turkish).
The code page is chosen by how plausible each decoding looks (see ``decode_text``). The
delimiter is a comma, a semicolon or a tab, whichever splits the rows most consistently.
In both CSV and XLSX files, blank rows and a title above the header row are skipped: the
header row is the first that names at least two known columns.

Anything the parser cannot read raises ``ImportFileError`` with a message for the user;
no other exception escapes ``read_table`` (tested with random bytes and text).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from trainingmgr.core.errors import DomainError
from trainingmgr.core.text import INVISIBLE
from trainingmgr.imports.mapping import recognised_count

MAX_ROWS = 20_000
MAX_COLUMNS = 100
MAX_CELL_CHARS = 2_000  # a name, an address, a note: never a page of text
# Rows are read one at a time and never all kept: reading stops after this many blank rows
# in a row (a sheet formatted down to row 1,048,576, or a crafted file of millions of empty
# rows), and at this many rows in all, blank ones included.
BLANK_RUN_LIMIT = 2_000
MAX_SCANNED_ROWS = MAX_ROWS + 10_000
# An XLSX file is a ZIP archive of XML: its declared sizes are checked before anything is
# unpacked (Python's zipfile never inflates past a member's declared size), so a small file
# cannot unpack into gigabytes.
MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024  # every shared string is held in memory
MAX_ARCHIVE_MEMBERS = 500
# The header row is looked for among the first rows that are not blank.
HEADER_SEARCH_ROWS = 30
# Legacy code pages considered when a CSV file is not UTF-8, in order of preference on a tie.
LEGACY_ENCODINGS = ("cp1252", "cp1254", "cp1251")
DELIMITERS = (",", ";", "\t")
_SAMPLE_CHARS = 64_000

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and .doc)
_ZIP_MAGIC = b"PK\x03\x04"


class ImportFileError(DomainError):
    """The uploaded file cannot be read as a table of participants."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "file")


@dataclass(frozen=True)
class SourceRow:
    """One data row: its row number as a spreadsheet shows it, and its cells as text."""

    line: int
    cells: tuple[str, ...]


@dataclass
class Table:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: list[SourceRow]
    header_line: int
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)


# Told the number of rows read so far, every ``PROGRESS_EVERY`` rows (the worker's progress).
Progress = Callable[[int], None]
PROGRESS_EVERY = 1000


def read_table(
    data: bytes, filename: str = "", sheet: str | None = None, progress: Progress | None = None
) -> Table:
    """Read ``data`` (the uploaded bytes) as a CSV or XLSX table; ``sheet`` picks an XLSX sheet.

    The kind is decided by the content (an XLSX file is a ZIP archive), not only the name.
    ``progress``, when given, is told how many rows were read, now and then.
    """
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, sheet, progress)
    if data.startswith(_OLE2_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel file (.xls). Open it in Excel and save it as an Excel "
                "workbook (.xlsx) or as CSV, then upload it again."
            )
        )
    if suffix in (".xlsx", ".xlsm"):
        raise ImportFileError(
            _(
                "The file is named %(name)s but it is not an Excel workbook: it may be damaged "
                "or renamed. Open it in Excel and save it as .xlsx or CSV.",
                name=PurePath(filename).name,
            )
        )
    return _read_csv(data, progress)


# --- text files ---------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are taken as they are. Otherwise each
    legacy code page is tried and the most plausible decoding wins (``_plausibility``).
    """
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16"), "utf-16"
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _(
                "The file says it is Unicode text but it is damaged. Save it again as "
                '"CSV UTF-8" and upload it again.'
            )
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        _refuse_mixed_unicode(data)
    else:
        if _is_utf8(data):
            return text, "utf-8"
        # Valid UTF-8 by chance: "ВЁ" saved in cp1251 reads "¨" as UTF-8. Only a code page
        # in which every character beyond ASCII is a letter is preferred to it.
    best: tuple[float, int, str, str] | None = None
    for rank, encoding in enumerate(LEGACY_ENCODINGS):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        candidate = (_plausibility(text, encoding), -rank, text, encoding)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:  # not text in any code page we know: let the binary check refuse it
        return data.decode("latin-1"), "latin-1"
    _refuse_mixed_code_pages(data, best[3])
    return best[2], best[3]


def _letters_beyond_ascii(text: str) -> bool:
    """Whether every character beyond ASCII is a letter, or a combining mark on a letter
    (names are). A mark on nothing is not a name: a cp1251 "МЁ" is valid UTF-8 but reads
    as a lone combining ogonek."""
    on_letter = False  # the character before is a letter, or a mark on one
    for ch in text:
        if ch.isalpha():
            on_letter = True
        elif ch <= "\x7f":
            on_letter = False
        elif not (on_letter and unicodedata.category(ch) == "Mn"):
            return False
    return True


def _legacy_reads_letters(data: bytes) -> bool:
    """Whether some legacy code page reads every byte beyond ASCII as a letter."""
    for encoding in LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _letters_beyond_ascii(text):
            return True
    return False


def _mixed_encodings(rows: list[int]) -> ImportFileError:
    shown = ", ".join(str(n) for n in rows[:10]) + (" …" if len(rows) > 10 else "")
    return ImportFileError(
        ngettext(
            "The file mixes text encodings, so some names would be imported garbled: row "
            "%(rows)s is not written like the rest of the file. This happens when lists "
            'from different computers are pasted together. Open it, save it as "CSV UTF-8", '
            "check the names in this row, and upload it again.",
            "The file mixes text encodings, so some names would be imported garbled: rows "
            "%(rows)s are not written like the rest of the file. This happens when lists "
            'from different computers are pasted together. Open it, save it as "CSV UTF-8", '
            "check the names in these rows, and upload it again.",
            len(rows),
            rows=shown,
        )
    )


def _non_ascii_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(line number, bytes) of each line with non-ASCII bytes (line numbers as an editor
    counts them; a quoted cell across lines is rare in lists of names)."""
    return [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if not line.isascii()]


def _is_utf8(line: bytes) -> bool:
    """Whether a line is written in UTF-8: it decodes, and not only by chance (a cp1251
    "ВЁ" is valid UTF-8 but reads "¨", where cp1251 reads letters)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _letters_beyond_ascii(text) or not _legacy_reads_letters(line)


def _refuse_mixed_unicode(data: bytes) -> None:
    """A file that is not UTF-8 as a whole but has UTF-8 lines mixes two encodings."""
    lines = _non_ascii_lines(data)
    utf8 = [n for n, line in lines if _is_utf8(line)]
    other = [n for n, line in lines if not _is_utf8(line)]
    if utf8 and other:
        raise _mixed_encodings(other if len(other) <= len(utf8) else utf8)


def _refuse_mixed_code_pages(data: bytes, chosen: str) -> None:
    """Refuse a file where some lines read plausibly only in another code page than the one
    chosen for the file (a cp1251 row among cp1254 ones reads "Gьl Юahin")."""
    odd = []
    for number, line in _non_ascii_lines(data):
        scores = {}
        for encoding in LEGACY_ENCODINGS:
            try:
                scores[encoding] = _plausibility(line.decode(encoding), encoding)
            except UnicodeDecodeError:
                continue
        if chosen in scores and scores[chosen] < 0 < max(scores.values()):
            odd.append(number)
    if odd:
        raise _mixed_encodings(odd)


_LETTERS = re.compile(r"[^\W\d_]+")
# Letters that occur in cp1252 text only in Icelandic/Faroese: the same bytes are the
# Turkish ğ ş ı İ Ş Ğ in cp1254.
_ICELANDIC = set("ðþýÝÞÐ")
# Punctuation that legacy code pages hold and real text uses.
_COMMON_SYMBOLS = set("–—‘’‚“”„…«»•€№§°·\u00a0™©®")


def _char_class(ch: str) -> str:
    if ch.isascii():
        return "ascii"
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    return "other"


def _plausibility(text: str, encoding: str) -> float:
    """How much ``text`` looks like real names and words (higher is better).

    A word of Cyrillic letters is plausible; a word mixing Cyrillic and Latin letters, or a
    word of accented Latin letters only ("Èâàí", which is "Иван" read as cp1252), is not.
    Odd symbols (× ÷ ¤ ¦) count against a decoding.
    """
    sample = text[:_SAMPLE_CHARS]
    score = 0.0
    for word in _LETTERS.findall(sample):
        if word.isascii() or len(word) == 1:  # a lone letter says nothing either way
            continue
        classes = Counter(_char_class(ch) for ch in word)
        if classes["other"]:
            score -= len(word)
        elif classes["cyrillic"]:
            score += len(word) if len(classes) == 1 else -len(word)
        elif classes["ascii"]:
            score += classes["latin"]
        else:
            score -= len(word)
        if encoding == "cp1252":
            score -= 2 * sum(1 for ch in word if ch in _ICELANDIC)
    for ch in sample:
        if not ch.isascii() and not ch.isalpha() and ch not in _COMMON_SYMBOLS:
            score -= 2
    return score


def _looks_binary(text: str) -> bool:
    sample = text[:_SAMPLE_CHARS]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    return "\x00" in sample or controls > max(2, len(sample) // 200)


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first rows into the most consistent number of columns."""
    sample = text[:_SAMPLE_CHARS]
    best: tuple[int, int, int] = (0, 0, 0)
    chosen = ","
    for rank, delimiter in enumerate(DELIMITERS):
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            widths = [
                len(row) for row in itertools.islice(reader, 60) if any(c.strip() for c in row)
            ]
        except csv.Error:
            continue
        counts = Counter(w for w in widths if w > 1)
        if not counts:
            continue
        width, frequency = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (frequency, width, -rank)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _read_csv(data: bytes, progress: Progress | None = None) -> Table:
    text, encoding = decode_text(data)
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    if _looks_binary(text):
        raise ImportFileError(
            _(
                "This file is not a spreadsheet: it contains binary data. Upload a CSV file or "
                "an Excel workbook (.xlsx)."
            )
        )
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = _numbered(enumerate(reader, start=1), progress)
    except csv.Error as exc:
        raise ImportFileError(
            _("The file could not be read as CSV (%(reason)s).", reason=str(exc))
        ) from exc
    table = _build_table("csv", rows)
    table.encoding = encoding
    table.delimiter = delimiter
    return table


# --- Excel workbooks ----------------------------------------------------------------------


def _unreadable_workbook() -> ImportFileError:
    return ImportFileError(
        _(
            "This file could not be read as an Excel workbook (.xlsx): it may be damaged, "
            "protected by a password, or another kind of file. Save it again as .xlsx or CSV."
        )
    )


def check_archive(data: bytes) -> None:
    """Refuse a workbook that would unpack into more than the limits allow, before unpacking.

    The sizes checked are the ones the archive declares; zipfile stops inflating a member at
    its declared size, so they bound what reading the workbook can cost.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _unreadable_workbook() from exc
    too_big = ImportFileError(
        _(
            "This workbook unpacks to more than %(mb)s MB, far more than a list of "
            "participants needs: it may hold pictures, formatting down to the last row, or be "
            "built to overload the server. Copy the participants into a new workbook, or save "
            "it as CSV, and upload that.",
            mb=MAX_UNPACKED_BYTES // (1024 * 1024),
        )
    )
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise too_big
    if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
        raise too_big
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml") and (
            member.file_size > MAX_SHARED_STRINGS_BYTES
        ):
            raise too_big


def _read_xlsx(data: bytes, sheet: str | None, progress: Progress | None = None) -> Table:
    import openpyxl

    check_archive(data)
    unreadable = _unreadable_workbook()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of errors for a foreign file
        raise ImportFileError(unreadable) from exc
    try:
        worksheets = {ws.title: ws for ws in workbook.worksheets}
        names = list(worksheets)
        if not names:
            raise ImportFileError(_("The workbook has no sheets."))
        if sheet:
            if sheet not in worksheets:
                raise ImportFileError(_("The workbook has no sheet named %(name)s.", name=sheet))
            order = [sheet]
        else:
            active = workbook.active
            first = active.title if active is not None and active.title in worksheets else None
            order = ([first] if first else []) + [n for n in names if n != first]
        last_error: ImportFileError | None = None
        for name in order:
            try:
                table = _build_table("xlsx", _numbered(_sheet_rows(worksheets[name]), progress))
            except ImportFileError as exc:
                last_error = exc
                continue
            table.sheet = name
            table.sheets = names
            return table
        raise last_error or ImportFileError(unreadable)
    except ImportFileError:
        raise
    except Exception as exc:  # damaged XML inside the archive, found while reading rows
        raise ImportFileError(unreadable) from exc
    finally:
        workbook.close()


def _sheet_rows(ws: Any) -> Any:
    ws.reset_dimensions()  # some writers store wrong dimensions; read every row there is
    yield from enumerate(ws.iter_rows(values_only=True), start=1)


# --- common -------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell as clean text: numbers without ".0", dates in ISO form, spaces collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time(0) else value.isoformat()
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        text = str(value)
    # U+200C and U+200D are kept (core.text.INVISIBLE)
    text = unicodedata.normalize("NFC", text.translate(INVISIBLE))
    return " ".join(text.split())


def _numbered(rows: Any, progress: Progress | None = None) -> list[tuple[int, list[str]]]:
    """Non-blank rows as (row number, cells as text), trailing empty cells dropped.

    Reading stops after ``BLANK_RUN_LIMIT`` blank rows in a row (what follows is formatting,
    not participants) and refuses a file of more than ``MAX_SCANNED_ROWS`` rows in all.
    """
    result: list[tuple[int, list[str]]] = []
    blank_run = 0
    for scanned, (number, raw) in enumerate(rows, start=1):
        if scanned > MAX_SCANNED_ROWS:
            raise _too_many_rows()
        if progress is not None and scanned % PROGRESS_EVERY == 0:
            progress(scanned)
        if len(raw) > MAX_COLUMNS and any(v not in (None, "") for v in raw[MAX_COLUMNS:]):
            raise _too_many_columns(number)
        cells = [cell_text(v) for v in raw[:MAX_COLUMNS]]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            blank_run += 1
            if blank_run >= BLANK_RUN_LIMIT:
                break
            continue
        blank_run = 0
        for value in cells:
            if len(value) > MAX_CELL_CHARS:
                raise ImportFileError(
                    _(
                        "Row %(line)s has a cell of more than %(max)s characters: this does "
                        "not look like a list of participants.",
                        line=number,
                        max=MAX_CELL_CHARS,
                    )
                )
        result.append((number, cells))
        if len(result) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise _too_many_rows()
    return result


def _too_many_columns(line: int) -> ImportFileError:
    return ImportFileError(
        _(
            "Row %(line)s has more than %(max)s columns: this does not look like a list "
            "of participants.",
            line=line,
            max=MAX_COLUMNS,
        )
    )


def _too_many_rows() -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(max)s rows. Split it into smaller files.", max=MAX_ROWS)
    )


def _header_index(rows: list[tuple[int, list[str]]]) -> int:
    """Which of the first rows is the header: the first naming two known columns, else the
    first with at least two cells filled (the coordinator then maps the columns by hand)."""
    candidates = rows[:HEADER_SEARCH_ROWS]
    for index, (_number, cells) in enumerate(candidates):
        if recognised_count(cells) >= 2:
            return index
    for index, (_number, cells) in enumerate(candidates):
        if sum(1 for c in cells if c) >= 2:
            return index
    raise ImportFileError(
        _(
            "No header row was found: the file needs a row of column names such as First name, "
            "Last name, Email, followed by one row per participant."
        )
    )


def _build_table(kind: str, rows: list[tuple[int, list[str]]]) -> Table:
    if not rows:
        raise ImportFileError(_("The file is empty."))
    index = _header_index(rows)
    header_line, headers = rows[index]
    width = len(headers)
    data = [
        SourceRow(number, tuple((cells + [""] * width)[:width]))
        for number, cells in rows[index + 1 :]
        if any(cells[:width])
    ]
    if not data:
        raise ImportFileError(
            _(
                "The file has a header row (%(headers)s) but no participants below it.",
                headers=", ".join(h for h in headers if h),
            )
        )
    if len(data) > MAX_ROWS:
        raise _too_many_rows()
    return Table(kind=kind, headers=headers, rows=data, header_line=header_line)
