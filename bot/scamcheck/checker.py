"""The checker: the signs of a scam in one message, and a verdict.

Phrases are matched on an accent-free, lower-case copy of the message that keeps every
character's place, so each sign can quote the resident's own words. Links are judged
by `links.LinkJudge`. Nothing is fetched; the work is a few compiled regular
expressions over at most `MAX_CHARS` characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from bot.scamcheck.links import Kind, Link, LinkJudge, find_links
from bot.scamcheck.phrases import apply, expand, split_alternatives, to_regex
from bot.scamcheck.signs import CONTEXT, SIGNS, STRONG

__all__ = ["Checker", "Finding", "Result", "Verdict", "MAX_CHARS"]

MAX_CHARS = 2000  # what is read of a long paste (as bot/handlers/question.py)

_NEGATION = re.compile(  # on the accent-free text; "dung" is "đừng" only before a verb (not "ứng dụng", "tín dụng")
    r"(?<!\w)(?:khong|ko|kh|hong|dung(?= (?:co |bao gio )?(?:noi|ke|bao|cho|gui|chuyen|cung cap|chia se|bam|nhan|click|tin|lam|cai|tai|de|dua|doc|tiet lo))|chang|cam|tuyet doi|never|not|don'?t|dont|no one|"
    r"nobody)(?!\w)"
)
# "đã được chuyển vào tài khoản": a report of what was done, not a request.
_DONE = re.compile(r"(?<!\w)(?:đã|được|vừa|da|duoc|has been|was|were|have been)\s*$")
_IF_NOT = re.compile(r"(?<!\w)(?:neu|nếu|if you)\s+(?:khong|không|ko|k|don'?t|do not)(?!\w)")
# "chuyển cho mẹ 3 triệu rồi nha": done already ("rồi" closing the clause, not "then").
# Within the same sentence: "...mới lấy được. Bả tính chuyển rồi đó" is no report of the match.
_SAME = r"(?:[^\w.!?\n]|_|\.(?=\d))"
_DONE_AFTER = re.compile(_SAME + r"*(?:[^\W_]+" + _SAME + r"+){0,7}?(?:roi|xong|cam on)(?:[\W_]+(?:nha|nhe|nhen|do|a|day|ma|ne|ha)(?!\w)|[\W_]*$|[^\w ])")
_NEGATION_TONED = re.compile(  # on the lower-case text when the resident wrote diacritics
    r"(?<!\w)(?:không|ko|k|kh|hông|đừng|chẳng|cấm|tuyệt đối|chớ|never|not|don'?t|dont|no one|nobody)(?!\w)"
)
_BOUNDARY = re.compile(r"[.!?;,\n]")
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)\d(?:[\s.\-]?\d){7,9}(?!\d)")
_ACCOUNT = re.compile(r"(?<!\d)(?:\d{8,19}|\d{4}(?:[ .]\d{3,4}){2,4})(?!\d)")  # 0451000382917, 8850 1234 5678
# A number partly masked by whoever pasted or forwarded it ("09xx.xxx.471", "0932xxx054", "1012xxxx883"):
# still a number to call or pay into, when at least 5 of its digits are shown.
_MASKED = re.compile(r"(?<!\w)\d(?:[\s.\-]?[\dxX*]){7,18}(?!\w)")


def _masked_number(text: str) -> bool:
    return any(sum(ch.isdigit() for ch in m.group()) >= 5 and any(ch in "xX*" for ch in m.group())
               for m in _MASKED.finditer(text))


_REQUEST = re.compile(
    r"(?<!\w)(?:vui long|hay|yeu cau|de nghi|bam|nhan vao|click|truy cap|vao link|chuyen|ck|lien he|lh|goi|nhan tin|soan|"
    r"cung cap|gui|tai|cai|dang nhap|xac nhan|cap nhat|nop|dong|thanh toan|quet|ket ban|add|inbox|ib|please|call|click|"
    r"tap|visit|verify|confirm|download|install|transfer|send|reply|muon|vay)(?!\w)"
)
_THREAT = re.compile(r"(?<!\w)(?:khoa|cat|phat|bat|truy|cuong che|khoi to|trieu tap|phong toa|dinh chi|xu ly|tam giu|phap luat|"
                     r"vu an|rua tien|ma tuy|lien quan|bat thuong|khong phai ban|ha muc|bi ha|khoi phuc|het hieu luc|ngung cap|"
                     r"truc loi|xet xu|duong day|qua han|thu hoi|se (?:bi )?tam dung|cup|"
                     r"lock|suspend|arrest|block|suspicious|unauthori\w*|not you|fraud|laundering|criminal|involved|detain|banned|deport)")
_WORD = re.compile(r"[^\W_]+")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


class Verdict(str, Enum):
    SCAM = "scam"  # clear signs: do not act on it
    SUSPICIOUS = "suspicious"  # some signs: check before doing anything
    NO_SIGNS = "no_signs"  # none of the known signs (never "safe")


@dataclass(frozen=True)
class Finding:
    sign: str
    quote: str  # the resident's words that show it (or the link)


@dataclass(frozen=True)
class Result:
    verdict: Verdict
    findings: tuple[Finding, ...]
    links: tuple[Link, ...] = ()
    question: bool = False  # the text reads as a question about scams
    has_number: bool = False  # a phone or account number
    has_request: bool = False
    extra: tuple[str, ...] = field(default=())  # reasons beyond the signs (a known scam address)
    addressed: int = 0  # marks of a message written TO the reader (Quý khách, "bấm vào link", a sender's header)
    own_request: int = 0  # marks of the resident asking for themselves (tôi muốn, gọi lại giúp tôi, có đúng không, làm sao)

    @property
    def signs(self) -> list[str]:
        return [f.sign for f in self.findings]

    @property
    def looks_received(self) -> bool:
        """The text reads as a message the resident received, pasted to be checked, rather
        than the resident's own request: what speaks to a reader (its marks, its signs, a
        link that is not the body's own) outweighs the marks of someone asking for
        themselves. Without a link or a number, it takes more: no mark of asking at all, and
        3 (a strong sign and a mark, or several signs), so that a question that names an
        action ("nộp lệ phí bằng app được không") is not taken for a message."""
        evidence = self.addressed + sum(2 if f.sign in STRONG else 1 for f in self.findings if f.sign not in CONTEXT)
        evidence += 1 if any(x.kind not in (Kind.OFFICIAL, Kind.PLATFORM) for x in self.links) or self.extra else 0
        if evidence <= self.own_request:
            return False
        if self.links or self.has_number:
            return True
        return evidence >= 3 and self.own_request == 0


class _FoldTable(dict[int, int]):
    """str.translate table: each character to one lower-case, accent-free character."""

    def __missing__(self, code: int) -> int:
        ch = chr(code)
        low = ch.lower()
        if len(low) != 1:
            low = ch
        if low in "đð":
            low = "d"
        elif not low.isascii():
            base = unicodedata.normalize("NFD", low)[0]
            low = base if len(base) == 1 else low
        self[code] = ord(low)
        return self[code]


_FOLD = _FoldTable()


def aligned_fold(text: str) -> tuple[str, Sequence[int]]:
    """The lower-case, accent-free text and, for each of its characters, its index in
    `text` (already NFC): one character for one, except invisible characters, dropped."""
    if _INVISIBLE.search(text) is None:
        return text.translate(_FOLD), range(len(text))
    pos = [i for i, ch in enumerate(text) if not _INVISIBLE.match(ch)]
    return "".join(text[i] for i in pos).translate(_FOLD), pos


# Accent-free words that stand for another word when the resident typed marks: the first
# or last word of a match written so is not what the pattern means.
_TONED_OTHER = {
    "gap": {"gặp"}, "tai": {"tại", "tài", "tái"}, "ngay": {"ngày"}, "cho": {"chở", "chờ", "chợ", "chó"},
    "se": {"sẻ"}, "dang": {"đăng", "đắng"}, "ban": {"bạn", "bàn", "bán"},
    "goi": {"gọi"},  # "gói" (a plan), not "gọi lại" (call back)
    "vay": {"vậy", "váy", "vẫy"},  # "như vậy" (so), not "vay" (borrow)
    "anh": {"ảnh", "ánh"},  # "gửi giúp ảnh" (a photo), not "gửi giúp anh" (to me)
}


# Words of the table above that begin a compound meaning what the pattern means ("dang nhap"
# is "đăng nhập" however typed).
_COMPOUNDS = ("dang nhap", "dang ky", "dang tai")


def _misread(text: str, pos: Sequence[int], m: re.Match[str]) -> bool:
    words = m.group().split()
    if not words or m.group().startswith(_COMPOUNDS):
        return False
    original = text[pos[m.start()]:pos[m.end() - 1] + 1].lower().split()
    if not original:
        return False
    return any(w in _TONED_OTHER and o in _TONED_OTHER[w] for w, o in ((words[0], original[0]), (words[-1], original[-1])))


def fold_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).translate(_FOLD)


def anchors(expanded: str) -> frozenset[str] | None:
    """The words one of which a text must contain for the pattern to match (its possible
    first words), or None when that cannot be told simply (then it always runs)."""
    found: set[str] = set()
    for alt in split_alternatives(expanded):
        if alt.startswith("("):
            depth, end = 0, -1
            for i, ch in enumerate(alt):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    end = i
                    break
            if end < 0 or alt[end + 1:end + 2] in ("?", "*", "{"):
                return None  # an optional first group
            inner = alt[1:end]
            if inner.startswith("?:"):
                inner = inner[2:]
            elif inner.startswith("?"):
                return None  # a lookaround
            sub = anchors(inner)
            if sub is None:
                return None
            found |= sub
            continue
        m = re.match(r"[a-z0-9]+", alt)
        if m is None:
            return None
        rest = alt[m.end():]
        while rest.startswith(("(?!", "(?=", "(?<!", "(?<=")):  # a lookaround after the word consumes nothing
            depth, close = 0, 0
            for close, ch in enumerate(rest):  # noqa: B007 (its value after the loop is the point)
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    break
            rest = rest[close + 1:]
        if rest and rest[0] not in " )" or rest.startswith(" ?"):
            return None  # the first word is not a whole word ("any ?desk", "khan( cap)?")
        found.add(m.group())
    return frozenset(found)


class Parts:
    """A list of patterns made ready to try: those whose first words can be told are
    tried only where one of those words starts (found through `by_word`, the first words'
    index: a text's few words looked up, not every pattern's words intersected); the
    others are joined in one regular expression (`scan`) that reads the whole text."""

    __slots__ = ("anchored", "by_word", "scan")

    def __init__(self, scan: re.Pattern[str] | None, anchored: Sequence[tuple[frozenset[str], re.Pattern[str]]]) -> None:
        self.scan = scan
        self.anchored = tuple(regex for _, regex in anchored)
        self.by_word: dict[str, tuple[int, ...]] = {}
        for k, (need, _) in enumerate(anchored):
            for word in need:
                self.by_word[word] = (*self.by_word.get(word, ()), k)

    def __bool__(self) -> bool:
        return self.scan is not None or bool(self.anchored)


def _parts(patterns: Iterable[Any], words: dict[str, str]) -> Parts:
    always: list[str] = []
    anchored: list[tuple[frozenset[str], re.Pattern[str]]] = []
    for p in patterns:
        expanded = expand(str(p), words)
        need = anchors(expanded)
        if need is None:
            always.append(to_regex(expanded))
        else:
            anchored.append((need, re.compile(to_regex(expanded))))
    return Parts(re.compile("|".join(always)) if always else None, anchored)


def _matches(parts: Parts, folded: str, starts: dict[str, list[int]]) -> Iterable[re.Match[str]]:
    """The matches of each pattern in turn (the joined ones first; each one's in text order)."""
    if parts.scan is not None:
        yield from parts.scan.finditer(folded)
    hits: dict[int, list[str]] = {}  # pattern -> the text's words it may start at
    for word in starts:
        for k in parts.by_word.get(word, ()):
            hits.setdefault(k, []).append(word)
    for k in sorted(hits):
        regex = parts.anchored[k]
        hit = hits[k]
        places = starts[hit[0]] if len(hit) == 1 else sorted(i for word in hit for i in starts[word])
        for i in places:
            m = regex.match(folded, i)
            if m is not None:
                yield m


def _starts(folded: str) -> dict[str, list[int]]:
    """Where each word of a folded text starts: a pattern whose first words are known is
    tried only there (`_matches`)."""
    starts: dict[str, list[int]] = {}
    for w in _WORD.finditer(folded):
        starts.setdefault(w.group(), []).append(w.start())
    return starts


def _count(parts: Parts, folded: str, starts: dict[str, list[int]], most: int = 3) -> int:
    """How many places (at most `most`) the patterns match; one place counts once."""
    seen: set[int] = set()
    for m in _matches(parts, folded, starts):
        seen.add(m.start())
        if len(seen) >= most:
            break
    return len(seen)


@dataclass(frozen=True)
class _Rule:
    sign: str
    parts: Parts
    negatable: bool


class Checker:
    """Finds scam signs in messages.

    Parameters:
        phrases: the parsed `phrases.yaml` (word lists, signs' patterns, question patterns).
        judge: the link judge built from `domains.yaml`.
    """

    def __init__(self, phrases: dict[str, Any], judge: LinkJudge) -> None:
        words = {k: str(v) for k, v in (phrases.get("words") or {}).items()}
        rules = []
        for sign, spec in (phrases.get("signs") or {}).items():
            if sign not in SIGNS:
                raise ValueError(f"unknown sign {sign!r} in phrases")
            parts = _parts(spec.get("patterns") or [], words)
            if parts:
                rules.append(_Rule(sign, parts, bool(spec.get("negatable"))))
        self.rules = tuple(rules)
        self.official_channel = _parts(phrases.get("official_channel") or [], words)
        self.question = _parts(phrases.get("question") or [], words)
        self.received = _parts(phrases.get("received") or [], words)
        self.own_request = _parts(phrases.get("own_request") or [], words)
        self.judge = judge

    @classmethod
    def load(cls, directory: Path, link_domains: Path | None = None,
             overrides: dict[str, list[str]] | None = None) -> Checker:
        """Read `phrases.yaml` and `domains.yaml` from a folder (and the knowledge base's
        official link domains, if given); a list in `overrides` (the editors' version,
        bot/services/scamlists.py: a domain list, or a phrase list named as in
        `phrases.named_lists`) replaces the file's list of that name."""
        phrases = apply(yaml.safe_load((directory / "phrases.yaml").read_text(encoding="utf-8")) or {}, overrides or {})
        domains = {**(yaml.safe_load((directory / "domains.yaml").read_text(encoding="utf-8")) or {}), **(overrides or {})}
        official = list(domains.get("official") or [])
        if link_domains is not None and link_domains.exists():
            official += list(yaml.safe_load(link_domains.read_text(encoding="utf-8")) or [])
        judge = LinkJudge(official, domains.get("platforms") or [], domains.get("shorteners") or [],
                          domains.get("known_bad") or [], domains.get("brands") or [])
        return cls(phrases, judge)

    def check(self, text: str) -> Result:
        """The signs in one message and the verdict."""
        text = unicodedata.normalize("NFC", (text or "")[:MAX_CHARS])
        folded, pos = aligned_fold(text)
        toned = folded != text.lower()
        found: dict[str, Finding] = {}

        def quote(start: int, end: int) -> str:
            if not pos or start >= len(pos):
                return ""
            a, b = pos[start], pos[max(start, min(end, len(pos)) - 1)] + 1
            # Widen to whole words, then cap the length.
            while a > 0 and text[a - 1].isalnum():
                a -= 1
            while b < len(text) and text[b].isalnum():
                b += 1
            words = " ".join(text[a:b].split())
            return words if len(words) <= 90 else words[:87].rstrip() + "…"

        starts = _starts(folded)
        for rule in self.rules:
            first: re.Match[str] | None = None
            for m in _matches(rule.parts, folded, starts):  # the first that counts names the sign
                if rule.negatable and self._negated(text if toned else folded, pos, m.start(), m.end(), toned):
                    continue
                if self._to_official_site(text[pos[m.start()]:pos[m.end() - 1] + 1]):
                    continue  # "đăng nhập tại dichvucong.gov.vn" is what the real body says
                if folded.startswith("chuyen doi", m.start()) or (toned and _misread(text, pos, m)):
                    continue  # "chuyển đổi số"; "gặp" read as "gấp", "tại" as "tải", "chở" as "cho"
                first = m
                break
            if first is not None:
                found[rule.sign] = Finding(rule.sign, quote(first.start(), first.end()))

        links = tuple(self.judge.judge(w, h) for w, h in find_links(text))
        extra: list[str] = []
        claims = "impersonates-authority" in found or "impersonates-bank-or-company" in found
        for link in links:
            if link.kind == Kind.LOOKALIKE:
                found.setdefault("lookalike-domain", Finding("lookalike-domain", link.host))
            elif link.kind == Kind.SHORTENER:
                found.setdefault("shortened-link", Finding("shortened-link", link.host))
            elif link.kind == Kind.BAD:
                extra.append(link.host)
            if link.apk:
                found.setdefault("apk-or-unknown-app", Finding("apk-or-unknown-app", link.text[:90]))
            if claims and link.kind in (Kind.UNKNOWN, Kind.LOOKALIKE, Kind.SHORTENER, Kind.BAD):
                found.setdefault("unofficial-domain-for-official-body",
                                 Finding("unofficial-domain-for-official-body", link.host))
        unofficial = [x for x in links if x.kind in (Kind.UNKNOWN, Kind.LOOKALIKE, Kind.SHORTENER, Kind.BAD)]
        # An app to install from a link that is not a store: an app of unknown origin.
        if "asks-install-app" in found and unofficial:
            found.setdefault("apk-or-unknown-app", Finding("apk-or-unknown-app", unofficial[0].host))

        real = [s for s in found if s not in CONTEXT]
        has_number = bool(_PHONE.search(text) or _ACCOUNT.search(text)) or _masked_number(text)
        urgency = next((r for r in self.rules if r.sign == "urgency-or-threat"), None)
        threat = "urgency-or-threat" in found and urgency is not None and any(
            _THREAT.search(m.group()) for m in _matches(urgency.parts, folded, starts))
        claim_and_threat = claims and threat and (has_number or bool(_REQUEST.search(folded)))
        if not real and not unofficial and not extra and not claim_and_threat:
            found = {}  # who it claims to be, or haste, is no sign by itself (but both together, with a number to call, are)
        # Who it claims to be and haste add 1 at most: a scam verdict needs real evidence.
        context = len(found.keys() & CONTEXT)
        score = sum(SIGNS[s].weight for s in found if s not in CONTEXT) + min(context, 2 if claim_and_threat else 1) \
            + (1 if unofficial else 0)
        question = "?" in text or next(iter(_matches(self.question, folded, starts)), None) is not None
        # "Đừng nói với mẹ nha" alone is also a family's surprise: keeping it secret is a clear
        # sign only beside what the secret is for (money, data, an app, a link or a number).
        lone_secret = real == ["secret-or-dont-tell"] and not links and not has_number
        if extra or any(s in STRONG for s in found if not lone_secret) or score >= 4:
            verdict = Verdict.SCAM
        elif score >= 2:
            verdict = Verdict.SUSPICIOUS
        else:
            verdict = Verdict.NO_SIGNS
        official_channel = next(iter(_matches(self.official_channel, folded, starts)), None) is not None
        if official_channel and not unofficial and not _PHONE.search(text) \
                and not found.keys() & {"remote-access-app", "secret-or-dont-tell", "fee-to-receive", "apk-or-unknown-app"}:
            # Sent to the body's own app, store, counter or office, with no link or mobile number elsewhere: one level down.
            verdict = Verdict.SUSPICIOUS if verdict == Verdict.SCAM else Verdict.NO_SIGNS
        if question and not links and verdict == Verdict.SCAM:
            verdict = Verdict.SUSPICIOUS  # a question that describes a case, not the message itself
        order = list(SIGNS)
        findings = tuple(sorted(found.values(), key=lambda f: order.index(f.sign)))
        return Result(verdict, findings, links, question, has_number, bool(_REQUEST.search(folded)), tuple(extra),
                      _count(self.received, folded, starts),
                      _count(self.own_request, folded, starts) + _count(self.question, folded, starts))

    def surely_not_received(self, text: str) -> bool:
        """Whether `check(text).looks_received` is surely False, found without the signs: a
        text with no link and no number, in which the resident asks for themselves
        (`own_request` > 0), never reads as received (see `Result.looks_received`). Most
        questions are told so at a fifth of the cost of the whole check."""
        clean = unicodedata.normalize("NFC", (text or "")[:MAX_CHARS])
        if find_links(clean) or _PHONE.search(clean) or _ACCOUNT.search(clean) or _masked_number(clean):
            return False
        folded, _ = aligned_fold(clean)
        starts = _starts(folded)
        return any(next(iter(_matches(parts, folded, starts)), None) is not None for parts in (self.own_request, self.question))

    def _to_official_site(self, span: str) -> bool:
        hosts = find_links(span)
        return bool(hosts) and all(self.judge.judge(w, h).kind in (Kind.OFFICIAL, Kind.PLATFORM) for w, h in hosts)

    @staticmethod
    def _negated(text: str, pos: Sequence[int], start: int, end: int, toned: bool) -> bool:
        """A negation shortly before (or inside) a match, in the same sentence, or a
        report of what was done just before it."""
        if toned:
            a, b = pos[max(0, start - 45)], pos[end - 1] + 1
            window = text[a:b].lower()
            before = text[a:pos[start]].lower()
            pattern = _NEGATION_TONED
        else:
            window = text[max(0, start - 45):end]
            before = text[max(0, start - 45):start]
            pattern = _NEGATION
        # The sentence the match starts in: a comma inside the match ("không cung cấp thông tin
        # cá nhân, mã OTP") does not cut off the negation before it.
        cut = max((m.end() for m in _BOUNDARY.finditer(before)), default=0)
        window = _IF_NOT.sub(" ", window)  # "nếu không trả" is a demand, not a negation
        return bool(pattern.search(window[cut:])) or bool(_DONE.search(before[-14:])) or \
            bool(_DONE_AFTER.match(fold_text(text[pos[end - 1] + 1:pos[end - 1] + 45]) if toned else text[end:end + 44]))
