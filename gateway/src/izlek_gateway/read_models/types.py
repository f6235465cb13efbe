"""Column types that keep decimal figures exact on every database."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(precision, scale)`` where the database has exact decimals; text on SQLite, whose NUMERIC
    goes through floats. Binds ``Decimal``s or decimal strings ("1250.50"); reads ``Decimal``s."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int | None = None, scale: int | None = None) -> None:
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(80))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = Decimal(value) if isinstance(value, str | int) else value
        if not isinstance(number, Decimal) or not number.is_finite():
            raise ValueError(f"{value!r} is not an exact decimal figure")
        if self.scale is not None:
            number = number.quantize(Decimal(1).scaleb(-self.scale))
        return str(number) if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)

    def __repr__(self) -> str:
        return f"ExactDecimal({self.precision!r}, {self.scale!r})"
