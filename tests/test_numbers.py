"""Numbers are shown the one way (``core.numbers``), in the reader's language, exactly as
Babel formats them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import format_decimal
from flask_babel import force_locale, get_locale

from trainingmgr.core.numbers import amount_text, fmt_number, fmt_percent

VALUES = [0, 7, 1234, 1234567, Decimal("12.50"), Decimal("0.10"), Decimal("1E+2"), 12.345]
PATTERNS = ["#,##0", "#,##0.0", "#,##0.#", "#,##0.##"]


@pytest.mark.parametrize("language", ["en", "ru", "az"])
def test_numbers_read_as_babel_writes_them_in_each_language(app: Any, language: str) -> None:
    with app.test_request_context(), force_locale(language):
        for value in VALUES:
            plain = value.normalize() if isinstance(value, Decimal) else value
            for pattern in PATTERNS:
                expected = format_decimal(plain, format=pattern, locale=get_locale())
                assert fmt_number(value, pattern) == expected, (value, pattern)


@pytest.mark.parametrize(
    ("language", "hours", "rate"),
    [("en", "1,234.5", "87.5%"), ("ru", "1\xa0234,5", "87,5%"), ("az", "1.234,5", "87,5%")],
)
def test_hours_lose_trailing_zeros_and_rates_keep_one_decimal(
    app: Any, language: str, hours: str, rate: str
) -> None:
    with app.test_request_context(), force_locale(language):
        assert fmt_number(Decimal("1234.50")) == hours
        assert fmt_percent(Decimal("87.54")) == rate


@pytest.mark.parametrize(
    ("language", "typed", "read"),
    [
        ("en", "1,319,151.36", "1319151.36"),
        ("en", "1 000 000,50", "1000000.50"),  # a European habit in the English interface
        ("en", "1,5", "1.5"),
        ("en", "1,319,151", "1319151"),
        ("en", "12.5", "12.5"),
        ("ru", "1 319 151,36", "1319151.36"),
        ("ru", "1\u00a0319\u00a0151,36", "1319151.36"),  # Russian's own group separator
        ("ru", "1,5", "1.5"),
        ("ru", "1.5", "1.5"),
        ("ru", "1,319,151.36", "1319151.36"),
        ("az", "1.319.151,36", "1319151.36"),
        ("az", "1.319.151", "1319151"),
        ("az", "1,5", "1.5"),
        ("de", "1'319'151.36", "1319151.36"),
        ("en", "-1,000", "-1000"),
    ],
)
def test_amounts_are_read_as_each_language_writes_them(
    language: str, typed: str, read: str
) -> None:
    assert Decimal(amount_text(typed, language)) == Decimal(read)


@pytest.mark.parametrize("typed", ["1,2.3,4", "1.2,3", "1,31,151.36", "1.2.3", "12,3,4", "abc"])
def test_what_is_no_amount_stays_no_amount(typed: str) -> None:
    from decimal import InvalidOperation

    for language in ("en", "ru", "az"):
        with pytest.raises(InvalidOperation):
            Decimal(amount_text(typed, language))
