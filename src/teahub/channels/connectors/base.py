"""What every platform connector turns its platform's data into, and the protocol a connector follows.

A connector is pure translation plus the platform's signing: it knows its platform's order and refund shapes,
status mapping, money units, time zone and message format, and it never touches the database. The channels
service stores every inbound message raw first, then asks the connector what it means.

Money is int fen (yuan strings are converted exactly with Decimal), times are aware UTC, ids stay strings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

from teahub.errors import Conflict, DomainError, ValidationFailed
from teahub.money import distribute

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


# -- what a platform order means to teahub --------------------------------------------------------
@dataclass(frozen=True)
class PlatformLine:
    """One line as the platform sent it. `paid` is what the buyer paid for the line in fen, postage excluded;
    `merchant_codes` are the merchant's own codes, most specific first (outer_sku_id, then the item's)."""

    line_id: str  # the platform's line id (oid, sub order id), or the line's index where there is none
    title: str
    quantity: int
    price: int  # fen per piece, before discounts
    paid: int
    merchant_codes: tuple[str, ...] = ()
    platform_sku_id: str | None = None  # the platform's SKU id, or its item id for an item without SKUs
    field: str = ""  # where the line is in the platform's document, for error messages
    code_field: str = "outer_sku_id"  # the platform's name for the merchant code


@dataclass(frozen=True)
class PlatformRefund:
    """A refund the platform completed (money went back to the buyer). No `line_ids`: the whole order."""

    refund_id: str
    amount: int
    line_ids: tuple[str, ...] = ()
    returned: bool = False  # the goods came back (return and refund), else refund only


@dataclass(frozen=True)
class Receiver:
    """The receiver as the platform sent it: masked or encrypted values are kept as they are, never guessed."""

    name: str | None = None
    phone: str | None = None
    address: str | None = None

    def as_text(self) -> dict[str, str | None]:
        return {"name": self.name, "phone": self.phone, "address": self.address}


@dataclass(frozen=True)
class PlatformOrder:
    external_id: str
    platform_status: str
    status: str | None  # the teahub status it maps to (None: the platform's state says nothing new)
    paid: bool
    total: int  # fen the buyer paid, postage included
    shipping_fee: int
    lines: tuple[PlatformLine, ...]
    placed_at: datetime
    modified_at: datetime | None = None
    paid_at: datetime | None = None
    version: int | None = None  # a platform message version, where the platform orders updates by it
    refunds: tuple[PlatformRefund, ...] = ()
    identities: tuple[tuple[str, str], ...] = ()  # (kind, value) buyer ids; never a masked value
    buyer_name: str | None = None  # nick as shown (often masked)
    receiver: Receiver = field(default_factory=Receiver)

    def check(self) -> None:
        """The lines must add up to what the buyer paid: teahub keeps money exact."""
        goods = sum(line.paid for line in self.lines)
        if goods + self.shipping_fee != self.total:
            raise ValidationFailed(f"the lines ({goods} fen) and postage ({self.shipping_fee}) do not add up to "
                                   f"what the buyer paid ({self.total})", field="lines")


@dataclass(frozen=True)
class PushMessage:
    """One message of a push body. It is a hint: it may carry the whole order (as the order-detail API answers
    it), a completed refund, or only the order id, in which case the order is fetched."""

    message_id: str
    topic: str
    external_id: str | None
    body: dict[str, Any]  # the message itself, stored raw in the inbox
    order_document: dict[str, Any] | None = None
    refund: PlatformRefund | None = None
    version: int | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class ShopSecrets:
    app_key: str
    app_secret: str
    access_token: str | None = None


@dataclass(frozen=True)
class OrderRef:
    """An order id a platform's list API gave, with its modified time."""

    external_id: str
    modified_at: datetime | None = None


class PlatformApi(Protocol):
    """Calls a platform's API with its signing (see teahub.channels.client)."""

    def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StockUpdate:
    """How many of one platform SKU a shop shows (a full update, never an increment). The platform SKU is named
    by its SKU id or by the merchant code, with the item id where the platform's stock API wants it (for an item
    without SKUs the platform SKU id is the item id). `idempotency_key` is the same for a retry of the same
    update, for platforms that dedupe on one (Douyin `idempotent_id`)."""

    platform_sku_id: str | None
    merchant_code: str | None
    quantity: int
    item_id: str | None = None
    idempotency_key: str = ""

    def item(self) -> str | None:
        """The item id: given, or the platform SKU id of an item without SKUs."""
        return self.item_id or self.platform_sku_id

    def sku_of_item(self) -> str | None:
        """The platform SKU id inside the item, when the update names one beside the item."""
        return self.platform_sku_id if self.item_id and self.platform_sku_id != self.item_id else None


