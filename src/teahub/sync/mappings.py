"""Declarative mappings from a teahub record (an order or a customer) to an external system's document, in YAML.

    version: 3                 # bumped on every change; stored with each delivery (traceability)
    target: kingdee            # odoo | kingdee | yonyou | webhook
    record: order              # order | customer
    lookups:                   # tables for `lookup:` (a target's options may add or override: options.lookups)
      materials: {LJ-MQ26-250: "01.001"}
    fields:                    # output path (dotted; `name[]` for a list) ← source
      FBillNo: number                                  # short form: a source path
      FDate: {from: placed_at, format: {date: "%Y-%m-%d", tz: Asia/Shanghai}}
      FNote: {expr: "concat('teahub ', number)"}       # safe expression (no eval)
      FBillTypeID.FNUMBER: {value: XSDD01_SYS}         # a constant
      FState: {from: status, map: {paid: A, cancelled: Z}, default: A}
      FSaleOrderEntry[]:
        from: lines[]
        fields:
          FMaterialId.FNumber: {from: sku, lookup: materials}
          FTaxPrice: {expr: "net_amount / quantity / 100"}
          FQty: quantity

A field's value: `from` (path), `expr` or `value`; then `map` (value → value; a value not in it takes `default`,
or is an error), `lookup` (a table; same rule), `default` when still empty, `format` (yuan, int, str, upper,
lower, bool, {datetime|date: pattern, tz: zone}); `required: true` makes an empty result an error. Empty
values are left out of the document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path as FilePath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from teahub.errors import ValidationFailed
from teahub.sync.mapping_rules import (
    EACH,
    MappingRuleError,
    Path,
    compile_expression,
    compile_format,
    parse_path,
    plain,
    read_path,
    set_path,
)

MAPPINGS_DIR = FilePath(__file__).with_name("mappings")
TARGETS = ("odoo", "kingdee", "yonyou", "webhook")
RECORDS = ("order", "customer")
MAX_TEXT = 200_000


class MappingError(ValidationFailed):
    """A mapping that does not load (with the file, line and key) or does not apply to a record."""


class ApplyError(ValueError):
    """A record the mapping cannot turn into a document (an unmapped value, a missing lookup, a bad number)."""


# -- the shape of the file ------------------------------------------------------------------------------------
class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str | None = Field(None, alias="from")
    expr: str | None = None
    value: Any = None
    map: dict[str, Any] | None = None
    default: Any = None
    format: str | dict[str, Any] | None = None
    lookup: str | None = None
    required: bool = False
    fields: dict[str, FieldSpec] | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"from": data}
        if data is None:
            raise ValueError("a field needs a source: a path, or {from|expr|value: ...}")
        return data


class MappingDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    target: Literal["odoo", "kingdee", "yonyou", "webhook"]
    record: Literal["order", "customer"]
    description: str | None = None
    lookups: dict[str, dict[str, Any]] = Field(default_factory=dict)
    fields: dict[str, FieldSpec] = Field(min_length=1)


# -- compiled -------------------------------------------------------------------------------------------------
@dataclass
class CompiledField:
    output: str
    key: tuple[str, ...]  # where it is in the file, for errors
    read: Callable[[Callable[[Path], Any]], Any] | None
    spec: FieldSpec
    formatter: Callable[[Any], Any] | None
    each: Path | None = None  # a list output: the list to walk
    children: list[CompiledField] = field(default_factory=list)
    has_default: bool = False


@dataclass
class Mapping:
    name: str
    version: int
    target: str
    record: str
    lookups: dict[str, dict[str, Any]]
    fields: list[CompiledField]
    text: str

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"

    def apply(self, source: dict[str, Any], lookups: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """The document for one record. `lookups`: tables from the target's options (they win)."""
        tables = {**self.lookups, **(lookups or {})}
        out: dict[str, Any] = {}
        for compiled in self.fields:
            _apply_field(compiled, source, source, tables, out)
        return plain(out)


def _reader(element: Any, root: Any) -> Callable[[Path], Any]:
    return lambda path: read_path(root if path.root else element, path.parts)


def _where(compiled: CompiledField) -> str:
    return ".".join(compiled.key)


