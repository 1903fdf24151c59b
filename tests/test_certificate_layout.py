"""The certificate's layout in its worst cases: no two lines of text overlap, nothing runs
past the border, long names wrap before they shrink, every script prints."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from trainingmgr.certificates import pdf

URL = "https://training.example.org/verify/TXQ1-X7YM-X81W-HXNH"
SIGNATORIES = [
    {
        "name": "Dr. Aysel Məmmədova-Qasımova",
        "title": "Director, International Centre for Migration Policy Development",
        "signature": None,
    }
] * 3
MODULES = [
    {"code": f"M{i}", "title": f"Module {i}: border management and migration governance"}
    for i in range(1, 11)
]
NAMES = {
    "latin-240": ("Alexandrina Konstantinopoulou " * 8).strip(),
    "latin-110": "Maria Fernanda de los Ángeles Guadalupe Hernández-Rodríguez "
    "von Hohenzollern y Borbón",
    "devanagari": ("अनिल कुमार सिंह राजपूत चौहान " * 4).strip(),
    "thai": ("สมชาย ใจดี ศรีสุวรรณ " * 4).strip(),
    "persian": ("محمدی‌پور عبدالرحمن آل هاشمی " * 3).strip(),
    "myanmar": ("အောင် ဆန်း စု ကြည် " * 4).strip(),
    "one-word": "Suharto",
}


def snapshot(name: str, language: str = "en+az", **holder: Any) -> dict[str, Any]:
    return {
        "language": language,
        "holder": {"name": name, "name_latin": "Latin Transliteration Of The Name", **holder},
        "programme": {
            "code": "IBM",
            "title": "Integrated Border Management and Migration Governance for Senior "
            "Officials of the Region",
            "partners": ["ICMPD", "IOM", "UNHCR"],
            "funders": ["European Union", "Swiss Agency for Development and Cooperation"],
        },
        "cohort": {
            "name": "Baku cohort 2026",
            "place": "Hilton, Baku, Azerbaijan",
            "start_date": "2026-03-01",
            "end_date": "2026-03-12",
        },
        "hours": "124.5",
        "modules": MODULES,
        "signatories": SIGNATORIES,
        "logo": None,
        "issuer": {"name": "International Centre for Migration Policy Development"},
        "serial": "IBM-2026-0042",
        "issued_on": "2026-03-15",
    }


def boxes_of(snap: dict[str, Any]) -> tuple[bytes, list[tuple[str, float, float, float, float]]]:
    boxes: list[tuple[str, float, float, float, float]] = []
    pdf.record_text_boxes(boxes)
    try:
        data = pdf.render_certificate(snap, URL)
    finally:
        pdf.record_text_boxes(None)
    return data, boxes


@pytest.mark.parametrize("key", list(NAMES))
def test_no_two_lines_overlap_and_none_leaves_the_frame(key: str) -> None:
    _data, boxes = boxes_of(snapshot(NAMES[key]))

    overlapping = [
        (a[0][:30], b[0][:30])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]
    assert overlapping == []
    inner = pdf.MARGIN + 6
    outside = [b[0][:30] for b in boxes if b[1] < inner or b[3] > pdf.PAGE_W - inner]
    assert outside == []
    texts = [b[0] for b in boxes]
    assert "Verification code / Yoxlama kodu: TXQ1-X7YM-X81W-HXNH" in texts
    assert "INTERNATIONAL CENTRE FOR MIGRATION POLICY DEVELOPMENT" in texts


def test_a_long_name_wraps_to_two_lines_at_22_pt_or_more() -> None:
    lines, size = pdf.name_lines(NAMES["latin-110"])

    assert len(lines) == 2 and size >= 22
    assert " ".join(lines) == NAMES["latin-110"]


def test_every_script_of_the_issue_prints() -> None:
    for name in NAMES.values():
        assert pdf.missing_glyphs(name) == [], name
    for name in ("অনিল কুমার", "ਅਨਿਲ ਕੁਮਾਰ", "અનિલ કુમાર", "அனில் குமார்", "අනිල් කුමාර"):
        assert pdf.missing_glyphs(name) == [], name
    assert pdf.missing_glyphs("ສົມຊາຍ សុខ ចាន់") == []


def test_russian_wording_follows_the_holders_sex() -> None:
    def text(sex: str | None) -> str:
        data = pdf.render_certificate(snapshot("Анна Петрова", "ru", sex=sex), URL)
        return PdfReader(io.BytesIO(data)).pages[0].extract_text()

    assert "успешно завершила программу" in text("female")
    assert "успешно завершил программу" in text("male")
    assert "завершил(а)" in text(None)


def test_metadata_dates_are_the_issue_date() -> None:
    data = pdf.render_certificate(snapshot("Suharto"), URL)

    assert b"(D:20260315000000Z)" in data
    assert b"D:2000" not in data


def test_subset_tags_come_from_the_subset() -> None:
    a = pdf.render_certificate(snapshot("Suharto"), URL)
    b = pdf.render_certificate(snapshot("Ləman Əliyeva"), URL)

    def tags(data: bytes) -> dict[str, set[bytes]]:
        found: dict[str, set[bytes]] = {}
        for tag, font in re.findall(rb"/BaseFont /([A-Z]{6})\+([\w-]+)", data):
            found.setdefault(font.decode(), set()).add(tag)
        return found

    first, second = tags(a), tags(b)
    assert "AAAAAA" not in str(first)
    # The bold face prints different letters for each name: a different subset, another tag.
    assert first["NotoSerif-Bold"] != second["NotoSerif-Bold"]
    assert tags(pdf.render_certificate(snapshot("Suharto"), URL)) == first