class StockRefused(Conflict):
    """The platform answered a stock update with an error, or the update lacks an id the platform needs."""

    title = "The platform refused the stock update"


class Connector(Protocol):
    platform: str
    channel: str  # the teahub sales channel its orders are placed on
    gateway: str  # the platform's API base URL (a shop's api_url replaces it: sandbox, simulator)
    max_window: timedelta  # the longest modified-time window the platform's list API accepts

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        """One order exactly as the platform's order-detail API answers it, envelope included."""
        ...

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        """The order id, without interpreting the rest (to name an inbox message that fails to parse)."""
        ...

    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool: ...

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        """The messages of one push body (verified first), each as it will be stored."""
        ...

    def read_push(self, message: Mapping[str, Any]) -> PushMessage:
        """What one stored message means."""
        ...

    def push_ack(self) -> dict[str, Any]:
        """The acknowledgement the platform expects for a push it should not send again."""
        ...

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        """The orders modified in [since, until), every page."""
        ...

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        """The order-detail API's answer for one order (envelope included), as parse_order takes it."""
        ...

    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str: ...

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        """(path and query, headers, body) of one signed API call."""
        ...

    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """Set what the shop shows of one platform SKU through the platform's stock API; raises StockRefused
        when the platform says no (or PlatformUnavailable, from the client, when it cannot be reached)."""
        ...


# -- naming a push message without reading all of it -----------------------------------------------
@dataclass(frozen=True)
class PushKeys:
    """What a push message is stored under: its message id, topic and order id."""

    message_id: str
    topic: str
    external_id: str | None


@runtime_checkable
class CheapPushKeys(Protocol):
    """A connector that can name a push message from its envelope alone (Youzan's order is URL-encoded JSON
    inside the message: decoding it is left to processing)."""

    def push_keys(self, message: Mapping[str, Any]) -> PushKeys:
        """The same keys `read_push` gives the message."""
        ...


def push_keys(connector: Connector, message: Mapping[str, Any]) -> PushKeys:
    """What a push message is stored under, as cheaply as its connector can tell."""
    if isinstance(connector, CheapPushKeys):
        return connector.push_keys(message)
    read = connector.read_push(message)
    return PushKeys(read.message_id, read.topic, read.external_id)


# -- several stock updates at once ----------------------------------------------------------------
@dataclass(frozen=True)
class StockPushed:
    """The platform took one update. `call` numbers the API calls of one `stock_updates`: updates sent in one
    call share it, so a caller can count the calls behind what it pushed."""

    answer: dict[str, Any]
    call: int


StockResult = StockPushed | DomainError  # what became of one update: taken, or its own error


@runtime_checkable
class StockBatching(Protocol):
    """A connector whose platform sets several SKUs in one call (Taobao/Tmall `taobao.skus.quantity.update`)."""

    def stock_updates(self, api: PlatformApi, updates: Sequence[StockUpdate]) -> list[StockResult]:
        """One result per update, in the order given; never raises a DomainError, it becomes the result of
        every update the failed call carried."""
        ...


def stock_updates(connector: Connector, api: PlatformApi, updates: Sequence[StockUpdate]) -> list[StockResult]:
    """Set what a shop shows of several platform SKUs: in batches where the connector can, else one
    `stock_update` call each (a failure fails that update only)."""
    if isinstance(connector, StockBatching):
        return connector.stock_updates(api, updates)
    results: list[StockResult] = []
    for call, update in enumerate(updates, 1):
        try:
            results.append(StockPushed(connector.stock_update(api, update), call))
        except DomainError as exc:
            results.append(exc)
    return results


# -- shared conversions ---------------------------------------------------------------------------
def fen(value: Any, where: str) -> int:
    """Yuan ("13.80", "13.8", 13.8 as text) to fen, exactly; more than two decimals is refused."""
    if value is None or value == "":
        return 0
    if isinstance(value, float):
        value = repr(value)  # never trust binary floats with money: go through their shortest text
    try:
        amount = Decimal(str(value).strip()) * 100
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not an amount in yuan", field=where) from None
    if amount != amount.to_integral_value() or amount < 0:
        raise ValidationFailed(f"{value!r} is not a whole number of fen", field=where)
    return int(amount)


