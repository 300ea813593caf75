"""The knowledge base in the database: import, export, edit with history, and the live
matcher that follows every change without a restart.

Every write bumps `kb_meta.revision`; `KnowledgeBase.matcher()` rebuilds its index when
the revision it was built from is stale (checked at most once a second), so several
processes on one PostgreSQL database all answer from the same published entries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from bot.chitchat import Chitchat
from bot.kb_files import Entry, Group, dump_group, read_dir
from bot.matcher import Doc, Matcher
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import KbEntry, KbGroup, KbHistory, KbMeta, utcnow
from bot.text import Lexicon

__all__ = ["ImportReport", "KnowledgeBase", "docs_from_groups", "export_groups", "import_groups"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    created: int
    updated: int
    unchanged: int
    kept: tuple[str, ...]  # entries in the database that the files do not have


def _row_to_entry(row: KbEntry) -> Entry:
    return Entry(
        id=row.id,
        kind=row.kind,
        status=row.status,
        question=row.question,
        alternates=list(row.alternates or []),
        answer=row.answer,
        answer_en=row.answer_en,
        links=list(row.links or []),
        related=list(row.related or []),
        tags=list(row.tags or []),
        sources=list(row.sources or []),
        reviewed=row.reviewed,
    )


def _entry_values(entry: Entry) -> dict[str, Any]:
    d = entry.to_dict()
    d.pop("id")
    d["reviewed"] = entry.reviewed
    return d


async def bump_revision(session: Any) -> None:
    meta = await session.get(KbMeta, 1)
    if meta is None:
        session.add(KbMeta(id=1, revision=1))
    else:
        meta.revision += 1


async def import_groups(db: Database, groups: list[Group], by: str = "import") -> ImportReport:
    """Load validated groups into the database in one transaction, recording history."""
    created = updated = unchanged = 0
    seen: set[str] = set()
    async with db.session() as session, session.begin():
        for gpos, group in enumerate(groups):
            row = await session.get(KbGroup, group.group)
            if row is None:
                session.add(
                    KbGroup(id=group.group, title=group.title, title_en=group.title_en, pillar=group.pillar, position=gpos)
                )
            else:
                row.title, row.title_en, row.pillar, row.position = group.title, group.title_en, group.pillar, gpos
        await session.flush()
        for group in groups:
            for pos, entry in enumerate(group.entries):
                seen.add(entry.id)
                existing = await session.get(KbEntry, entry.id)
                after = entry.to_dict()
                if existing is None:
                    session.add(
                        KbEntry(id=entry.id, group_id=group.group, position=pos, updated_by=by, **_entry_values(entry))
                    )
                    session.add(KbHistory(entry_id=entry.id, changed_by=by, action="create", before=None, after=after))
                    created += 1
                    continue
                before = _row_to_entry(existing).to_dict()
                if before == after and existing.group_id == group.group and existing.position == pos:
                    unchanged += 1
                    continue
                for name, value in _entry_values(entry).items():
                    setattr(existing, name, value)
                existing.group_id, existing.position = group.group, pos
                existing.updated_at, existing.updated_by = utcnow(), by
                if before != after:
                    session.add(KbHistory(entry_id=entry.id, changed_by=by, action="import", before=before, after=after))
                updated += 1
        all_ids = (await session.scalars(select(KbEntry.id))).all()
        await bump_revision(session)
    return ImportReport(created, updated, unchanged, tuple(sorted(set(all_ids) - seen)))


async def export_groups(db: Database) -> list[Group]:
    """Every group with its entries (all statuses), in file order."""
    async with db.session() as session:
        groups = (await session.scalars(select(KbGroup).order_by(KbGroup.position, KbGroup.id))).all()
        rows = (await session.scalars(select(KbEntry).order_by(KbEntry.position, KbEntry.id))).all()
    out = {g.id: Group(group=g.id, title=g.title, title_en=g.title_en, pillar=g.pillar) for g in groups}
    for row in rows:
        out[row.group_id].entries.append(_row_to_entry(row))
    return list(out.values())


def write_files(groups: list[Group], directory: Path) -> list[Path]:
    """Write each group to `<directory>/<group>.yaml` in the canonical layout."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for group in groups:
        path = directory / f"{group.group}.yaml"
        path.write_text(dump_group(group), encoding="utf-8")
        paths.append(path)
    return paths


async def entry_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(KbEntry)) or 0)


