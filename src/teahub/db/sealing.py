"""Personal data sealed at rest (PIPL): columns whose values are stored encrypted, and the keyed hash ("blind
index") that still lets teahub find a customer by phone, email or the last four digits without the clear value
ever being stored.

    phone: Mapped[str] = mapped_column(Sealed("customer.identity"))     # AES-256-GCM, random nonce per value
    phone_hash: Mapped[str] = mapped_column(String(32))                  # blind_index("identity", "phone:+86...")

The key comes from configuration: `TEAHUB_DATA_KEY` (32 random bytes, base64), or else the key file
`TEAHUB_DATA_KEY_FILE` (default ./teahub.key), created on first use so that a laptop set-up needs nothing.
Each sealed value names the key that sealed it, so a wrong key is reported as such instead of as garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, TypeDecorator
from sqlalchemy.sql import operators
from sqlalchemy.sql.operators import OperatorType

from teahub.config import Settings, get_settings

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT = "s1"  # sealed value format version: s1:<key id>:<base64(nonce + ciphertext + tag)>
INDEX_CHARS = 32  # 128 bits of HMAC-SHA256, hex


class SealingError(RuntimeError):
    """The data key is missing, malformed, or not the one that sealed a value."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    aead: AESGCM
    index_key: bytes

    @classmethod
    def from_bytes(cls, raw: bytes) -> DataKey:
        if len(raw) != KEY_BYTES:
            raise SealingError(f"the data key must be {KEY_BYTES} bytes (base64), got {len(raw)}")
        # Separate keys for encryption and for the blind index, both derived from the one configured key.
        derived = HKDF(algorithm=hashes.SHA256(), length=2 * KEY_BYTES, salt=None,
                       info=b"teahub personal data v1").derive(raw)
        return cls(key_id=hashlib.sha256(raw).hexdigest()[:8], aead=AESGCM(derived[:KEY_BYTES]),
                   index_key=derived[KEY_BYTES:])


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _decode_key(text: str, where: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SealingError(f"{where} is not base64: {exc}") from None


def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        # First start on a laptop: make a key, readable by its owner only.
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key_text() + "\n")
    return _decode_key(path.read_text(), f"the data key file {path}")


def load_key(settings: Settings) -> DataKey:
    if settings.data_key is not None:
        raw = _decode_key(settings.data_key.get_secret_value(), "TEAHUB_DATA_KEY")
    else:
        try:
            raw = _key_from_file(Path(settings.data_key_file))
        except FileExistsError:  # another process created it between our check and our open
            raw = _decode_key(Path(settings.data_key_file).read_text(), "the data key file")
    return DataKey.from_bytes(raw)


_lock = threading.Lock()
_current: DataKey | None = None


def data_key() -> DataKey:
    global _current
    if _current is None:
        with _lock:
            if _current is None:
                _current = load_key(get_settings())
    return _current


def use_key(key: DataKey | None) -> None:
    """Replace the process's key (None: read the configuration again on next use). For tests and tools."""
    global _current
    with _lock:
        _current = key


def seal(purpose: str, clear: str) -> str:
    key = data_key()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, clear.encode(), purpose.encode())
    return f"{FORMAT}:{key.key_id}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(purpose: str, stored: str) -> str:
    key = data_key()
    try:
        fmt, key_id, body = stored.split(":", 2)
    except ValueError:
        raise SealingError("a sealed column holds a value that was not sealed by teahub") from None
    if fmt != FORMAT:
        raise SealingError(f"unknown sealed value format {fmt!r}")
    if key_id != key.key_id:
        raise SealingError(f"this value was sealed with data key {key_id}; the configured key is {key.key_id}")
    raw = base64.b64decode(body)
    try:
        return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()
    except InvalidTag:
        raise SealingError("a sealed value failed its integrity check (tampered, or moved between columns)") \
            from None


def blind_index(purpose: str, clear: str) -> str:
    """The same clear value always gives the same index (so it can be unique and looked up); without the key
    nobody can compute it, so the index does not reveal phone numbers by trying them all."""
    key = data_key()
    return hmac.new(key.index_key, f"{purpose}\x00{clear}".encode(), hashlib.sha256).hexdigest()[:INDEX_CHARS]


class Sealed(TypeDecorator[str]):
    """A text column stored sealed. Equality cannot work on it (every sealing differs), so comparisons raise:
    look values up through their blind index instead."""

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):  # noqa: N801 - SQLAlchemy's hook name
        def operate(self, op: OperatorType, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.is_, operators.is_not):  # NULL tests do not need the value
                return super().operate(op, *other, **kwargs)
            raise TypeError("a sealed column cannot be compared in SQL; use its blind index")

        def reverse_operate(self, op: OperatorType, other: Any, **kwargs: Any) -> Any:
            raise TypeError("a sealed column cannot be compared in SQL; use its blind index")

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(self.purpose, value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else unseal(self.purpose, value)


class SealedDate(TypeDecorator[date]):
    """A date stored sealed (a birthday)."""

    impl = Text
    cache_ok = True
    comparator_factory = Sealed.comparator_factory

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def process_bind_param(self, value: date | None, dialect: Any) -> str | None:
        return None if value is None else seal(self.purpose, value.isoformat())

    def process_result_value(self, value: str | None, dialect: Any) -> date | None:
        return None if value is None else date.fromisoformat(unseal(self.purpose, value))
