"""The certificate's layout in its worst cases: no two lines of text overlap, nothing runs
past the border, long names wrap before they shrink, every script prints."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
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


def _png(width: int, height: int, colour: str) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# Funders' logos of awkward shapes (wide, square, very wide) and signature images.
FUNDER_LOGOS = [_png(600, 200, "#b22222"), _png(300, 300, "#2e8b57"), _png(900, 150, "#4b0082")]
SIGNATURE = _png(400, 150, "#1a237e")
IMAGES = {hashlib.sha256(i).hexdigest(): i for i in [*FUNDER_LOGOS, SIGNATURE]}
FUNDING = [
    {"name": "European Union", "logo": None, "eu": True},
    *(
        {"name": name, "logo": hashlib.sha256(logo).hexdigest(), "eu": False}
        for name, logo in zip(("SDC", "GIZ", "Wide Foundation"), FUNDER_LOGOS, strict=True)
    ),
    {"name": "Ministry of Internal Affairs of the Republic", "logo": None, "eu": False},
]


def worst_case(name: str, language: str) -> dict[str, Any]:
    snap = snapshot(name, language)
    snap["signatories"] = [
        {**s, "signature": hashlib.sha256(SIGNATURE).hexdigest()} for s in SIGNATORIES
    ]
    snap["funding"] = FUNDING
    return snap


def overlaps(boxes: list[tuple[str, float, float, float, float]]) -> list[tuple[str, str]]:
    return [
        (a[0][:30], b[0][:30])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]


@pytest.mark.parametrize("language", ["en+az", "ru", "en+ru"])
@pytest.mark.parametrize("key", ["latin-240", "devanagari", "persian", "myanmar"])
def test_funders_band_with_logos_and_the_eu_emblem_overlaps_nothing(
    key: str, language: str
) -> None:
    boxes: list[tuple[str, float, float, float, float]] = []
    pdf.record_text_boxes(boxes)
    try:
        data = pdf.render_certificate(worst_case(NAMES[key], language), URL, IMAGES)
    finally:
        pdf.record_text_boxes(None)

    assert overlaps(boxes) == []
    inner = pdf.MARGIN + 6
    assert [b[0] for b in boxes if b[1] < inner or b[3] > pdf.PAGE_W - inner or b[2] < inner] == []
    emblem = next(b for b in boxes if b[0] == "EU emblem")
    logos = [b for b in boxes if b[0].startswith("image") and b[2] < 100]
    assert len(logos) == 3  # the three funders' logos, in the band
    # EU visibility rules: the emblem at least 1 cm high and at least as high as any logo.
    assert emblem[4] - emblem[2] >= 72 / 2.54 - 0.01
    assert all(emblem[4] - emblem[2] >= b[4] - b[2] for b in logos)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    statement = {"en+az": "the European Union", "ru": "Европейским союзом"}.get(language)
    assert statement is None or statement in text
    assert "Ministry of Internal Affairs of the Republic" in text


def test_the_eu_emblem_is_blue_with_twelve_gold_stars(tmp_path: Any) -> None:
    snap = snapshot("Suharto", "en")
    snap["funding"] = FUNDING[:1]
    data = pdf.render_certificate(snap, URL)
    (tmp_path / "c.pdf").write_bytes(data)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "72",
            "-singlefile",
            str(tmp_path / "c.pdf"),
            str(tmp_path / "c"),
        ],
        check=True,
    )
    page = (tmp_path / "c.png").read_bytes()
    boxes: list[tuple[str, float, float, float, float]] = []
    pdf.record_text_boxes(boxes)
    pdf.render_certificate(snap, URL)
    pdf.record_text_boxes(None)
    _label, left, bottom, right, top = next(b for b in boxes if b[0] == "EU emblem")
    image = Image.open(io.BytesIO(page)).convert("RGB")
    height = image.height
    crop = image.crop(
        (round(left) + 1, round(height - top) + 1, round(right) - 1, round(height - bottom) - 1)
    )
    colours = crop.getcolors(100000) or []
    blue = sum(n for n, (r, g, b) in colours if r < 40 and 30 < g < 80 and b > 120)
    gold = sum(n for n, (r, g, b) in colours if r > 200 and g > 150 and b < 90)
    assert blue > 0.8 * crop.width * crop.height
    assert gold > 0
    # Twelve separate stars: count the gold blobs.
    mask = [
        [
            crop.getpixel((x, y))[0] > 200 and crop.getpixel((x, y))[2] < 90
            for x in range(crop.width)
        ]
        for y in range(crop.height)
    ]
    seen: set[tuple[int, int]] = set()
    blobs = 0
    for y in range(crop.height):
        for x in range(crop.width):
            if mask[y][x] and (x, y) not in seen:
                blobs += 1
                stack = [(x, y)]
                while stack:
                    px, py = stack.pop()
                    if (px, py) in seen or not (0 <= px < crop.width and 0 <= py < crop.height):
                        continue
                    if not mask[py][px]:
                        continue
                    seen.add((px, py))
                    stack += [(px + 1, py), (px - 1, py), (px, py + 1), (px, py - 1)]
    assert blobs == 12
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Funded by" in text and "the European Union" in text


def test_a_long_chinese_name_in_the_uploaded_font_with_funders_overlaps_nothing() -> None:
    font = (Path(__file__).parent / "data" / "cjk-test-font.ttf").read_bytes()
    pdf.set_fallback_font(hashlib.sha256(font).hexdigest(), font)
    try:
        name = "王小明 李张伟 陈静芳 刘洋 杨丽 田中花子 金" * 3
        assert pdf.missing_glyphs(name) == []
        boxes: list[tuple[str, float, float, float, float]] = []
        pdf.record_text_boxes(boxes)
        try:
            data = pdf.render_certificate(worst_case(name, "en+ru"), URL, IMAGES)
        finally:
            pdf.record_text_boxes(None)
    finally:
        pdf.set_fallback_font(None)

    assert overlaps(boxes) == []
    text = "".join(PdfReader(io.BytesIO(data)).pages[0].extract_text().split())
    assert "王小明李张伟" in text
    assert pdf.missing_glyphs("王") == ["王"]  # the font is no longer used


def test_the_longest_organisation_and_signatory_names_stay_in_their_place() -> None:
    """An organisation name of 250 characters and signatories' names of 200 and titles of
    250 (the most the forms take) neither overlap the logo or each other nor leave the page."""
    from trainingmgr.organisation import services as organisation

    logo = _png(400, 190, "#b22222")
    snap = snapshot("Fatou Jallow")
    snap["issuer"] = {
        "name": ("International Centre for Migration Policy Development, Regional Office " * 4)[
            : organisation.NAME_MAX
        ]
    }
    snap["logo"] = hashlib.sha256(logo).hexdigest()
    snap["signatories"] = [
        {
            "name": (f"{first} Wolfeschlegelsteinhausenbergerdorff " * 6)[
                : organisation.SIGNATORY_NAME_MAX
            ],
            "title": ("Deputy Director for Training and International Cooperation " * 5)[
                : organisation.SIGNATORY_TITLE_MAX
            ],
            "signature": None,
        }
        for first in ("Hubert", "Blaine", "Aysel")
    ]
    boxes: list[tuple[str, float, float, float, float]] = []
    pdf.record_text_boxes(boxes)
    try:
        pdf.render_certificate(snap, URL, {snap["logo"]: logo})
    finally:
        pdf.record_text_boxes(None)

    assert overlaps(boxes) == []
    inner = pdf.MARGIN + 6
    assert [b[0][:30] for b in boxes if b[1] < inner or b[3] > pdf.PAGE_W - inner] == []
