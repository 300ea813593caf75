"""The scam checker's lists as editors keep them in the admin site: official domains,
known scam domains, shorteners, platforms, the names scammers imitate, and the phrase
lists (each sign's patterns, the word lists they use, the marks of a received message, of
the resident's own request, of a question: bot/scamcheck/phrases.py). A saved list
replaces the list of the same name in knowledge/scamcheck/domains.yaml or phrases.yaml.
Every change is checked first, like a knowledge-base publication: each line, then the
whole checker built with it against the messages of knowledge/scamcheck/samples.yaml; the
audit log keeps who changed what, when.

Each process rebuilds its checker when the lists changed, looking at most once a minute
(`refresh`), and at once after a save in this process.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bot import scamcheck
from bot.clock import now as utcnow
from bot.scamcheck import SIGNS, Checker, Verdict
from bot.scamcheck.checker import fold_text
from bot.scamcheck.phrases import SIGN, WORD, check_pattern, named_lists
from bot.storage.db import Database
from bot.storage.models import ScamList

__all__ = ["LISTS", "file_lists", "forget", "lists", "problems", "refresh", "save", "saved_lists"]

#: The domain lists: name → (Vietnamese title, what one line holds). The phrase lists are
#: named by `lists()` from phrases.yaml.
LISTS = {
    "official": ("Tên miền chính thức (cơ quan, ngân hàng, nhà mạng)", "domain"),
    "known_bad": ("Tên miền lừa đảo đã biết", "domain"),
    "shorteners": ("Dịch vụ rút gọn đường link", "domain"),
    "platforms": ("Nền tảng lớn (không đáng ngờ tự thân)", "domain"),
    "brands": ("Tên hay bị giả mạo (trong tên miền)", "name"),
}
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")
_NAME = re.compile(r"^[a-z0-9]{3,40}$")
_state: dict[str, object] = {"checked": 0.0, "version": None}


_PATTERN_TITLES = {
    "received": "Dấu hiệu một tin nhắn gửi đến người dân (Quý khách, bấm vào link, lời xưng của người gửi)",
    "own_request": "Dấu hiệu người dân tự hỏi, tự nhờ (tôi muốn, gọi lại giúp tôi, có đúng không)",
    "question": "Câu hỏi về lừa đảo (được trả lời từ kho kiến thức, không bị coi là lừa đảo)",
    "official_channel": "Kênh riêng của cơ quan (ứng dụng chính thức, quầy giao dịch): hạ một mức",
}


def _phrases(knowledge_dir: Path) -> dict[str, object]:
    return yaml.safe_load((knowledge_dir / "scamcheck" / "phrases.yaml").read_text(encoding="utf-8")) or {}


def lists(knowledge_dir: Path) -> dict[str, tuple[str, str]]:
    """Every list editors keep: name → (Vietnamese title, kind of line: domain, name, word
    or pattern), the domain lists first, then the signs', the words' and the others'."""
    out = dict(LISTS)
    for name in named_lists(_phrases(knowledge_dir)):
        if name.startswith(SIGN):
            sign = SIGNS[name[len(SIGN):]]
            out[name] = (f"Dấu hiệu “{sign.id}”: {sign.vi.split('.')[0]}", "pattern")
        elif name.startswith(WORD):
            out[name] = (f"Danh sách từ {{{name[len(WORD):]}}} (dùng trong các mẫu)", "word")
        else:
            out[name] = (_PATTERN_TITLES.get(name, name), "pattern")
    return out


def file_lists(knowledge_dir: Path) -> dict[str, list[str]]:
    """Every list as the files hold it."""
    data = yaml.safe_load((knowledge_dir / "scamcheck" / "domains.yaml").read_text(encoding="utf-8")) or {}
    return {**{name: [str(x) for x in data.get(name) or []] for name in LISTS}, **named_lists(_phrases(knowledge_dir))}


@lru_cache(maxsize=4)
def _samples(path: Path) -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}
    return {k: tuple(str(x) for x in data.get(k) or []) for k in ("scam", "legit", "own_request")}


def _short(text: str) -> str:
    return text if len(text) <= 70 else text[:67] + "…"


def _sample_problems(knowledge_dir: Path, lists_now: dict[str, list[str]]) -> list[str]:
    """The checker built with these lists, against the sample messages."""
    try:
        checker = Checker.load(knowledge_dir / "scamcheck", knowledge_dir / "link-domains.yaml", lists_now)
    except ValueError as e:  # a pattern that no longer reads, e.g. after a word list changed
        return [f"các mẫu không dùng được với danh sách này ({e})"]
    samples = _samples(knowledge_dir / "scamcheck" / "samples.yaml")
    found = [f"tin nhắn lừa đảo mẫu không còn bị nhận ra: “{_short(t)}”" for t in samples["scam"]
             if checker.check(t).verdict == Verdict.NO_SIGNS]
    found += [f"tin nhắn hợp lệ mẫu bị coi là lừa đảo: “{_short(t)}”" for t in samples["legit"]
              if checker.check(t).verdict == Verdict.SCAM]
    found += [f"câu người dân tự hỏi bị coi là tin nhắn nhận được: “{_short(t)}”" for t in samples["own_request"]
              if checker.check(t).looks_received]
    return found


