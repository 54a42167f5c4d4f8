"""What every page does with a posted form: empty boxes are not given, the API's own input schema checks the
values (its first complaint becomes the problem, naming the field), and yuan typed by a person become fen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from teahub.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)
MAX_FEN = 10**13


def blank(value: str | None) -> str | None:
    """A form field left empty (or only spaces) is not given."""
    return value.strip() or None if value is not None else None


def validated(model: type[M], prefix: str = "", **data: Any) -> M:
    """The API's input model from a form's values: the same checks, refused as the API refuses them."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        raise ValidationFailed(message, field=f"{prefix}{where}" if where else (prefix.rstrip(".") or None)) from None


def yuan_to_fen(value: str | None, field: str) -> int | None:
    """"1,280.5" or "¥128" yuan → fen, exactly (no floats); at most two decimals, not negative; empty is None."""
    text = blank(value)
    if text is None:
        return None
    cleaned = text.replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationFailed("an amount in yuan is needed, e.g. 128.00", field=field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("an amount in yuan is needed, e.g. 128.00", field=field)
    fen = int(amount * 100)
    if fen > MAX_FEN:
        raise ValidationFailed("the amount is too large", field=field)
    return fen
