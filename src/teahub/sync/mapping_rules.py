"""The pure parts of YAML mappings: source paths, value formats and a small expression language. No I/O.

Paths: `number`, `customer.phone`, `lines[0].sku`, `lines[].sku` (each line); inside a list field `$.number`
reads from the whole record. Expressions are parsed here into closures (never `eval`): numbers, 'strings', paths,
`+ - * / %`, comparisons, parentheses and the functions in FUNCTIONS. Arithmetic is done in Decimal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class MappingRuleError(ValueError):
    """A path, expression or format that cannot be understood (at load) or applied (to a record)."""


EACH = object()  # `[]` in a path: every element of a list
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d*\])*)$")


# -- paths ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    text: str
    parts: tuple[Any, ...]
    root: bool  # `$.`: from the whole record, not the current list element

    @property
    def each(self) -> bool:
        return EACH in self.parts


def parse_path(text: str) -> Path:
    if not isinstance(text, str) or not text.strip():
        raise MappingRuleError("a path must be a non-empty string")
    root = text.startswith("$.")
    body = text[2:] if root else text
    parts: list[Any] = []
    for segment in body.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise MappingRuleError(f"bad path {text!r}: {segment!r} is not a name with optional [n] or []")
        if match.group(1).startswith("__"):
            raise MappingRuleError(f"bad path {text!r}: names starting with __ are not allowed")
        parts.append(match.group(1))
        for index in re.findall(r"\[(\d*)\]", match.group(2)):
            parts.append(EACH if index == "" else int(index))
    if parts.count(EACH) > 1:
        raise MappingRuleError(f"bad path {text!r}: only one [] per path")
    return Path(text, tuple(parts), root)


def read_path(document: Any, parts: tuple[Any, ...]) -> Any:
    """The value at the path (None when any step is missing); a list when the path has `[]`."""
    value = document
    for position, part in enumerate(parts):
        if part is EACH:
            if not isinstance(value, list):
                return None
            rest = parts[position + 1:]
            return [read_path(item, rest) for item in value]
        if isinstance(part, int):
            value = value[part] if isinstance(value, list) and -len(value) <= part < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def set_path(document: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        document = document.setdefault(key, {})
    document[keys[-1]] = value


# -- numbers and formats -------------------------------------------------------------------------------------
def number(value: Any, what: str = "value") -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise MappingRuleError(f"{what} {value!r} is not a number")


def fen_to_yuan(value: Any) -> str:
    """Integer fen to a decimal string of yuan with two places: 1280 → "12.80"."""
    return str((number(value, "an amount in fen") / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))


def plain(value: Any) -> Any:
    """Decimals (from expressions) to JSON numbers: int when whole, else float of the exact decimal text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MappingRuleError(f"{value!r} is not an ISO date or time") from None
    else:
        raise MappingRuleError(f"{value!r} is not a date or time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))  # teahub keeps UTC
    return moment


SIMPLE_FORMATS: dict[str, Callable[[Any], Any]] = {
    "yuan": fen_to_yuan,
    "int": lambda v: int(number(v)),
    "str": lambda v: str(plain(v)),
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "bool": bool,
}


def compile_format(spec: Any) -> Callable[[Any], Any]:
    """`yuan`, `int`, `str`, `upper`, `lower`, `bool`, or {datetime|date: strftime pattern, tz: zone name}."""
    if isinstance(spec, str):
        if spec not in SIMPLE_FORMATS:
            raise MappingRuleError(f"unknown format {spec!r} (known: {', '.join(sorted(SIMPLE_FORMATS))}, "
                                   "or {datetime: pattern, tz: zone} / {date: pattern, tz: zone})")
        return SIMPLE_FORMATS[spec]
    if isinstance(spec, dict):
        kinds = [k for k in ("datetime", "date") if k in spec]
        unknown = set(spec) - {"datetime", "date", "tz"}
        if len(kinds) != 1 or unknown:
            raise MappingRuleError("a format object is {datetime: pattern, tz: zone} or {date: pattern, tz: zone}")
        pattern = spec[kinds[0]]
        if not isinstance(pattern, str) or "%" not in pattern:
            raise MappingRuleError(f"{pattern!r} is not a strftime pattern (e.g. '%Y-%m-%d %H:%M:%S')")
        try:
            zone = ZoneInfo(str(spec.get("tz", "UTC")))
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingRuleError(f"unknown time zone {spec.get('tz')!r}") from None
        try:
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=zone).strftime(pattern)
        except ValueError as exc:
            raise MappingRuleError(f"bad pattern {pattern!r}: {exc}") from None
        return lambda v: _moment(v).astimezone(zone).strftime(pattern)
    raise MappingRuleError("a format is a name or an object {datetime|date: pattern, tz: zone}")


# -- expressions ---------------------------------------------------------------------------------------------
Evaluate = Callable[[Callable[[Path], Any]], Any]  # given a path reader, the value


def _round(value: Any, places: Any = 0) -> Decimal:
    exponent = Decimal(1).scaleb(-int(number(places)))
    return number(value).quantize(exponent, ROUND_HALF_UP)


def _concat(*values: Any) -> str:
    return "".join("" if v is None else str(plain(v)) for v in values)


