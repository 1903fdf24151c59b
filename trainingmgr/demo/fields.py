"""What the demo's definitions share: reading a data file's values as a model's columns (the
files are in ``config.DATA_DIR``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa


def column_values(model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` read from a data file, as keyword arguments of ``model``: strings become the
    enums and exact decimals its columns hold. A key that is no column is refused (a typo in
    the file), naming the model and the key."""
    columns = sa.inspect(model).columns
    result = {}
    for name, value in values.items():
        if name not in columns:
            raise ValueError(f"{model.__name__} has no column {name!r}")
        column_type = columns[name].type
        if isinstance(column_type, sa.Enum) and column_type.enum_class is not None:
            value = column_type.enum_class(value)
        elif isinstance(column_type, sa.Numeric) and isinstance(value, str):
            value = Decimal(value)
        result[name] = value
    return result
