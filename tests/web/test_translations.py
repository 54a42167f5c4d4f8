"""Every text a template or a page script shows has its Chinese translation (the default language)."""

from __future__ import annotations

import re
from importlib import resources

from teahub.web.i18n import catalog

# _('Text') and _("Text") in templates; t("Text") in scripts.
CALLS = re.compile(r"""(?:\b_|\bt)\(\s*(?P<q>['"])(?P<text>(?:(?!(?P=q)).)+)(?P=q)""")


def _sources() -> list[tuple[str, str]]:
    root = resources.files("teahub.web")
    found = []
    for folder, suffix in (("templates", ".html"), ("static", ".js")):
        stack = [root.joinpath(folder)]
        while stack:
            node = stack.pop()
            for child in node.iterdir():
                if child.is_dir():
                    stack.append(child)
                elif child.name.endswith(suffix) and not child.name.endswith(".min.js"):
                    found.append((f"{folder}/{child.name}", child.read_text(encoding="utf-8")))
    return found


def test_every_shown_text_has_its_chinese() -> None:
    chinese = catalog("zh-CN")
    missing = sorted({f"{name}: {m['text']}" for name, text in _sources() for m in CALLS.finditer(text)
                      if m["text"] not in chinese})
    assert missing == []


def test_the_catalog_finds_texts_in_templates() -> None:
    # The scan itself works: the login form's texts are found and translated.
    texts = {m["text"] for _name, text in _sources() for m in CALLS.finditer(text)}
    assert {"Log in", "User name", "Password"} <= texts


def test_problem_details_made_with_values_are_translated_with_them() -> None:
    from teahub.web.i18n import translator

    zh = translator("zh-CN")
    assert zh("you may not act for location HZ01") == "您无权操作地点 HZ01"
    # The values are words too: a status is shown in Chinese inside the sentence.
    assert zh("a quote that is accepted takes no new version") == f"{zh('accepted')}的报价不能再出新版本"
    assert zh("something no catalog knows") == "something no catalog knows"
    assert translator("en")("you may not act for location HZ01") == "you may not act for location HZ01"