def _apply_field(compiled: CompiledField, element: Any, root: Any, tables: dict[str, dict[str, Any]],
                 out: dict[str, Any]) -> None:
    spec = compiled.spec
    if compiled.each is not None:
        items = read_path(root if compiled.each.root else element, compiled.each.parts[:-1])
        rows = []
        for item in items or []:
            row: dict[str, Any] = {}
            for child in compiled.children:
                _apply_field(child, item, root, tables, row)
            rows.append(row)
        if rows or spec.required:
            set_path(out, compiled.output, rows)
        return
    try:
        value = spec.value if compiled.read is None else compiled.read(_reader(element, root))
        if spec.map is not None and value is not None:
            key = str(plain(value)).lower() if isinstance(value, bool) else str(plain(value))
            if key in spec.map:
                value = spec.map[key]
            elif compiled.has_default:
                value = spec.default
            else:
                raise ApplyError(f"{_where(compiled)}: value {value!r} is not in its map ({', '.join(spec.map)})")
        if spec.lookup is not None and value is not None:
            table = tables.get(spec.lookup)
            if table is None:
                raise ApplyError(f"{_where(compiled)}: no lookup table {spec.lookup!r} (in the mapping's lookups "
                                 "or the target's options.lookups)")
            if str(value) in table:
                value = table[str(value)]
            elif compiled.has_default:
                value = spec.default
            else:
                raise ApplyError(f"{_where(compiled)}: {value!r} is not in lookup table {spec.lookup!r}")
        if value is None and compiled.has_default:
            value = spec.default
        if value is not None and compiled.formatter is not None:
            value = compiled.formatter(value)
    except (MappingRuleError, ArithmeticError, ValueError, TypeError, OverflowError) as exc:
        raise ApplyError(f"{_where(compiled)}: {exc}") from None
    if value is None or value == "":
        if spec.required:
            raise ApplyError(f"{_where(compiled)}: required, but the record has no value for it")
        return
    set_path(out, compiled.output, value)


# -- loading --------------------------------------------------------------------------------------------------
def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Each key path of the YAML document → its line (1-based)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, value in enumerate(node.value):
                child = (*path, str(index))
                lines[child] = value.start_mark.line + 1
                walk(value, child)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return lines
    if root is not None:
        lines[()] = root.start_mark.line + 1
        walk(root, ())
    return lines


class _Problems:
    def __init__(self, name: str, text: str) -> None:
        self.name, self.lines = name, _line_index(text)

    def error(self, key: tuple[str, ...], message: str) -> MappingError:
        probe = key
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        where = ".".join(key) or "(document)"
        return MappingError(f"{self.name}, line {line}, key {where}: {message}", field="mapping",
                            file=self.name, line=line, key=where)


def load_text(text: str, name: str = "<mapping>") -> Mapping:
    """Parse and validate a mapping; a problem raises MappingError naming the file, the line and the key."""
    problems = _Problems(name, text)
    if len(text) > MAX_TEXT:
        raise problems.error((), f"a mapping is at most {MAX_TEXT} characters")
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise problems.error((), "the document is nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise MappingError(f"{name}, line {line}: not valid YAML: {reason}", field="mapping", file=name,
                           line=line, key="") from None
    if not isinstance(data, dict):
        raise problems.error((), "a mapping is a YAML object with version, target, record and fields")
    try:
        doc = MappingDoc.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = tuple(str(p) for p in first["loc"])
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown key {key[-1]!r}"
        raise problems.error(key, message) from None
    compiled = [_compile(out, spec, ("fields", out), problems, doc.lookups, in_list=False)
                for out, spec in doc.fields.items()]
    return Mapping(name=FilePath(name).stem if name != "<mapping>" else name, version=doc.version,
                   target=doc.target, record=doc.record, lookups=doc.lookups, fields=compiled, text=text)


_OUTPUT = parse_path  # output keys follow the same name rules (without indexes)


