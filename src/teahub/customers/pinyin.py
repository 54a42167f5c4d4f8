"""Pinyin initials of a name (张三丰 → "zsf"), for finding a customer by the letters a clerk types.

No dictionary library: the 3,755 common characters of GB2312 (level 1, 0xB0A1-0xD7F9) are ordered by their
pinyin, so a character's first letter is the section of that range its GB2312 code falls in. Level 2 and
characters outside GB2312 are ordered by radical: the ones common in names are listed in `_EXTRA`. A few
surnames are read differently from the character's usual reading (单 Shan, 解 Xie): `_SURNAMES` gives those,
for the first characters of a name. ASCII letters are kept (lowercased); anything else is left out.
"""

from __future__ import annotations

from bisect import bisect_right

# Where each first letter's section of GB2312 level 1 begins (i, u and v begin no syllable).
_SECTIONS = (
    (0xB0A1, "a"), (0xB0C5, "b"), (0xB2C1, "c"), (0xB4EE, "d"), (0xB6EA, "e"), (0xB7A2, "f"), (0xB8C1, "g"),
    (0xB9FE, "h"), (0xBBF7, "j"), (0xBFA6, "k"), (0xC0AC, "l"), (0xC2E8, "m"), (0xC4C3, "n"), (0xC5B6, "o"),
    (0xC5BE, "p"), (0xC6DA, "q"), (0xC8BB, "r"), (0xC8F6, "s"), (0xCBFA, "t"), (0xCDDA, "w"), (0xCEF4, "x"),
    (0xD1B9, "y"), (0xD4D1, "z"),
)
_STARTS = tuple(start for start, _ in _SECTIONS)
_LEVEL1_END = 0xD7F9

# Characters common in names that level 1 does not hold, by first letter.
_EXTRA_BY_LETTER = {
    "b": "璧蓓镔",
    "c": "琛宸偲琮晁",
    "d": "棣黛娣铎",
    "f": "斐沣璠",
    "g": "罡赓郜",
    "h": "昊晗菡灏皓桦骅珩泓晖蕙",
    "j": "婧菁瑾珺珈瑨隽璟婕嵇",
    "k": "锴恺珂堃琨邝",
    "l": "璐岚俪蔺翎珑璘逯郦",
    "m": "淼沐茗嫚缪",
    "n": "旎楠",
    "p": "芃霈珮濮",
    "q": "琪琦祺骐麒倩茜芊覃瞿亓",
    "r": "睿芮嵘榕",
    "s": "姗晟笙佘",
    "t": "婷韬潼",
    "w": "薇玮炜琬雯",
    "x": "萱暄煊璇昕鑫歆潇筱曦羲栩煦骁冼郗",
    "y": "怡媛钰煜昱毓彧烨熠奕弈懿漪妍嫣滢瑛垚宥闫鄢玥",
    "z": "梓祯桢蓁喆倬缜",
}
_EXTRA = {char: letter for letter, chars in _EXTRA_BY_LETTER.items() for char in chars}
# Surnames whose reading differs from the character's usual one (two-character surnames first).
_SURNAMES = {"尉迟": "yc", "长孙": "zs", "单": "s", "解": "x", "仇": "q", "查": "z", "区": "o", "翟": "z"}


def _initial(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalpha() else ""
    if char in _EXTRA:
        return _EXTRA[char]
    try:
        code = char.encode("gb2312")
    except UnicodeEncodeError:
        return ""
    if len(code) != 2:
        return ""
    value = code[0] << 8 | code[1]
    if not _STARTS[0] <= value <= _LEVEL1_END:
        return ""
    return _SECTIONS[bisect_right(_STARTS, value) - 1][1]


def initials_of(name: str | None) -> str | None:
    """The first letter of each syllable of a name: 张三丰 → "zsf", 欧阳娜娜 → "oynn"; "Li Lei" → "lilei"
    (Latin letters are kept as they are). None when nothing in the name has one."""
    if not name:
        return None
    text = name.strip()
    head = ""
    for surname, letters in _SURNAMES.items():
        if text.startswith(surname):
            head, text = letters, text[len(surname):]
            break
    letters = head + "".join(_initial(char) for char in text)
    return letters[:40] or None
