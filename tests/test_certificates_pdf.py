"""The certificate PDF: deterministic bytes, embedded fonts, names extractable in their script,
a QR code that decodes to the verification URL, labels in the certificate's language."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader
from pyzbar.pyzbar import decode

from tests.conftest import DATA
from trainingmgr.certificates import pdf
from trainingmgr.certificates.pdf import render_certificate

URL = "https://training.example.org/verify/7KQ4-9XM2-HT8D-3VWR"


def snapshot(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "language": "en",
        "holder": {"name": "Ləman Əliyeva", "name_latin": "Laman Aliyeva"},
        "programme": {
            "code": "RTCM",
            "title": "Regional Training on Crisis Migration Management",
            "partners": ["ICMPD", "State Migration Service"],
            "funders": ["European Union"],
        },
        "cohort": {
            "name": "Baku cohort 2",
            "place": "Baku, Azerbaijan",
            "start_date": "2022-03-01",
            "end_date": "2022-03-12",
        },
        "hours": "24",
        "modules": [{"code": "M1", "title": "Foundations"}, {"code": "M4", "title": "Simulation"}],
        "signatories": [{"name": "Ivan Petrov", "title": "Programme Manager"}],
        "serial": "RTCM-2022-0042",
        "issued_on": "2022-03-15",
    }
    data.update(kw)
    return data


def text_of(document: bytes) -> str:
    return PdfReader(io.BytesIO(document)).pages[0].extract_text()


def png_logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (120, 60), (20, 60, 140, 255)).save(out, "PNG")
    return out.getvalue()


def test_rendering_twice_gives_identical_bytes() -> None:
    first = render_certificate(snapshot(), URL, png_logo())
    second = render_certificate(snapshot(), URL, png_logo())

    assert first.startswith(b"%PDF-")
    assert first == second
    assert render_certificate(snapshot(serial="RTCM-2022-0043"), URL, None) != first


def embedded_fonts(document: bytes) -> dict[str, bool]:
    """{font name: whether its program is embedded} of the page's fonts."""
    fonts = PdfReader(io.BytesIO(document)).pages[0]["/Resources"]["/Font"].get_object()
    result = {}
    for ref in fonts.values():
        font = ref.get_object()
        descriptor = font.get("/FontDescriptor")
        embedded = descriptor is not None and "/FontFile2" in descriptor.get_object()
        result[str(font["/BaseFont"])] = embedded
    return result


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("Ləman Əliyeva", "NotoSerif-Bold"),
        ("ნინო ბერიძე", "NotoSerifGeorgian-Bold"),
        ("Արմեն Սարգսյան", "NotoSerifArmenian-Bold"),
        ("محمد رضایی", "NotoNaskhArabic-Bold"),
    ],
)
def test_every_font_is_embedded(name: str, family: str) -> None:
    fonts = embedded_fonts(render_certificate(snapshot(holder={"name": name}), URL, None))

    assert fonts and all(fonts.values()), fonts
    assert any(family in f for f in fonts), fonts


def participants() -> list[str]:
    with (DATA / "participants_rtcm_rollout.csv").open(encoding="utf-8") as f:
        return [f"{row['First name']} {row['Last name']}" for row in csv.DictReader(f)]


def test_every_sample_name_is_extractable_in_its_script() -> None:
    names = participants()
    assert len(names) >= 30
    for name in names:
        document = render_certificate(snapshot(holder={"name": name}), URL, None)
        assert name in text_of(document), name


@pytest.mark.parametrize(
    "name",
    [
        "İlkin Ağayev Şəkərli",
        "Ioana Țurcanu Ștefănescu",
        "Aýna Ňazarowa",
        "Олександр Ґудзь Їжакевич",
        "Уладзімір Ўсцінаў",
        "Әлия Үмбетова Ңұрлан",
        "Фарруҳ Ҷӯраев Ҳамидов",
        "ნინო ბერიძე",
        "Արմեն Սարգսյան",
        "አበበ ታደሰ",  # Amharic (Ethiopic script)
    ],
)
def test_names_in_every_script_are_extractable(name: str) -> None:
    document = render_certificate(snapshot(holder={"name": name, "name_latin": None}), URL, None)
    assert name in text_of(document)


