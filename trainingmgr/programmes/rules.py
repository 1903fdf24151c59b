"""The programmes domain's validation and audit helpers, shared by programmes
(``services``) and their partners and modules (``curriculum``): codes, currencies, countries,
numbers, and recording what changed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pycountry
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.core.countries import country_code
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.programmes.models import (
    Programme,
    ProgrammePartner,
)

CODE_MAX = 20
CODE_RE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
MAX_BUDGET = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_HOURS = Decimal("9999.99")  # Numeric(6, 2)


# --------------------------------------------------------------------------- helpers


def created_values(values: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [None, audit.jsonable(v)] for name, v in values.items() if v not in (None, "")}


def record_change(
    action: str, obj: Any, changes: dict[str, list[Any]], *, actor: User | None
) -> None:
    """Audit a change to a programme, a partner or a module (named by its code or name), made
    by ``actor`` (None: by the system, with no signed-in user)."""
    audit.record(
        action,
        actor=actor,
        obj=obj,
        programme_id=obj.id if isinstance(obj, Programme) else obj.programme_id,
        changes=changes,
        summary=obj.name if isinstance(obj, ProgrammePartner) else obj.code,
    )


def update_audited(obj: Any, values: dict[str, Any], action: str, *, actor: User | None) -> None:
    """Set ``values`` on ``obj`` and audit what changed (nothing is recorded if nothing did),
    as ``record_change`` does."""
    changes = audit.apply_values(obj, values)
    if changes:
        db.session.flush()
        record_change(action, obj, changes, actor=actor)


def clean(value: str | None) -> str:
    return (value or "").strip()


def required(value: str | None, field_name: str, message: str) -> str:
    value = clean(value)
    if not value:
        raise DomainError(message, field_name)
    return value


def max_length(value: str, limit: int, field_name: str) -> str:
    if len(value) > limit:
        raise DomainError(
            _("Use at most %(n)d characters (this has %(len)d).", n=limit, len=len(value)),
            field_name,
        )
    return value


def normalise_code(value: str | None, field_name: str = "code") -> str:
    """An upper-case code of letters, digits and dashes ("mmdp-2026" -> "MMDP-2026")."""
    code = required(value, field_name, _("Enter a code, for example MMDP-2026.")).upper()
    if not CODE_RE.fullmatch(code):
        raise DomainError(
            _(
                "A code may contain only letters A-Z, digits and single dashes between "
                "them, for example MMDP-2026."
            ),
            field_name,
        )
    return max_length(code, CODE_MAX, field_name)


def normalise_currency(value: str | None) -> str | None:
    """An ISO 4217 currency code ("eur" -> "EUR"), or None when left empty."""
    code = clean(value).upper()
    if not code:
        return None
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise DomainError(
            _(
                "“%(code)s” is not an ISO 4217 currency code. Use three letters such as "
                "EUR, USD or AZN.",
                code=clean(value),
            ),
            "currency",
        )
    return code


def normalise_countries(value: Sequence[str] | str | None) -> list[str]:
    """ISO 3166 alpha-2 codes, in the order given and without repeats.

    Accepts what ``core.countries.country_code`` does, codes ("az", "AZE", "XK") and names
    in English, Russian, Azerbaijani... ("Georgia", "Турция", "Türkiye", "England"), as a
    list or as text separated by commas, semicolons or lines.
    """
    if value is None:
        return []
    tokens = re.split(r"[,;\n]+", value) if isinstance(value, str) else list(value)
    codes: list[str] = []
    unknown: list[str] = []
    for raw in tokens:
        token = raw.strip()
        if not token:
            continue
        code = country_code(token)
        if code is None:
            unknown.append(token)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise DomainError(
            _(
                "Unknown country: %(names)s. Enter ISO 3166 codes (AZ, GE) or country "
                "names, separated by commas.",
                names=", ".join(unknown),
            ),
            "target_countries",
        )
    return codes


def choice(enum_cls: type[Any], value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise DomainError(_("Choose one of the options offered."), field_name) from None


def number(
    value: Decimal | None,
    field_name: str,
    message: str,
    *,
    maximum: Decimal,
    above_zero: bool = False,
) -> Decimal | None:
    """``value`` if it lies in [0, maximum] (or (0, maximum]) with at most two decimals."""
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value < 0 or (above_zero and value == 0) or value > maximum:
        raise DomainError(message, field_name)
    if value != value.quantize(CENT):
        raise DomainError(_("Use at most two decimal places."), field_name)
    return value
