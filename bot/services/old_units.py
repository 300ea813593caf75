"""Former administrative units (before 1 July 2025, and Đà Nẵng's names from before
1 January 2025) and the units of `knowledge/areas.csv` they became: residents say the
old names for years ("Thạc Gián", "quận Hải Châu", "huyện Duy Xuyên").

`knowledge/old-units.csv` (header `kind,name,district,province,new_codes,status,source,note`;
lines starting with `#` are comments) is data: an admin corrects it and uploads it again,
no code changes. `new_codes` holds one code of areas.csv, or several separated by `;` when
the old unit was split (or its new unit is not confirmed): the resident then chooses.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz
from sqlalchemy import select

from bot.clock import now as utcnow
from bot.storage.db import Database
from bot.storage.models import OldUnitsFile
from bot.text import canon, fold

__all__ = ["OldUnit", "read_csv", "parse", "load", "current", "save", "find_old", "strip_kind", "names_by_area",
           "resolve", "KINDS", "DISTRICT_KINDS"]

KINDS = {"phuong": "Phường", "xa": "Xã", "thi-tran": "Thị trấn", "quan": "Quận", "huyen": "Huyện",
         "thi-xa": "Thị xã", "thanh-pho": "Thành phố"}
DISTRICT_KINDS = {"quan", "huyen", "thi-xa", "thanh-pho"}
FIELDS = ("kind", "name", "district", "province", "new_codes", "status", "source", "note")
STATUSES = {"xac-nhan", "chua-doi-chieu"}
# What a resident may type before or after a name (accent-free): "p. Thạc Gián cũ".
_PREFIXES = {"thi tran": "thi-tran", "thi xa": "thi-xa", "thanh pho": "thanh-pho", "tp": "thanh-pho", "phuong": "phuong",
             "xa": "xa", "quan": "quan", "huyen": "huyen", "dac khu": "dac-khu", "p": "phuong", "q": "quan", "h": "huyen",
             "tt": "thi-tran"}


@dataclass(frozen=True)
class OldUnit:
    kind: str
    name: str
    district: str
    province: str
    new_codes: tuple[str, ...]
    status: str
    source: str
    note: str = ""

    @property
    def label(self) -> str:
        return f"{KINDS[self.kind]} {self.name}"

    @property
    def confirmed(self) -> bool:
        return self.status == "xac-nhan"


def strip_kind(typed: str) -> tuple[str, str | None]:
    """The accent-free name a resident typed, without "phường", "quận", "cũ"..., and the
    kind the prefix named (None when there was none)."""
    key = " ".join(fold(canon(typed)).replace(".", " ").split())
    kind = None
    for prefix in sorted(_PREFIXES, key=len, reverse=True):
        if key.startswith(prefix + " "):
            key, kind = key[len(prefix) + 1:], _PREFIXES[prefix]
            break
    for suffix in (" cu", " truoc day", " ngay xua", " hoi truoc"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.strip(), kind


def parse(text: str, where: str = "old-units.csv", known_codes: set[str] | None = None) -> list[OldUnit]:
    """Read and validate the CSV text; raise ValueError naming every bad line."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ValueError(f"{where}: tệp rỗng (empty file)")
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    if reader.fieldnames is None or not {"kind", "name", "new_codes"} <= set(reader.fieldnames):
        raise ValueError(f"{where}:{lines[0][0]}: cần dòng tiêu đề {','.join(FIELDS)} (need that header)")
    units: list[OldUnit] = []
    problems: list[str] = []
    for (n, _), rec in zip(lines[1:], reader, strict=False):
        kind = (rec.get("kind") or "").strip()
        name = (rec.get("name") or "").strip()
        codes = tuple(c.strip() for c in (rec.get("new_codes") or "").split(";") if c.strip())
        status = (rec.get("status") or "chua-doi-chieu").strip()
        if kind not in KINDS:
            problems.append(f"{where}:{n}: kind phải là {', '.join(KINDS)} (got '{kind}')")
        elif not name:
            problems.append(f"{where}:{n}: thiếu tên (missing name)")
        elif not codes:
            problems.append(f"{where}:{n}: thiếu new_codes (missing new_codes)")
        elif known_codes is not None and (unknown := [c for c in codes if c not in known_codes]):
            problems.append(f"{where}:{n}: mã không có trong danh sách phường, xã: {', '.join(unknown)} (unknown codes)")
        elif status not in STATUSES:
            problems.append(f"{where}:{n}: status phải là {' hoặc '.join(sorted(STATUSES))} (got '{status}')")
        else:
            units.append(OldUnit(kind, name, (rec.get("district") or "").strip(), (rec.get("province") or "").strip(),
                                 codes, status, (rec.get("source") or "").strip(), (rec.get("note") or "").strip()))
    if problems:
        raise ValueError("\n".join(problems))
    return units