def _compile(output: str, spec: FieldSpec, key: tuple[str, ...], problems: _Problems,
             lookups: dict[str, dict[str, Any]], *, in_list: bool) -> CompiledField:
    is_list = output.endswith("[]")
    name = output[:-2] if is_list else output
    try:
        parsed = _OUTPUT(name)
        if parsed.root or any(not isinstance(p, str) for p in parsed.parts):
            raise MappingRuleError(f"bad output key {output!r}: dotted names, `[]` only at the end")
    except MappingRuleError as exc:
        raise problems.error(key, str(exc)) from None
    given = [k for k in ("source", "expr", "value") if k in spec.model_fields_set]
    if is_list:
        if spec.fields is None or spec.source is None or given != ["source"]:
            raise problems.error(key, "a list field (name[]) needs `from: some.list[]` and `fields:`")
        if in_list:
            raise problems.error(key, "lists inside lists are not supported")
        try:
            each = parse_path(spec.source)
        except MappingRuleError as exc:
            raise problems.error((*key, "from"), str(exc)) from None
        if not each.each or each.parts[-1] is not EACH:
            raise problems.error((*key, "from"), f"{spec.source!r} must end with [] (each element)")
        children = [_compile(o, s, (*key, "fields", o), problems, lookups, in_list=True)
                    for o, s in spec.fields.items()]
        return CompiledField(name, key, None, spec, None, each=each, children=children)
    if spec.fields is not None:
        raise problems.error((*key, "fields"), "`fields` belongs to a list field (name[])")
    if len(given) != 1:
        raise problems.error(key, "give exactly one of from, expr, value" if given else
                             "a field needs one of from, expr, value")
    read = None
    try:
        if spec.source is not None:
            read = _path_reader(parse_path(spec.source))
        elif spec.expr is not None:
            read, _paths = compile_expression(spec.expr)
    except MappingRuleError as exc:
        raise problems.error((*key, given[0] if given[0] != "source" else "from"), str(exc)) from None
    formatter = None
    if spec.format is not None:
        try:
            formatter = compile_format(spec.format)
        except MappingRuleError as exc:
            raise problems.error((*key, "format"), str(exc)) from None
    return CompiledField(name, key, read, spec, formatter, has_default="default" in spec.model_fields_set)


def _path_reader(path: Path) -> Callable[[Callable[[Path], Any]], Any]:
    return lambda reader: reader(path)


def load_file(path: FilePath) -> Mapping:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read mapping {path}: {exc.strerror}", field="mapping") from None
    mapping = load_text(text, str(path))
    mapping.name = path.stem
    return mapping


def shipped() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


@cache
def _shipped(name: str) -> Mapping:
    return load_file(MAPPINGS_DIR / f"{name}.yaml")


def resolve(name_or_path: str) -> Mapping:
    """A shipped mapping by name (`odoo-order`) or a YAML file by path."""
    if name_or_path in shipped():
        return _shipped(name_or_path)
    path = FilePath(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_file(path)
    raise MappingError(f"no mapping {name_or_path!r} (shipped: {', '.join(shipped())}; or a path to a .yaml file)",
                       field="mapping")


def for_target(kind: str, record: str, options: dict[str, Any]) -> Mapping:
    """The mapping a target uses for a kind of record: options.mappings.<record> (a name or a path), else the
    shipped `<kind>-<record>`."""
    chosen = (options.get("mappings") or {}).get(record) or f"{kind}-{record}"
    mapping = resolve(str(chosen))
    if mapping.record != record:
        raise MappingError(f"mapping {mapping.name} maps {mapping.record}s, not {record}s", field="mapping")
    return mapping


# -- preview --------------------------------------------------------------------------------------------------
def listing() -> list[dict[str, Any]]:
    return [{"name": m.name, "version": m.version, "target": m.target, "record": m.record}
            for m in (resolve(n) for n in shipped())]


def preview(uow: Any, mapping: Mapping, *, sample: dict[str, Any] | None = None, record_id: int | None = None,
            lookups: dict[str, dict[str, Any]] | None = None, options: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """The document the mapping makes of a sample record, or of a stored order/customer (read as a connector
    reads it at delivery time), without sending anything."""
    if (sample is None) == (record_id is None):
        raise ValidationFailed("give a sample record or the id of a stored record", field="sample")
    if sample is not None:
        source = dict(sample)
        source.setdefault("options", options or {})
    else:
        from teahub.sync.erp import base

        assert record_id is not None
        read = base.order_source if mapping.record == "order" else base.customer_source
        source = read(uow, record_id, options or {})
    try:
        document = mapping.apply(source, lookups)
    except ApplyError as exc:
        raise MappingError(f"{mapping.name}: {exc}", field="sample") from None
    return {"mapping": mapping.name, "version": mapping.version, "target": mapping.target,
            "record": mapping.record, "document": document}
