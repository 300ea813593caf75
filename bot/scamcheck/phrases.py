"""The language of the checker's phrases (`knowledge/scamcheck/phrases.yaml`, whose header
explains it) and the phrases as named lists, the form in which editors keep them in the
admin site (bot/services/scamlists.py) like the domain lists: each word list (`word.otp`),
each sign's patterns (`sign.asks-otp-or-password`) and the lists that tell a received
message from the resident's own request, a question about scams, or a body's own channel.
A saved list replaces the file's list of that name; `check_pattern` says what is wrong
with a line before it is saved.
"""

from __future__ import annotations

import copy
import re
from typing import Any

__all__ = ["PATTERN_LISTS", "UnknownWords", "apply", "check_pattern", "expand", "named_lists", "split_alternatives", "to_regex"]

#: The lists of whole patterns beside the signs' own (their order in the admin page).
PATTERN_LISTS = ("received", "own_request", "question", "official_channel")
WORD, SIGN = "word.", "sign."

_SEP = r"[\W_]++"  # possessive: no backtracking into separators (Python 3.11+)
_GAP_SEP = r"(?:[^\w.!?\n]|_|\.(?=\w))++"  # a gap does not cross the end of a sentence (5.000.000 is no end)
_GAP = _GAP_SEP + r"(?:[^\W_]++" + _GAP_SEP + r"){0,5}?"


class UnknownWords(ValueError):
    """A pattern names a {word list} that does not exist."""

    def __init__(self, name: str, pattern: str) -> None:
        super().__init__(f"unknown word list {{{name}}} in pattern {pattern!r}")
        self.name = name


def expand(pattern: str, words: dict[str, str]) -> str:
    """The pattern with each {name} replaced by that word list."""
    def macro(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in words:
            raise UnknownWords(name, pattern)
        return "(?:" + words[name] + ")"

    return re.sub(r"\{([a-z_]+)\}", macro, pattern)


def to_regex(expanded: str) -> str:
    """The regular expression of an expanded pattern: a space is any run of separators,
    " ~ " a gap of a few words in one sentence, " ?" an optional separator; whole words."""
    expanded = expanded.replace(" ~ ", "\x00").replace(" ?", "\x01").replace(" ", _SEP)
    expanded = expanded.replace("\x00", _GAP).replace("\x01", r"[\W_]*")
    return r"(?<!\w)(?:" + expanded + r")(?!\w)"


def split_alternatives(pattern: str) -> list[str]:
    """The alternatives of a pattern at nesting depth 0 ("a|b(c|d)" → ["a", "b(c|d)"])."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            cur.append(pattern[i:i + 2])
            i += 2
            continue
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return parts


def named_lists(phrases: dict[str, Any]) -> dict[str, list[str]]:
    """Every list of the parsed `phrases.yaml`, by name: a word list is one line per word."""
    out: dict[str, list[str]] = {}
    for name, alternatives in (phrases.get("words") or {}).items():
        out[WORD + name] = [a for a in split_alternatives(str(alternatives)) if a]
    for sign, spec in (phrases.get("signs") or {}).items():
        out[SIGN + sign] = [str(p) for p in (spec or {}).get("patterns") or []]
    for name in PATTERN_LISTS:
        out[name] = [str(p) for p in phrases.get(name) or []]
    return out


def apply(phrases: dict[str, Any], overrides: dict[str, list[str]]) -> dict[str, Any]:
    """A copy of the parsed phrases with the editors' lists in place of the file's; names
    that are not phrase lists (the domain lists) are left to the caller."""
    out = copy.deepcopy(phrases)
    for name, items in overrides.items():
        if name.startswith(WORD):
            out.setdefault("words", {})[name[len(WORD):]] = "|".join(items)
        elif name.startswith(SIGN):
            out.setdefault("signs", {}).setdefault(name[len(SIGN):], {})["patterns"] = list(items)
        elif name in PATTERN_LISTS:
            out[name] = list(items)
    return out


def check_pattern(line: str, words: dict[str, str], whole: bool = True) -> str | None:
    """What is wrong with one line of a list (None: nothing): an unknown {word list}, a
    regular expression that does not compile, or one that matches an empty text or any
    word at all (it would fire on every message). `whole`: a full pattern, not one word."""
    if not line.strip():
        return "dòng trống"
    if len(line) > 400:
        return "dài quá 400 ký tự: hãy tách thành nhiều dòng"
    try:
        expanded = expand(line, words)
        regex = re.compile(to_regex(expanded) if whole else expanded)
    except UnknownWords as e:
        return f"không có danh sách từ {{{e.name}}}"
    except re.error as e:
        return f"không đọc được mẫu ({e})"
    if regex.fullmatch("") is not None or regex.search(" ") is not None:
        return "khớp với cả tin nhắn rỗng"
    if all(regex.search(w) for w in ("zzq", "toi", "the", "1")):
        return "khớp với bất kỳ chữ nào"
    return None