def read_csv(path: Path, known_codes: set[str] | None = None) -> list[OldUnit]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"Không đọc được {path} (cannot read): {exc.strerror}") from exc
    return parse(text, str(path), known_codes)


_cache: dict[Path, tuple[float, list[OldUnit]]] = {}


def load(path: Path) -> list[OldUnit]:
    """The units of the file, read again when it changes (an admin's upload); [] when
    there is no file."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return []
    cached = _cache.get(path)
    if cached is None or cached[0] != mtime:
        cached = (mtime, read_csv(path))
        _cache[path] = cached
    return cached[1]


_parsed: dict[str, list[OldUnit]] = {}


async def current(db: Database, path: Path) -> list[OldUnit]:
    """The units in use: the file an admin uploaded (stored in the database), else the
    seed file `path` (knowledge/old-units.csv)."""
    async with db.session() as session:
        text = await session.scalar(select(OldUnitsFile.text).where(OldUnitsFile.id == 1))
    if text is None:
        return load(path)
    if text not in _parsed:
        _parsed.clear()
        _parsed[text] = parse(text, "old-units (uploaded)")
    return _parsed[text]


async def save(db: Database, text: str, by: str) -> int:
    """Validate an uploaded file against the areas in the database and put it in use;
    returns its row count (raises ValueError listing every bad line, nothing saved)."""
    from bot.services.areas import list_areas

    units = parse(text, "old-units.csv", {a.code for a in await list_areas(db)})
    async with db.session() as session, session.begin():
        row = await session.get(OldUnitsFile, 1)
        if row is None:
            session.add(OldUnitsFile(id=1, text=text, uploaded_by=by[:100], uploaded_at=utcnow()))
        else:
            row.text, row.uploaded_by, row.uploaded_at = text, by[:100], utcnow()
    return len(units)


def names_by_area(units: list[OldUnit]) -> dict[str, list[OldUnit]]:
    """The former communes (not quận/huyện) each unit of today took in."""
    found: dict[str, list[OldUnit]] = {}
    for u in units:
        if u.kind not in DISTRICT_KINDS:
            for code in u.new_codes:
                found.setdefault(code, []).append(u)
    return found


def resolve(typed: str, areas: list, units: list[OldUnit]) -> list:
    """The units of today (AreaRow) a typed name may mean: a code, a name of today, or a
    former name (several when the former unit was split or covered several)."""
    from bot.services.areas import find_area

    typed = typed.strip()
    by_code = {a.code: a for a in areas}
    if typed in by_code:
        return [by_code[typed]]
    _, kind = strip_kind(typed)
    found = [] if kind in DISTRICT_KINDS else find_area(typed, areas)
    if found and found[0][1] >= 95 and (len(found) < 2 or found[1][1] < found[0][1]):
        return [found[0][0]]
    codes = list(dict.fromkeys(c for u, _ in find_old(typed, units) for c in u.new_codes))
    return [by_code[c] for c in codes if c in by_code]


def find_old(typed: str, units: list[OldUnit], min_score: float = 90) -> list[tuple[OldUnit, float]]:
    """Old units whose name is what the resident typed (accent-free, small typos), best
    first. A typed "quận"/"huyện" keeps the former districts; "phường"/"xã" the communes."""
    key, kind = strip_kind(typed)
    if not key:
        return []
    found = []
    for unit in units:
        if kind in DISTRICT_KINDS and unit.kind not in DISTRICT_KINDS:
            continue
        if kind in {"phuong", "xa", "thi-tran"} and unit.kind in DISTRICT_KINDS:
            continue
        score = fuzz.ratio(key, fold(canon(unit.name)))
        if score >= min_score:
            found.append((unit, float(score)))
    if not found:
        return []
    best = max(s for _, s in found)
    return sorted([(u, s) for u, s in found if s == best], key=lambda x: (x[0].kind in DISTRICT_KINDS, x[0].name))