async def save_entry(db: Database, entry: Entry, group_id: str, by: str) -> None:
    """Create or change one entry (admin edits, team proposals), with history."""
    async with db.session() as session, session.begin():
        if await session.get(KbGroup, group_id) is None:  # e.g. "de-xuat": entries proposed by teams
            session.add(KbGroup(id=group_id, title="Đề xuất từ Tổ CNS", title_en="Proposed by teams", pillar="chung", position=999))
            await session.flush()
        existing = await session.get(KbEntry, entry.id)
        after = entry.to_dict()
        if existing is None:
            position = await session.scalar(
                select(func.coalesce(func.max(KbEntry.position), -1) + 1).where(KbEntry.group_id == group_id)
            )
            session.add(
                KbEntry(id=entry.id, group_id=group_id, position=int(position or 0), updated_by=by, **_entry_values(entry))
            )
            session.add(KbHistory(entry_id=entry.id, changed_by=by, action="create", before=None, after=after))
        else:
            before = _row_to_entry(existing).to_dict()
            for name, value in _entry_values(entry).items():
                setattr(existing, name, value)
            existing.group_id = group_id
            existing.updated_at, existing.updated_by = utcnow(), by
            action = "publish" if before["status"] != "published" and entry.status == "published" else "update"
            session.add(KbHistory(entry_id=entry.id, changed_by=by, action=action, before=before, after=after))
        await bump_revision(session)


async def delete_all(db: Database) -> None:
    async with db.session() as session, session.begin():
        await session.execute(delete(KbEntry))
        await session.execute(delete(KbGroup))
        await bump_revision(session)


def docs_from_groups(groups: list[Group]) -> list[Doc]:
    """The published entries of some groups, as the matcher takes them."""
    return [
        Doc(entry_id=e.id, strings=(e.question, *e.alternates), out_of_scope=e.kind == "out-of-scope")
        for g in groups
        for e in g.entries
        if e.status == "published"
    ]


class KnowledgeBase:
    """The published knowledge base of a running process, and its matcher.

    Parameters:
        db: the database.
        settings: thresholds and the knowledge folder (lexicon, chitchat).
    """

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.lexicon = Lexicon.load(settings.lexicon_dir)
        self.chitchat = Chitchat.load(settings.knowledge_dir / "chitchat.yaml", self.lexicon)
        self.entries: dict[str, Entry] = {}
        self.groups: list[Group] = []
        self._matcher: Matcher | None = None
        self._revision = -1
        self._checked = 0.0
        self._lock = asyncio.Lock()

    async def revision(self) -> int:
        async with self.db.session() as session:
            return int(await session.scalar(select(KbMeta.revision).where(KbMeta.id == 1)) or 0)

    async def matcher(self) -> Matcher:
        """The matcher for the current published entries (rebuilt when they changed)."""
        now = time.monotonic()
        if self._matcher is not None and now - self._checked < 1.0:
            return self._matcher
        async with self._lock:
            revision = await self.revision()
            self._checked = time.monotonic()
            if self._matcher is None or revision != self._revision:
                await self.reload(revision)
        assert self._matcher is not None
        return self._matcher

    async def reload(self, revision: int | None = None) -> None:
        groups = await export_groups(self.db)
        self.groups = groups
        self.entries = {e.id: e for g in groups for e in g.entries}
        self._matcher = Matcher(
            docs_from_groups(groups),
            self.lexicon,
            self.chitchat,
            answer_threshold=self.settings.answer_threshold,
            suggest_threshold=self.settings.suggest_threshold,
        )
        self._revision = revision if revision is not None else await self.revision()
        logger.info("knowledge base loaded: %s published entries (revision %s)", len(self._matcher), self._revision)


def matcher_from_files(settings: Settings) -> tuple[Matcher, dict[str, Entry]]:
    """A matcher straight from `knowledge/` (no database): for `match` and `eval`."""
    lexicon = Lexicon.load(settings.lexicon_dir)
    chitchat = Chitchat.load(settings.knowledge_dir / "chitchat.yaml", lexicon)
    groups = read_dir(settings.entries_dir)
    matcher = Matcher(
        docs_from_groups(groups),
        lexicon,
        chitchat,
        answer_threshold=settings.answer_threshold,
        suggest_threshold=settings.suggest_threshold,
    )
    return matcher, {e.id: e for g in groups for e in g.entries}