def pdftotext(document: bytes, tmp_path: Path) -> str:
    source = tmp_path / "cert.pdf"
    source.write_bytes(document)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"], check=True, capture_output=True
    )
    return done.stdout.decode("utf-8")


# poppler marks a right-to-left stretch it found with U+202B ... U+202C (embedding marks of
# its own); the letters between them are what is compared.
POPPLER_MARKS = str.maketrans("", "", "\u202b\u202c")


def lines(text: str) -> list[str]:
    return [line.strip(" ") for line in text.splitlines()]


@pytest.mark.parametrize(
    "name",
    [
        "محمد رضایی",
        "عائشہ خان",
        "فاطمة الزهراء",
        "پژمان چگنی",
        "عبدالله لاله",  # letters a font would tie into one glyph (Allah ligature, lam-alef)
        "نگین\u200cزاده",  # zero width non-joiner, kept
        "Ali محمد",
        "דוד כהן",  # Hebrew, right to left as well
    ],
)
def test_arabic_script_names_copy_exactly(name: str, tmp_path: Path) -> None:
    """Shaped right to left, yet text extraction gives the name letter for letter, in
    logical order: with pypdf and with poppler (pdftotext, the text layer of most Linux PDF
    readers)."""
    document = render_certificate(snapshot(holder={"name": name, "name_latin": None}), URL, None)

    assert name in lines(text_of(document))
    assert name in [line.translate(POPPLER_MARKS) for line in lines(pdftotext(document, tmp_path))]
    assert not any(0xFB50 <= ord(c) <= 0xFEFF for c in text_of(document))  # no shaped forms


def test_a_vocalised_arabic_name_copies_with_pypdf() -> None:
    # poppler places the vowel marks by their drawn position (see docs/certificates.md).
    name = "سُلَيْمان"
    document = render_certificate(snapshot(holder={"name": name, "name_latin": None}), URL, None)
    assert name in text_of(document)


def data_names() -> list[str]:
    names = participants()
    with (DATA / "participants_cp1251.csv").open(encoding="cp1251") as f:
        names += [f"{row['First name']} {row['Last name']}" for row in csv.DictReader(f)]
    sheet = openpyxl.load_workbook(DATA / "participants_mmpaf.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    names += [f"{r[0]} {r[1]}" for r in rows[1:] if r[0]]
    return names


MIXED = [
    "ნინო Smith",
    "ნ. ბერიძე-O'Neil",
    "Anna Иванова",
    "Олег Smith-Петров",
    "Արմեն Smith",
    "Ani Պետրոսյան (Petrosyan)",
    "Ləman Əliyeva-ბერიძე",
]


def test_every_letter_of_every_name_has_a_glyph_in_the_font_it_is_set_in() -> None:
    names = data_names() + MIXED + ["محمد رضایی", "Ali محمد", "Αλέξης Παπαδόπουλος"]
    assert len(names) >= 40
    for name in names:
        for style in (pdf.BOLD, pdf.REGULAR, pdf.ITALIC):
            runs = pdf.text_runs(name, style)
            assert "".join(r.text for r in runs) == name
            for run in runs:
                font = pdf.font_name(run.family, style)
                missing = [c for c in run.text if not pdf.covers(font, c)]
                assert missing == [], (name, font, missing)
            assert pdf.missing_glyphs(name, style) == []
    assert pdf.missing_glyphs("王 Li") == ["王"]  # no certificate font has Chinese


@pytest.mark.parametrize(
    ("name", "families"),
    [
        ("ნინო Smith", ["georgian", "serif"]),
        ("Ani Պետրոսյան (Petrosyan)", ["serif", "armenian", "serif"]),
        ("Anna Иванова", ["serif"]),  # Noto Serif has Latin and Cyrillic
        ("ნ. ბერიძე", ["georgian", "serif", "georgian"]),  # the Georgian font has no "."
    ],
)
def test_mixed_script_names_switch_font_per_run(name: str, families: list[str]) -> None:
    assert [r.family for r in pdf.text_runs(name, pdf.BOLD)] == families


@pytest.mark.parametrize("name", MIXED)
def test_mixed_script_names_print_and_copy_exactly(name: str, tmp_path: Path) -> None:
    document = render_certificate(snapshot(holder={"name": name, "name_latin": None}), URL, None)

    assert name in lines(text_of(document))
    assert name in lines(pdftotext(document, tmp_path))
    fonts = embedded_fonts(document)
    assert all(fonts.values()), fonts


def rasterise(document: bytes, tmp_path: Path, dpi: int = 150) -> Image.Image:
    source = tmp_path / "cert.pdf"
    source.write_bytes(document)
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", str(source), str(tmp_path / "cert")],
        check=True,
    )
    return Image.open(tmp_path / "cert.png")