async def saved_lists(db: Database) -> dict[str, ScamList]:
    async with db.session() as session:
        return {row.name: row for row in (await session.scalars(select(ScamList))).all()}


def problems(name: str, items: list[str], others: dict[str, list[str]], knowledge_dir: Path | None = None) -> list[str]:
    """What is wrong with a list before it is saved (empty: it may be saved): each line,
    then, given the knowledge folder, the whole checker with it against the samples.
    `others`: every list as it is now (the files' with the editors' versions)."""
    kinds = lists(knowledge_dir) if knowledge_dir is not None else LISTS
    if name not in kinds:
        return [f"không có danh sách '{name}'"]
    kind = kinds[name][1]
    if kind in ("word", "pattern"):
        found = _line_problems(name, items, kind, others)
    else:
        found = _domain_problems(name, items, kind, others)
    if not found and knowledge_dir is not None:
        found = _sample_problems(knowledge_dir, {**others, name: items})
    return found


def _line_problems(name: str, items: list[str], kind: str, others: dict[str, list[str]]) -> list[str]:
    words = {k[len(WORD):]: "|".join(v) for k, v in {**others, name: items}.items() if k.startswith(WORD)}
    found = []
    for item in items:
        bare = re.sub(r"\\.", "", item)  # \W, \S, \d are the pattern language's own capitals
        if bare != bare.lower() or not bare.isascii():
            hint = f": “{fold_text(item)}”" if "\\" not in item else ""
            found.append(f"“{item}” phải viết không dấu, chữ thường{hint}")
            continue
        wrong = check_pattern(item, words, whole=kind == "pattern")
        if wrong:
            found.append(f"“{item}”: {wrong}")
    if kind == "word" and not items:
        found.append("danh sách từ không được để trống: các mẫu đang dùng nó")
    return found


def _domain_problems(name: str, items: list[str], kind: str, others: dict[str, list[str]]) -> list[str]:
    found = []
    pattern = _DOMAIN if kind == "domain" else _NAME
    for item in items:
        if not pattern.match(item):
            what = "tên miền (vd. vietcombank.com.vn)" if pattern is _DOMAIN else "tên viết liền, chữ thường (vd. vneid)"
            found.append(f"“{item}” không phải {what}")
    if name == "official":
        found += [f"“{d}” đang nằm trong danh sách tên miền lừa đảo" for d in items if d in set(others.get("known_bad", []))]
        found += [f"“{d}” quá rộng: mọi trang có đuôi này sẽ được coi là chính thức" for d in items if d.count(".") == 0 or d in
                  ("com.vn", "net.vn", "org.vn", "edu.vn", "vn", "com")]
    if name == "known_bad":
        found += [f"“{d}” đang nằm trong danh sách tên miền chính thức" for d in items if d in set(others.get("official", []))]
    return found


async def save(db: Database, knowledge_dir: Path, name: str, items: list[str], by: str) -> list[str]:
    """Check and save one list; the checker of this process uses it at once."""
    if name in LISTS:
        clean = list(dict.fromkeys(x.strip().lower().rstrip(".") for x in items if x.strip()))
    else:  # a pattern's case matters (\W is not \w): it is checked, not changed
        clean = list(dict.fromkeys(x.strip() for x in items if x.strip()))
    current = {**file_lists(knowledge_dir), **{k: list(v.items) for k, v in (await saved_lists(db)).items()}}
    found = problems(name, clean, current, knowledge_dir)
    if found:
        return found
    async with db.session() as session, session.begin():
        row = await session.get(ScamList, name)
        if row is None:
            session.add(ScamList(name=name, items=clean, updated_by=by[:100], updated_at=utcnow()))
        else:
            row.items, row.updated_by, row.updated_at = clean, by[:100], utcnow()
    _state["checked"] = 0.0
    await refresh(db, knowledge_dir)
    return []


async def refresh(db: Database, knowledge_dir: Path, max_age: float = 60.0) -> None:
    """Rebuild the checker in use when the saved lists changed (looked at most every
    `max_age` seconds)."""
    if time.monotonic() - float(_state["checked"]) < max_age:  # type: ignore[arg-type]
        return
    _state["checked"] = time.monotonic()
    async with db.session() as session:
        version = tuple((await session.execute(select(func.count(), func.max(ScamList.updated_at)))).one())
    if version == _state["version"]:
        return
    _state["version"] = version
    rows = await saved_lists(db)
    if not rows:
        scamcheck.use(None)
        return
    scamcheck.use(Checker.load(knowledge_dir / "scamcheck", knowledge_dir / "link-domains.yaml",
                               {k: list(v.items) for k, v in rows.items()}))


def forget() -> None:
    """Back to the files' lists until the next refresh looks (tests; a restored database)."""
    _state.update(checked=0.0, version=None)
    scamcheck.use(None)
