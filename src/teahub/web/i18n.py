"""Languages of the web UI: Chinese (zh-CN) by default, English on request.

Source strings are English; the JSON files in `locale/zh-CN/` (one per area of the UI) map each to its Chinese.
A string missing from the catalog is shown in English (a test checks that every string the templates use has its
translation)."""

from __future__ import annotations

import json
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


def translator(language: str) -> Callable[..., str]:
    messages = catalog(language)

    def translate(text: str, **values: object) -> str:
        shown = messages.get(text, text)
        return shown.format(**values) if values else shown

    return translate