def whole(value: Any, where: str, *, minimum: int = 0) -> int:
    """An integer sent as a number or a string (fen amounts, quantities); floats with a fraction refused."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed(f"{where} is missing", field=where)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not a whole number", field=where) from None
    if number != number.to_integral_value() or number < minimum:
        raise ValidationFailed(f"{value!r} is not a whole number of at least {minimum}", field=where)
    return int(number)


def beijing(value: Any, where: str) -> datetime | None:
    """A `yyyy-MM-dd HH:mm:ss` Beijing time (the platforms' local time) as aware UTC; empty is None."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) != 19 or text[10] != " ":
            raise ValueError(text)
        local = datetime.fromisoformat(text)  # that shape only; much faster than strptime
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a time like 2026-11-11 00:00:05", field=where) from None
    return local.replace(tzinfo=BEIJING).astimezone(UTC)


def beijing_text(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def unix_seconds(value: Any, where: str) -> datetime | None:
    if value is None or value == "" or value == 0:
        return None
    seconds = whole(value, where)
    if seconds > 10**11:  # milliseconds
        return datetime.fromtimestamp(seconds / 1000, UTC).replace(microsecond=(seconds % 1000) * 1000)
    return datetime.fromtimestamp(seconds, UTC)


def text_id(value: Any, where: str) -> str:
    """A platform id as text, exactly: 64-bit ids arrive as JSON integers (parsed exactly) or strings."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed(f"{where} is missing", field=where)
    if isinstance(value, float):
        raise ValidationFailed(f"{where} came as a floating-point number and may have lost digits", field=where)
    return str(value).strip()


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def codes(*values: Any) -> tuple[str, ...]:
    """Non-empty merchant codes, in order, without repeats."""
    seen: list[str] = []
    for value in values:
        text = optional_text(value)
        if text and text not in seen and text.lower() != "null":
            seen.append(text)
    return tuple(seen)


def platform_sku(sku_id: Any, item_id: Any) -> str | None:
    """The platform SKU id; an item without SKUs (sku id 0 or empty) is named by its item id."""
    sku = optional_text(sku_id)
    if sku and sku != "0":
        return sku
    return optional_text(item_id)


def dig(document: Mapping[str, Any], *path: str) -> Any:
    """document[path0][path1]…, refusing a missing envelope with the path that is missing."""
    current: Any = document
    walked: list[str] = []
    for key in path:
        walked.append(key)
        if not isinstance(current, Mapping) or key not in current or current[key] is None:
            raise ValidationFailed(f"{'.'.join(walked)} is missing", field=".".join(walked))
        current = current[key]
    return current


def as_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailed(f"{where} is not a list", field=where)
    return value


def loads(body: bytes | str, where: str = "body") -> Any:
    """JSON with big integers kept exact (Python's json does) and floats kept as their text (never binary)."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("the body is not JSON", field=where) from None


def md5_upper(text: bytes) -> str:
    return hashlib.md5(text).hexdigest().upper()  # noqa: S324 - the platforms' own signing scheme


def md5_lower(text: bytes) -> str:
    return hashlib.md5(text).hexdigest()  # noqa: S324 - the platforms' own signing scheme


def sorted_pairs(params: Mapping[str, str], skip: tuple[str, ...] = ("sign",)) -> bytes:
    """k1v1k2v2… sorted by key, the string Taobao, JD and Pinduoduo sign."""
    return "".join(f"{k}{params[k]}" for k in sorted(params) if k not in skip and params[k] is not None).encode()


def secret_wrapped_md5(secret: str, params: Mapping[str, str], body: bytes = b"") -> str:
    """Uppercase hex MD5(secret + k1v1k2v2… + body + secret)."""
    return md5_upper(secret.encode() + sorted_pairs(params) + body + secret.encode())


def query_signed_md5(secrets: ShopSecrets, body: bytes, query: Mapping[str, str], *, key_param: str) -> bool:
    """A push signed like the platform's API (JD, PDD): `sign` = secret-wrapped MD5 of the other query
    parameters and the body; the app key, when given under `key_param`, must be the shop's."""
    params = {k: v for k, v in query.items() if k != "sign"}
    if params.get(key_param) not in (None, secrets.app_key):
        return False
    return same(query.get("sign"), secret_wrapped_md5(secrets.app_secret, params, body))


def reconcile(paid: list[int], goods: int, fallback: list[int]) -> list[int]:
    """Line amounts that add up to `goods` exactly: as the platform gave them when they do, else `goods` split
    in proportion to them (or to `fallback`, e.g. price × quantity, when the platform gave none)."""
    if sum(paid) == goods:
        return paid
    weights = paid if sum(paid) > 0 else fallback
    if sum(weights) <= 0:
        weights = [1] * len(paid)
    return distribute(goods, weights) if paid else []


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.strip().upper(), b.upper())