@pytest.mark.parametrize(
    "url", [URL, "http://127.0.0.1:5000/verify/0000-0000-0000-0000", "https://x.org/verify/ZZZZ-Z"]
)
def test_the_qr_code_decodes_to_the_verification_url(url: str, tmp_path: Path) -> None:
    image = rasterise(render_certificate(snapshot(), url, png_logo()), tmp_path)

    assert [d.data.decode() for d in decode(image)] == [url]


def test_the_qr_code_is_one_vector_path() -> None:
    size, runs = pdf.qr_runs(URL)
    assert size >= 21 and runs
    document = render_certificate(snapshot(), URL, None)
    content = PdfReader(io.BytesIO(document)).pages[0].get_contents().get_data().decode("latin-1")
    assert content.count(" re") >= len(runs)
    assert "/Im" not in content  # no image without a logo: the QR code is drawn, not pasted


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["CERTIFICATE OF COMPLETION", "This is to certify that", "1–12 March 2022"]),
        ("ru", ["СЕРТИФИКАТ ОБ ОКОНЧАНИИ", "Настоящим удостоверяется", "1–12 марта 2022"]),
        ("az", ["BİTİRMƏ SERTİFİKATI", "Bununla təsdiq edilir", "1–12 mart 2022"]),
        ("en+az", ["CERTIFICATE OF COMPLETION", "BİTİRMƏ SERTİFİKATI", "24 hours / 24 saat"]),
        ("en+ru", ["CERTIFICATE OF COMPLETION", "СЕРТИФИКАТ ОБ ОКОНЧАНИИ", "Funded by /"]),
    ],
)
def test_labels_follow_the_certificate_language(language: str, expected: list[str]) -> None:
    text = text_of(render_certificate(snapshot(language=language), URL, None))
    for fragment in expected:
        assert fragment in text, (fragment, text)


def test_everything_printed_is_in_the_pdf() -> None:
    text = text_of(render_certificate(snapshot(), URL, None))
    for fragment in (
        "Laman Aliyeva",
        "Regional Training on Crisis Migration Management",
        "ICMPD",
        "European Union",
        "Baku cohort 2",
        "Baku, Azerbaijan",
        "M4 Simulation",
        "Ivan Petrov",
        "Programme Manager",
        "RTCM-2022-0042",
        "15 March 2022",
        URL,
    ):
        assert fragment in text, fragment


def test_periods() -> None:
    assert pdf.fmt_period("2022-03-01", "2022-03-01", "en") == "1 March 2022"
    assert pdf.fmt_period("2022-02-28", "2022-03-04", "ru") == "28 февраля – 4 марта 2022"
    assert pdf.fmt_period("2021-12-30", "2022-01-02", "az") == "30 dekabr 2021 – 2 yanvar 2022"
    assert pdf.languages("en+az") == ["en", "az"]
    assert pdf.languages("xx") == ["en"]


# --- Images: the logo and signatures kept with the certificate ----------------------------


