"""The scam checker's lists as editors keep them in the admin site: official domains,
known scam domains, shorteners, platforms and the names scammers imitate. A saved list
replaces the list of the same name in knowledge/scamcheck/domains.yaml; every change is
checked first (like a knowledge-base publication) and written to the audit log.

Each process rebuilds its checker when the lists changed, looking at most once a minute
(`refresh`), and at once after a save in this process.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml
from sqlalchemy import func, select

from bot import scamcheck
from bot.clock import now as utcnow
from bot.scamcheck import Checker
from bot.storage.db import Database
from bot.storage.models import ScamList

__all__ = ["LISTS", "file_lists", "forget", "problems", "refresh", "save", "saved_lists"]

#: name → (Vietnamese title, what one line holds)
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


def file_lists(knowledge_dir: Path) -> dict[str, list[str]]:
    data = yaml.safe_load((knowledge_dir / "scamcheck" / "domains.yaml").read_text(encoding="utf-8")) or {}
    return {name: [str(x) for x in data.get(name) or []] for name in LISTS}


async def saved_lists(db: Database) -> dict[str, ScamList]:
    async with db.session() as session:
        return {row.name: row for row in (await session.scalars(select(ScamList))).all()}


def problems(name: str, items: list[str], others: dict[str, list[str]]) -> list[str]:
    """What is wrong with a list before it is saved (empty: it may be saved)."""
    if name not in LISTS:
        return [f"không có danh sách '{name}'"]
    found = []
    pattern = _DOMAIN if LISTS[name][1] == "domain" else _NAME
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
    clean = list(dict.fromkeys(x.strip().lower().rstrip(".") for x in items if x.strip()))
    current = {**file_lists(knowledge_dir), **{k: list(v.items) for k, v in (await saved_lists(db)).items()}}
    found = problems(name, clean, current)
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
