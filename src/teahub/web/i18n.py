"""Languages of the web UI: Chinese (zh-CN) by default, English on request.

Source strings are English; the JSON files in `locale/zh-CN/` (one per area of the UI) map each to its Chinese.
A string missing from the catalog is shown in English (a test checks that every string the templates use has its
translation)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources

DEFAULT_LANGUAGE = "zh-CN"
LANGUAGES = {"zh-CN": "中文", "en": "English"}
LANGUAGE_COOKIE = "teahub_lang"


@cache
def catalog(language: str) -> dict[str, str]:
    if language == "en":
        return {}
    messages: dict[str, str] = {}
    folder = resources.files("teahub.web").joinpath("locale", language)
    for part in sorted(folder.iterdir(), key=lambda p: p.name):
        if part.name.endswith(".json"):
            messages.update(json.loads(part.read_text(encoding="utf-8")))
    return messages


def pick(cookie: str | None, accept_language: str | None = None) -> str:
    """The cookie (the user's switch) wins; then the browser's first choice, when it is English; else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    first = (accept_language or "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else DEFAULT_LANGUAGE


_PLACEHOLDER = re.compile(r"\\\{(\w+)\\\}")  # "{name}" once re.escape has been through it


@cache
def _patterns(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Catalog entries with placeholders ("no order {order}") as patterns, to translate a message that was
    made with values in it (the detail of a problem the API raised)."""
    return tuple((re.compile("^" + _PLACEHOLDER.sub(r"(?P<\1>.+?)", re.escape(source)) + "$", re.S), target)
                 for source, target in catalog(language).items() if "{" in source)


def translator(language: str) -> Callable[..., str]:
    messages = catalog(language)

    def translate(text: str, **values: object) -> str:
        if values:
            return messages.get(text, text).format(**values)
        shown = messages.get(text)
        if shown is not None or not messages or not isinstance(text, str):
            return shown if shown is not None else text
        for pattern, target in _patterns(language):
            found = pattern.match(text)
            if found:  # the values are translated too when they are words of the catalog (a status, a role)
                return target.format(**{k: messages.get(v, v) for k, v in found.groupdict().items()})
        return text

    return translate