def png(colour: tuple[int, int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def images_in(document: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image drawn on the page."""
    resources = PdfReader(io.BytesIO(document)).pages[0]["/Resources"]
    if "/XObject" not in resources:
        return []
    found = []
    for ref in resources["/XObject"].get_object().values():
        obj = ref.get_object()
        if obj["/Subtype"] == "/Image":
            found.append((int(obj["/Width"]), int(obj["/Height"])))
    return sorted(found)


LOGO = png((200, 30, 30, 255), (240, 120))
SIGNATURE = png((0, 0, 0, 0), (300, 100))  # transparent, with a black stroke drawn below
_stroke = Image.open(io.BytesIO(SIGNATURE))
_stroke.paste((10, 10, 10, 255), (20, 40, 280, 70))
_out = io.BytesIO()
_stroke.save(_out, "PNG")
SIGNATURE = _out.getvalue()
STAMP = jpeg((20, 60, 140), (200, 100))


def with_images(**kw: Any) -> dict[str, Any]:
    return snapshot(
        logo=key(LOGO),
        signatories=[
            {"name": "Dr A. Mammadov", "title": "Director", "signature": key(SIGNATURE)},
            {"name": "Nino Beridze", "title": "Lead trainer", "signature": key(STAMP)},
            {"name": "Ivan Petrov", "title": "Programme Manager", "signature": None},
        ],
        **kw,
    )


IMAGES = {key(b): b for b in (LOGO, SIGNATURE, STAMP)}


def test_logo_and_signatures_are_drawn_from_the_images_named_by_the_snapshot() -> None:
    document = render_certificate(with_images(), URL, IMAGES)

    assert images_in(document) == [(200, 100), (240, 120), (300, 100)]
    assert pdf.image_keys(with_images()) == [key(LOGO), key(SIGNATURE), key(STAMP)]


def test_images_render_the_same_bytes_fresh_or_prepared_earlier() -> None:
    pdf._IMAGES.clear()
    first = render_certificate(with_images(), URL, IMAGES)
    prepared = render_certificate(with_images(), URL, {})  # from the process's cache
    pdf._IMAGES.clear()

    assert first == prepared == render_certificate(with_images(), URL, IMAGES)


def test_the_logo_and_a_signature_show_where_a_reader_sees_them(tmp_path: Path) -> None:
    image = rasterise(render_certificate(with_images(), URL, IMAGES), tmp_path, dpi=72)
    # 72 dpi: one pixel per point, y from the top. The logo: top left; the first signature
    # sits on its line (y = 140 points from the bottom), in the left third.
    red, green, blue = image.convert("RGB").getpixel((60, 50))
    assert red > 190 and green < 40 and blue < 40
    line_y = round(pdf.PAGE_H - 140)
    above_first_line = (180, line_y - 40, 320, line_y - 3)  # left, top, right, bottom
    darkest, _lightest = image.convert("L").crop(above_first_line).getextrema()
    assert darkest < 60  # the signature's dark stroke
    bare = rasterise(render_certificate(snapshot(), URL, None), tmp_path, dpi=72)
    assert bare.convert("L").crop(above_first_line).getextrema()[0] > 200


def test_missing_or_unreadable_images_are_left_out() -> None:
    pdf._IMAGES.pop(key(LOGO), None)
    missing = render_certificate(with_images(), URL, {key(SIGNATURE): SIGNATURE})
    assert (240, 120) not in images_in(missing)

    broken = b"not an image at all"
    document = render_certificate(snapshot(logo=key(broken)), URL, {key(broken): broken})
    assert document.startswith(b"%PDF-") and images_in(document) == []


def test_an_old_snapshot_without_images_and_the_logo_given_as_bytes() -> None:
    old = snapshot()  # no "logo", signatories without "signature"
    assert images_in(render_certificate(old, URL, None)) == []
    assert images_in(render_certificate(old, URL, LOGO)) == [(240, 120)]


def test_a_fresh_process_renders_the_same_bytes_as_a_warm_one() -> None:
    """Whichever server process renders a certificate (caches full or empty, other names
    shaped before or not), the bytes and so the SHA-256 on the verification page are equal."""
    names = ["لاله لآمنة", "Ləman Əliyeva-ბერიძე", "نگین\u200cزاده"]
    for name in ["عبدالله", "لأحمد لإيمان", "سُلَيْمان", *MIXED]:
        render_certificate(snapshot(holder={"name": name}), URL, None)
    here = [
        hashlib.sha256(render_certificate(with_images(holder={"name": n}), URL, IMAGES))
        for n in names
    ]
    script = (
        "import hashlib, json, sys\n"
        "from tests.test_certificates_pdf import IMAGES, URL, with_images\n"
        "from trainingmgr.certificates.pdf import render_certificate\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    document = render_certificate(with_images(holder={'name': name}), URL, IMAGES)\n"
        "    print(hashlib.sha256(document).hexdigest())\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script, json.dumps(names)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    ).stdout.split()

    assert fresh == [h.hexdigest() for h in here]


_RENDER_BOTH = """
import hashlib, sys
from tests.test_certificate_golden import LOGO, LOGO_SHA256, SNAPSHOT, URL
from trainingmgr.certificates import pdf, pdf_v1
modules = [pdf, pdf_v1] if sys.argv[1] == "2-first" else [pdf_v1, pdf]
for module in modules:
    data = module.render_certificate(SNAPSHOT, URL, {LOGO_SHA256: LOGO})
    print(module.__name__, hashlib.sha256(data).hexdigest())
"""


def test_layouts_1_and_2_render_the_same_bytes_whichever_a_process_renders_first() -> None:
    # Both layouts use the same registered fonts: neither may change the other's bytes.
    runs = [
        sorted(
            subprocess.run(
                [sys.executable, "-c", _RENDER_BOTH, order],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).parent.parent,
            ).stdout.splitlines()
        )
        for order in ("2-first", "1-first")
    ]

    assert runs[0] == runs[1]


def test_symbols_no_font_has_are_left_out_instead_of_printed_as_boxes(tmp_path: Path) -> None:
    """A module, programme or cohort named with an emoji (the application's pages show it)
    prints without it, not with a box; letters no font has are still named as missing."""
    assert pdf.missing_glyphs("Введение 📚") == []
    assert pdf.missing_glyphs("Daily practice ✅ 👍🏽 ❤️") == []
    assert pdf.missing_glyphs("王 📚") == ["王"]
    document = render_certificate(
        snapshot(
            modules=[{"code": "M1", "title": "Введение 📚"}],
            programme={"code": "QA", "title": "Readmission 🇪🇺 ❤️ course"},
        ),
        URL,
        None,
    )
    text = pdftotext(document, tmp_path)
    assert "Modules: M1 Введение" in text
    assert "Readmission" in text and "course" in text
    for box in ("📚", "🇪🇺", "❤", "\ufffd", "\ufe0f"):
        assert box not in text
    runs = [run.text for run in pdf.text_runs("Введение 📚")]
    assert "".join(runs) == "Введение"
    assert pdf.text_runs("📚 ✅") == ()


def grey16_png(level: int, size: tuple[int, int] = (240, 120)) -> bytes:
    """A 16-bit greyscale PNG (scanners and some editors save them) of one ``level``."""
    out = io.BytesIO()
    Image.new("I;16", size, level).save(out, "PNG")
    return out.getvalue()


def test_a_16_bit_greyscale_image_prints_in_its_shade_not_white(tmp_path: Path) -> None:
    dark = grey16_png(0x3000)  # about 19% of white: a dark grey
    document = render_certificate(snapshot(logo=key(dark)), URL, {key(dark): dark})

    image = rasterise(document, tmp_path, dpi=72)
    shade = image.convert("L").getpixel((60, 50))
    assert 30 <= shade <= 70  # 0x3000 / 0xFFFF of 255 is 48; white was printed before
