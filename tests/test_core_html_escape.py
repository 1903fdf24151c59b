"""``core.text.html_escape`` writes what markupsafe's ``escape`` writes (the roster's and
the matrix's rows use it by the thousand)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from markupsafe import escape

from trainingmgr.core.text import html_escape


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Ləman Əliyeva",
        "O'Brien",
        '<script>alert("x")</script>',
        "Tom & Jerry &amp; co",
        "ნინო ბერიძე",
        '=HYPERLINK("http://evil")',
        12,
        Decimal("12.50"),
    ],
)
def test_the_same_text_as_markupsafe(value: object) -> None:
    assert html_escape(value) == str(escape(value))
