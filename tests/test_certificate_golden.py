"""The golden certificate: a fixed certificate (fixed data, the shipped fonts, a fixed logo)
must render to exactly these bytes.

Issued certificates are stored, so a change here never alters one already issued; but any
change that alters this hash (the layout, a font, ReportLab, Pillow, uharfbuzz, segno) changes
every certificate issued afterwards. It must be deliberate: update GOLDEN_SHA256 in the same
commit and say in the commit message what changed on the page and why.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from trainingmgr.certificates import pdf

LOGO = (Path(__file__).parent / "data" / "golden_logo.png").read_bytes()
LOGO_SHA256 = hashlib.sha256(LOGO).hexdigest()
SNAPSHOT = {
    "language": "en+ru",
    "holder": {"name": "Ləman Əliyeva", "name_latin": "Laman Aliyeva", "sex": "female"},
    "programme": {
        "code": "RTCM",
        "title": "Road Traffic Crash Management",
        "partners": ["ICMPD"],
        "funders": ["European Union"],
    },
    "cohort": {
        "name": "RTCM Baku 2026",
        "place": "Baku, Azerbaijan",
        "start_date": "2026-03-02",
        "end_date": "2026-03-13",
    },
    "hours": "24",
    "modules": [{"code": "M1", "title": "Scene safety"}, {"code": "M2", "title": "Triage"}],
    "signatories": [{"name": "Ivan Petrov", "title": "Programme Manager", "signature": None}],
    "logo": LOGO_SHA256,
    "funding": [{"name": "European Union", "logo": None, "eu": True}],
    "issuer": {"name": "Regional Training Centre"},
    "serial": "RTCM-2026-0001",
    "issued_on": "2026-03-15",
}
URL = "https://training.example.org/verify/TXQ1-X7YM-X81W-HXNH"
GOLDEN_SHA256 = "d34499c56dcf125dcdc7aeca9b9c5a0461cd80bc26a95ef764216ab0c7db8be9"


def test_the_golden_certificate_renders_to_the_committed_bytes() -> None:
    data = pdf.render_certificate(SNAPSHOT, URL, {LOGO_SHA256: LOGO})

    assert hashlib.sha256(data).hexdigest() == GOLDEN_SHA256
