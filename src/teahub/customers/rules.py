"""Customer rules as plain Python: identity normalization, phone masking, tiers, payment terms.

No I/O and no session. Every refusal is a ValidationFailed naming the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from teahub.customers.models import IDENTITY_KINDS
from teahub.errors import ValidationFailed

DEFAULT_REGION = "CN"
CN_COUNTRY_CODE = 86
# Mainland mobile numbers: 11 digits starting 13–19. Accepted even when the phonenumbers metadata lags
# behind a newly opened number range.
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
# What a typed or pasted phone number may contain (\d also matches full-width digits).
_PHONE_CHARS = re.compile(r"[\d\s+\-().]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")
_NET_TERMS = re.compile(r"net(\d{1,3})")

MAX_IDENTITY_LENGTH = 128
MAX_EMAIL_LENGTH = 128
MAX_NAME_LENGTH = 100

TIERS: tuple[str | None, ...] = (None, "member", "vip")
# Payment terms a company customer may have; besides these, "net<days>" (net30, net60 ...).
PAYMENT_TERMS = ("prepaid", "cod", "monthly")


# -- phones ---------------------------------------------------------------------------------------
def normalize_phone(raw: str, *, mobile_only: bool = True, field: str = "phone") -> str:
    """The E.164 form of a phone number typed in any usual way; numbers without a country code are
    Chinese. A Chinese number must be a mobile number unless `mobile_only` is False; a foreign one must
    be valid."""
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed("a phone number is needed", field=field)
    if len(text) > 32 or not _PHONE_CHARS.fullmatch(text):
        raise ValidationFailed(f"{raw!r} is not a phone number", field=field)
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException:
        raise ValidationFailed(f"{raw!r} is not a phone number", field=field) from None
    national = str(number.national_number)
    if number.country_code == CN_COUNTRY_CODE:
        is_mobile = bool(_CN_MOBILE.fullmatch(national)) or phonenumbers.number_type(number) in (
            PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
        if is_mobile and len(national) == 11:
            return f"+86{national}"
        if mobile_only or not phonenumbers.is_valid_number(number):
            raise ValidationFailed(f"{raw!r} is not a mainland China mobile number", field=field)
    elif not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{raw!r} is not a valid phone number", field=field)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def try_normalize_phone(raw: str) -> str | None:
    try:
        return normalize_phone(raw)
    except ValidationFailed:
        return None


# A Chinese address's first characters name the province and city (浙江省杭州市): shown, the rest masked.
ADDRESS_REGION_CHARS = 6


def phone_last4(e164: str) -> str:
    """The last four digits of a normalized phone number (what a customer tells the clerk)."""
    return e164[-4:]


def mask_phone(e164: str | None) -> str | None:
    """A phone number fit to show on a screen or a receipt: +86 138****5678."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
        prefix, national = f"+{number.country_code} ", str(number.national_number)
    except NumberParseException:
        prefix, national = "", re.sub(r"\D", "", e164)
    if len(national) >= 8:
        masked = national[:3] + "*" * (len(national) - 7) + national[-4:]
    else:
        masked = "*" * max(len(national) - 2, 1) + national[-2:]
    return prefix + masked


def mask_text(value: str | None, keep_start: int = 1, keep_end: int = 1) -> str | None:
    """Enough of a value to recognise it, not to use it: 王**, t***k, 浙江省杭州市****."""
    if not value:
        return value
    if len(value) <= keep_start + keep_end:
        return value[:1] + "*" * (len(value) - 1)
    return value[:keep_start] + "*" * min(len(value) - keep_start - keep_end, 6) + value[len(value) - keep_end:]


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return mask_text(email)
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_identity(kind: str, value: str) -> str:
    if kind == "phone":
        return mask_phone(value) or ""
    if kind == "email":
        return mask_email(value) or ""
    return mask_text(value, 1, 1) or ""


def masked_view(view: dict[str, Any]) -> dict[str, Any]:
    """A customer as shown to a role that need not see their personal data (PIPL minimum necessary): phone,
    email, identities and contacts masked, the address cut to its region, the birthday reduced to its month."""
    shown = dict(view)
    shown["phone"] = view.get("phone_masked")
    shown["email"] = mask_email(view.get("email"))
    shown["identities"] = [{**i, "value": mask_identity(i["kind"], i["value"])} for i in view.get("identities", [])]
    shown["contacts"] = [{**c, "phone": mask_phone(c.get("phone")), "email": mask_email(c.get("email"))}
                         for c in view.get("contacts", [])]
    shown["address"] = mask_text(view.get("address"), ADDRESS_REGION_CHARS, 0)
    shown["birthday"] = None
    shown["personal_data_masked"] = True
    return shown


# -- other identities -----------------------------------------------------------------------------
def normalize_email(raw: str, *, field: str = "email") -> str:
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationFailed("an email address is needed", field=field)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise ValidationFailed(f"{raw!r} is not an email address", field=field)
    return email


def is_masked(value: str) -> bool:
    """Marketplaces often send buyer ids and phones masked (t**1, 138****5678): such a value is shared
    by many people and must never identify a customer."""
    return "*" in value


def normalize_identity(kind: str, value: str, *, field: str | None = None, kind_field: str = "kind") -> str:
    """The stored form of an identity value. `field` names the value in errors (default: the kind)."""
    if kind not in IDENTITY_KINDS:
        raise ValidationFailed(f"identity kind must be one of {', '.join(IDENTITY_KINDS)}", field=kind_field)
    field = field or kind
    if kind == "phone":
        return normalize_phone(value, field=field)
    if kind == "email":
        return normalize_email(value, field=field)
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"a {kind} identity needs a value", field=field)
    if len(text) > MAX_IDENTITY_LENGTH:
        raise ValidationFailed(f"a {kind} identity has at most {MAX_IDENTITY_LENGTH} characters",
                               field=field)
    if is_masked(text):
        raise ValidationFailed(f"{text!r} is masked and cannot identify one customer", field=field)
    return text


def normalize_name(raw: str | None, *, field: str = "name") -> str:
    name = " ".join((raw or "").split())
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"a name has at most {MAX_NAME_LENGTH} characters", field=field)
    return name


# -- tiers and terms ------------------------------------------------------------------------------
def default_tier(has_phone: bool) -> str | None:
    """A customer who gave a phone number is a member; anyone else pays list price."""
    return "member" if has_phone else None


def higher_tier(a: str | None, b: str | None, rank: Callable[[str | None], int]) -> str | None:
    """The better of two tiers, by the programme's ranks."""
    return a if rank(a) >= rank(b) else b


def normalize_payment_terms(raw: str | None, *, field: str = "payment_terms") -> str | None:
    if raw is None:
        return None
    terms = raw.strip().lower().replace(" ", "")
    if not terms:
        return None
    if terms in PAYMENT_TERMS:
        return terms
    match = _NET_TERMS.fullmatch(terms)
    if match and 1 <= int(match.group(1)) <= 365:
        return f"net{int(match.group(1))}"
    raise ValidationFailed(
        f"payment terms must be one of {', '.join(PAYMENT_TERMS)} or net<days> (e.g. net30)", field=field)


# -- search ---------------------------------------------------------------------------------------
QueryKind = Literal["last4", "phone", "text"]


def classify_query(q: str) -> tuple[QueryKind, str]:
    """What a search box entry means: the last four digits of a phone, a full phone, or a name."""
    text = q.strip()
    if re.fullmatch(r"\d{4}", text):
        return "last4", text
    phone = try_normalize_phone(text) if _PHONE_CHARS.fullmatch(text) else None
    if phone is not None:
        return "phone", phone
    return "text", text
