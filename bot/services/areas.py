"""The city's commune-level units (phường, xã, đặc khu) as data: CSV import and lookups.

`knowledge/areas.csv` (header `code,kind,name`; lines starting with `#` are comments)
is the seed; an admin fixes the list with `cdsbot areas import FILE.csv`, never code.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import func, select

from bot.kb_files import MAX_ID_LENGTH
from bot.storage.db import Database
from bot.storage.models import Area
from bot.text import canon, fold

__all__ = ["AreaRow", "import_csv", "import_rows", "list_areas", "read_csv", "find_area", "with_teams"]

KINDS = {"phuong": "Phường", "xa": "Xã", "dac-khu": "Đặc khu"}
_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class AreaRow:
    code: str
    kind: str
    name: str

    @property
    def label(self) -> str:
        return f"{KINDS.get(self.kind, '')} {self.name}".strip()


def slug(kind: str, name: str) -> str:
    return kind + "-" + "-".join(fold(canon(name)).split())


def read_csv(path: Path) -> list[AreaRow]:
    """Read and validate an areas CSV; raise ValueError naming every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"Không đọc được {path} (cannot read): {exc.strerror}") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{path}: tệp rỗng (empty file)")
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    if reader.fieldnames is None or set(reader.fieldnames) < {"kind", "name"}:
        raise ValueError(f"{path}:{lines[0][0]}: cần dòng tiêu đề code,kind,name (need a header code,kind,name)")
    rows: list[AreaRow] = []
    problems: list[str] = []
    seen: set[str] = set()
    for (n, _), rec in zip(lines[1:], reader, strict=False):
        kind = (rec.get("kind") or "").strip()
        name = (rec.get("name") or "").strip()
        code = (rec.get("code") or "").strip() or (slug(kind, name) if name else "")
        if kind not in KINDS:
            problems.append(f"{path}:{n}: kind phải là {', '.join(KINDS)} (got '{kind}')")
            continue
        if not name:
            problems.append(f"{path}:{n}: thiếu tên (missing name)")
            continue
        if not _CODE.match(code) or len(code) > MAX_ID_LENGTH:
            problems.append(f"{path}:{n}: mã '{code}' không hợp lệ (code must be kebab-case ASCII, at most {MAX_ID_LENGTH} characters)")
            continue
        if code in seen:
            problems.append(f"{path}:{n}: mã '{code}' bị trùng (duplicate code)")
            continue
        seen.add(code)
        rows.append(AreaRow(code, kind, name))
    if problems:
        raise ValueError("\n".join(problems))
    return rows


async def import_rows(db: Database, rows: list[AreaRow]) -> tuple[int, int]:
    created = updated = 0
    async with db.session() as session, session.begin():
        for row in rows:
            existing = await session.get(Area, row.code)
            if existing is None:
                session.add(Area(code=row.code, kind=row.kind, name=row.name))
                created += 1
            elif (existing.kind, existing.name) != (row.kind, row.name):
                existing.kind, existing.name = row.kind, row.name
                updated += 1
    return created, updated


async def import_csv(db: Database, path: Path) -> tuple[int, int]:
    return await import_rows(db, read_csv(path))


async def count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Area)) or 0)


async def list_areas(db: Database) -> list[AreaRow]:
    async with db.session() as session:
        rows = (await session.scalars(select(Area).order_by(Area.kind, Area.name))).all()
    return [AreaRow(a.code, a.kind, a.name) for a in rows]


def find_area(typed: str, areas: list[AreaRow], limit: int = 3) -> list[tuple[AreaRow, float]]:
    """Areas whose name is closest to what the resident typed ("hoa vang", "P. Hải Châu")."""
    key = fold(canon(typed))
    for prefix in ("phuong ", "xa ", "dac khu ", "p "):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    choices = {i: fold(canon(a.name)) for i, a in enumerate(areas)}
    found = process.extract(key, choices, scorer=fuzz.ratio, limit=limit)
    return [(areas[i], float(score)) for _, score, i in found]


async def with_teams(db: Database) -> list[tuple[AreaRow, int | None, str]]:
    """Every area with its team's id and name (None, "" when it has none), by name."""
    from bot.storage.models import Team

    async with db.session() as session:
        rows = (await session.execute(
            select(Area.code, Area.kind, Area.name, Team.id, Team.name).outerjoin(Team, Team.area_code == Area.code)
            .order_by(Area.name)
        )).all()
    return [(AreaRow(c, k, n), tid, tname or "") for c, k, n, tid, tname in rows]