def _sum(values: Any) -> Decimal:
    if not isinstance(values, list):
        raise MappingRuleError("sum() takes a list path such as lines[].net_amount")
    return sum((number(v) for v in values if v is not None), Decimal(0))


FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {  # name: (function, min args, max args)
    "concat": (_concat, 1, 20),
    "round": (_round, 1, 2),
    "min": (lambda *v: min(number(x) for x in v), 1, 20),
    "max": (lambda *v: max(number(x) for x in v), 1, 20),
    "abs": (lambda v: abs(number(v)), 1, 1),
    "coalesce": (lambda *v: next((x for x in v if x is not None and x != ""), None), 1, 20),
    "upper": (lambda v: None if v is None else str(v).upper(), 1, 1),
    "lower": (lambda v: None if v is None else str(v).lower(), 1, 1),
    "str": (lambda v: None if v is None else str(plain(v)), 1, 1),
    "int": (lambda v: int(number(v)), 1, 1),
    "yuan": (fen_to_yuan, 1, 1),
    "sum": (_sum, 1, 1),
    "len": (lambda v: len(v) if v is not None else 0, 1, 1),
    "if": (lambda c, a, b=None: a if c else b, 2, 3),
}

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\[\d*\])*"
_TOKEN = re.compile(rf"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'[^']*'|"[^"]*")|(?P<name>\$?\.?{_NAME}(?:\.{_NAME})*)"""
                    r"""|(?P<op>==|!=|<=|>=|[-+*/%(),<>]))""")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MappingRuleError(f"cannot read expression {text!r} at character {position + 1}: "
                                   f"{text[position:position + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+" and (isinstance(a, str) or isinstance(b, str)):
        raise MappingRuleError("use concat() to join text")
    if a is None or b is None:
        return None
    x, y = number(a), number(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        raise MappingRuleError("division by zero")
    return x / y if op == "/" else x % y


def _compare(op: str, a: Any, b: Any) -> bool:
    try:
        a, b = number(a), number(b)
    except MappingRuleError:
        a, b = (None if a is None else str(a)), (None if b is None else str(b))
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if a is None or b is None:
        return False
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def _binary_node(op: str, left: Evaluate, right: Evaluate) -> Evaluate:
    return lambda read: _arith(op, left(read), right(read))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.paths: list[Path] = []

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise MappingRuleError(f"in expression {self.text!r}: expected {value or 'more'}, "
                                   f"found {token[1] if token else 'the end'}")
        self.at += 1
        return token

    def parse(self) -> Evaluate:
        node = self.comparison()
        if self.peek() is not None:
            raise MappingRuleError(f"in expression {self.text!r}: unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return node

    def comparison(self) -> Evaluate:
        left = self.additive()
        token = self.peek()
        if token and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.additive()
            return lambda read, a=left, b=right: _compare(op, a(read), b(read))
        return left

    def _binary(self, ops: tuple[str, ...], operand: Callable[[], Evaluate]) -> Evaluate:
        node = operand()
        while (token := self.peek()) and token[0] == "op" and token[1] in ops:
            op = self.take()[1]
            right = operand()
            node = _binary_node(op, node, right)
        return node

    def additive(self) -> Evaluate:
        return self._binary(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Evaluate:
        return self._binary(("*", "/", "%"), self.unary)

    def unary(self) -> Evaluate:
        if self.peek() == ("op", "-"):
            self.take()
            operand = self.unary()
            return lambda read: None if (v := operand(read)) is None else -number(v)
        return self.primary()

    def primary(self) -> Evaluate:
        kind, value = self.take()
        if kind == "num":
            constant = Decimal(value)
            return lambda read: constant
        if kind == "str":
            text = value[1:-1]
            return lambda read: text
        if value == "(":
            node = self.comparison()
            self.take(")")
            return node
        if kind == "name":
            if self.peek() == ("op", "("):
                return self.call(value)
            if value in ("true", "false", "null"):
                literal = {"true": True, "false": False, "null": None}[value]
                return lambda read: literal
            path = parse_path(value)
            self.paths.append(path)
            return lambda read: read(path)
        raise MappingRuleError(f"in expression {self.text!r}: unexpected {value!r}")

    def call(self, name: str) -> Evaluate:
        if name not in FUNCTIONS:
            raise MappingRuleError(f"unknown function {name}() (known: {', '.join(sorted(FUNCTIONS))})")
        function, least, most = FUNCTIONS[name]
        self.take("(")
        args: list[Evaluate] = []
        if self.peek() != ("op", ")"):
            args.append(self.comparison())
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.comparison())
        self.take(")")
        if not least <= len(args) <= most:
            raise MappingRuleError(f"{name}() takes {least}" + (f" to {most}" if most != least else "")
                                   + f" arguments, not {len(args)}")
        return lambda read: function(*(a(read) for a in args))


def compile_expression(text: str) -> tuple[Evaluate, list[Path]]:
    """The expression as a function of a path reader, and the paths it reads."""
    if not isinstance(text, str) or not text.strip():
        raise MappingRuleError("an expression must be a non-empty string")
    if len(text) > 1000:
        raise MappingRuleError("an expression is at most 1000 characters")
    parser = _Parser(text)
    return parser.parse(), parser.paths
