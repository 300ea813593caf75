"""Links in a message, judged offline (no address is ever fetched): official, a big
platform, a shortener, a lookalike of an official name, known bad, or unknown.

A lookalike is a host that is not official but carries an official name: as a word
(`vneid-gov.com`, `vcb-online.xyz`), anywhere for long names (`dichvucong.gov.vn.xyz`,
`vietcombankvn.top`), within a small edit distance (`vietcombnk.com`), with digits for
letters (`vietc0mbank`), or written with look-alike letters of other alphabets or as
punycode (`xn--…`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from rapidfuzz.distance import Levenshtein

__all__ = ["Kind", "Link", "LinkJudge", "find_links"]


class Kind(str, Enum):
    OFFICIAL = "official"  # the body's own site (or any *.gov.vn)
    PLATFORM = "platform"  # a big platform (Zalo, Facebook...): not suspicious by itself
    SHORTENER = "shortener"  # hides the real address
    LOOKALIKE = "lookalike"  # imitates an official name
    BAD = "bad"  # on the editors' list of scam addresses
    UNKNOWN = "unknown"  # none of the above


@dataclass(frozen=True)
class Link:
    text: str  # as written in the message
    host: str  # lower case, no www.
    kind: Kind
    apk: bool = False


_TLDS = (
    "vn|com|net|org|info|biz|xyz|top|site|online|club|shop|store|vip|live|app|cc|co|io|me|ly|gd|at|id|to|fr|tk|ml|ga|cf|gq|"
    "icu|click|link|buzz|asia|pro|work|tech|fun|space|website|cloud|life|world|today|support|help|services|center|win|bid|"
    "loan|cn|ru|us|uk|in|ph|sbs|cfd|bond|lat|mobi|tv|ws|pw|su|one|ink|bet|cyou|rest|monster|my|ltd|group|page|host|best|run|"
    "fit|network|digital|media|email|finance|money|bank|credit|loans|cash|gold|trade|market|today|news|tel|name|ai|gg"
)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+"
    r"|(?<![\w@.-])(?:[\w-]+\.)+(?:" + _TLDS + r")(?![\w-])(?::\d+)?(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE,
)
_OBFUSCATED_DOT = re.compile(r"\s?(?:\[\.\]|\(\.\)|\[dot\]|\(dot\))\s?", re.IGNORECASE)
# Letters of other alphabets that look Latin (Cyrillic, Greek), and digits used as letters.
_CONFUSABLE = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "һ": "h", "ӏ": "l", "ο": "o", "α": "a", "ν": "v", "τ": "t", "ι": "i", "κ": "k", "ɡ": "g",
})
_LEET = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_SECOND_LEVEL = {"com", "net", "org", "gov", "edu", "co", "ac", "info", "biz", "name", "pro", "health", "int"}


def find_links(text: str) -> list[tuple[str, str]]:
    """(as written, host) for every link-like address in a message."""
    text = _OBFUSCATED_DOT.sub(".", text)
    found = []
    for m in _URL.finditer(text):
        written = m.group().rstrip(".,;:!?…")
        rest = re.sub(r"^(?:https?://)", "", written, flags=re.IGNORECASE)
        host = re.split(r"[/?#:]", rest, maxsplit=1)[0].lower().strip(".")
        if host.startswith("www."):
            host = host[4:]
        if host and "." in host:
            found.append((written, host))
    return found


def _suffix_of(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


class LinkJudge:
    """Judges hosts against the editors' lists.

    Parameters:
        official: domains of official bodies (a host is official if it is one or a
            subdomain of one; every *.gov.vn host is official).
        platforms, shorteners, known_bad: the other lists (same suffix rule).
        brands: names scammers imitate (see the module docstring).
    """

    def __init__(self, official: Iterable[str], platforms: Iterable[str], shorteners: Iterable[str],
                 known_bad: Iterable[str], brands: Iterable[str]) -> None:
        self.official = frozenset(d.lower().strip(".") for d in official)
        self.platforms = frozenset(d.lower() for d in platforms)
        self.shorteners = frozenset(d.lower() for d in shorteners)
        self.known_bad = frozenset(d.lower() for d in known_bad)
        names = {b.lower() for b in brands}
        # The first label of each official domain, but not place names that honest sites use too.
        names |= {d.split(".")[0] for d in self.official if d.split(".")[0] not in ("gov", "cskh", "www", "danang", "baochinhphu")}
        self.long_brands = tuple(sorted(b for b in names if len(b) >= 5))
        self.short_brands = frozenset(b for b in names if len(b) < 5)

    def judge(self, written: str, host: str) -> Link:
        apk = bool(re.search(r"\.apk(?:$|[?#/])", written, re.IGNORECASE))
        decoded = host
        foreign = False
        if "xn--" in host:
            foreign = True
            try:
                decoded = host.encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                decoded = host
        if not host.isascii():
            foreign = True
        skeleton = decoded.translate(_CONFUSABLE)
        if _suffix_of(host, self.known_bad) or _suffix_of(skeleton, self.known_bad):
            return Link(written, host, Kind.BAD, apk)
        if not foreign and (host.endswith(".gov.vn") or _suffix_of(host, self.official)):
            return Link(written, host, Kind.OFFICIAL, apk)
        if not foreign and _suffix_of(host, self.platforms):
            return Link(written, host, Kind.PLATFORM, apk)
        if not foreign and host in self.shorteners:
            return Link(written, host, Kind.SHORTENER, apk)
        if foreign or self._imitates(skeleton):
            return Link(written, host, Kind.LOOKALIKE, apk)
        return Link(written, host, Kind.UNKNOWN, apk)

    def _imitates(self, host: str) -> bool:
        labels = host.split(".")
        cut = 1
        if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
            cut = 2
        core = labels[:-cut] or labels
        tokens = [t for t in re.split(r"[.\-_]+", ".".join(core)) if t]
        # Official endings written inside another domain: dichvucong.gov.vn.xyz, vneid-gov.com.
        if any(t in ("gov", "govvn", "gov-vn") or t.startswith("gov") or t.endswith("gov") for t in tokens):
            return True
        joined = "".join(tokens)
        variants = {joined, joined.translate(_LEET)}
        for word in variants:
            if any(b in word for b in self.long_brands):
                return True
        words = set(tokens) | {t.translate(_LEET) for t in tokens}
        if words & self.short_brands:
            return True
        for t in words:
            if len(t) < 5:
                continue
            for b in self.long_brands:
                if abs(len(t) - len(b)) <= 2 and 0 < Levenshtein.distance(t, b, score_cutoff=2 if len(b) >= 8 else 1) <= (2 if len(b) >= 8 else 1):
                    return True
        return False
