"""The knowledge base in the database: import, export, edit with history, pending drafts
of published entries, and the live matcher that follows every change without a restart.

An edit of a published entry is kept as a pending draft on its row (`KbEntry.draft`):
the matcher, the replies and `export_groups` (hence `cdsbot kb export`) keep using the
published fields until `publish_draft` applies it in one transaction.

Every write bumps `kb_meta.revision`; `KnowledgeBase.matcher()` rebuilds its index when
the revision it was built from is stale (checked at most once a second), so several
processes on one PostgreSQL database all answer from the same published entries.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from bot.chitchat import Chitchat
from bot.clock import now as utcnow
from bot.kb_files import Entry, Group, dump_group, read_dir
from bot.match_worker import MatchWorker, Recipe
from bot.matcher import Doc, Match, Matcher
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import KbEntry, KbGroup, KbHistory, KbMeta
from bot.text import Lexicon

__all__ = [
    "Draft", "DraftChanged", "ImportReport", "KnowledgeBase", "discard_draft", "docs_from_groups", "drafts",
    "export_groups", "import_groups", "publish_draft", "save_draft",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    created: int
    updated: int
    unchanged: int
    kept: tuple[str, ...]  # entries in the database that the files do not have
    drafts_dropped: tuple[str, ...] = ()  # entries replaced by the files whose pending draft was dropped


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
        review_by=row.review_by,
    )


def entry_from_dict(d: dict[str, Any]) -> Entry:
    """The inverse of `Entry.to_dict` (dates as ISO strings)."""
    reviewed = d.get("reviewed")
    review_by = d.get("review_by")
    return Entry(
        id=d["id"], kind=d.get("kind", "faq"), status=d.get("status", "published"), question=d.get("question", ""),
        alternates=list(d.get("alternates") or []), answer=d.get("answer", ""), answer_en=d.get("answer_en", ""),
        links=list(d.get("links") or []), related=list(d.get("related") or []), tags=list(d.get("tags") or []),
        sources=list(d.get("sources") or []), reviewed=dt.date.fromisoformat(reviewed) if reviewed else None,
        review_by=dt.date.fromisoformat(review_by) if review_by else None,
    )


def _entry_values(entry: Entry) -> dict[str, Any]:
    d = entry.to_dict()
    d.pop("id")
    d["reviewed"] = entry.reviewed
    d["review_by"] = entry.review_by
    return d


async def bump_revision(session: Any) -> None:
    meta = await session.get(KbMeta, 1)
    if meta is None:
        session.add(KbMeta(id=1, revision=1))
    else:
        meta.revision += 1


async def import_groups(db: Database, groups: list[Group], by: str = "import") -> ImportReport:
    """Load validated groups into the database in one transaction, recording history.

    An entry the files change replaces the one in the database; a pending draft of it
    (an unpublished edit made in the admin site) is dropped, with a "discard" history row
    ("discard:import") whose `before` holds the dropped draft. Entries the files leave
    unchanged keep theirs."""
    created = updated = unchanged = 0
    seen: set[str] = set()
    dropped: list[str] = []
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
                if before != after and existing.draft is not None:  # replaced: its pending draft is dropped
                    session.add(_discard(existing, by, reason="import"))
                    dropped.append(entry.id)
                updated += 1
        all_ids = (await session.scalars(select(KbEntry.id))).all()
        await bump_revision(session)
    return ImportReport(created, updated, unchanged, tuple(sorted(set(all_ids) - seen)), tuple(dropped))


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
    """Create or change one entry (edits of unpublished entries, status changes, team
    proposals), with history. The change is live at once; an edit of a published entry
    goes through `save_draft` instead. Moving an entry out of "published" drops its
    pending draft."""
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
            if existing.draft is not None and entry.status != "published":  # unpublished: nothing left to publish over
                session.add(_discard(existing, by, reason="status"))
        await bump_revision(session)


@dataclass(frozen=True)
class Draft:
    """A pending edit of a published entry."""

    entry: Entry
    group: str
    by: str
    at: dt.datetime


class DraftChanged(Exception):
    """The pending draft is gone or was changed by someone else since it was checked."""


def _draft_of(row: KbEntry) -> Draft | None:
    if row.draft is None:
        return None
    return Draft(entry_from_dict(row.draft["entry"]), row.draft["group"], row.draft_by or "", row.draft_at or utcnow())


def _discard(row: KbEntry, by: str, reason: str) -> KbHistory:
    """Clear the row's draft; the history row that says so (before: the draft, after: the
    live entry; action "discard", or "discard:import" / "discard:status" when an import or
    a status change dropped it)."""
    dropped = row.draft["entry"] if row.draft else None
    row.draft, row.draft_by, row.draft_at = None, None, None
    after = _row_to_entry(row).to_dict()
    action = "discard" if reason == "discard" else f"discard:{reason}"
    return KbHistory(entry_id=row.id, changed_by=by, action=action, before=dropped, after=after)


async def drafts(db: Database) -> dict[str, Draft]:
    """Every pending draft, by entry id."""
    async with db.session() as session:
        rows = (await session.scalars(select(KbEntry).where(KbEntry.draft.is_not(None)))).all()
    return {row.id: d for row in rows if (d := _draft_of(row)) is not None}


async def draft_of(db: Database, entry_id: str) -> Draft | None:
    async with db.session() as session:
        row = await session.get(KbEntry, entry_id)
        return _draft_of(row) if row is not None else None


async def save_draft(db: Database, entry: Entry, group_id: str, by: str) -> None:
    """Keep an edit of a published entry as its pending draft (replacing an earlier one);
    the published fields, hence the answers residents get, do not change."""
    async with db.session() as session, session.begin():
        row = await session.get(KbEntry, entry.id)
        if row is None or row.status != "published":
            raise DraftChanged(entry.id)
        row.draft = {"group": group_id, "entry": entry.to_dict()}
        row.draft_by, row.draft_at = by, utcnow()
        session.add(KbHistory(entry_id=entry.id, changed_by=by, action="draft",
                              before=_row_to_entry(row).to_dict(), after=entry.to_dict()))


async def publish_draft(db: Database, entry_id: str, expected: Entry, by: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Replace the published entry by its pending draft in one transaction, with a
    "publish" history row; `expected` is the draft as the caller checked it (raises
    DraftChanged when the stored draft is no longer that). Returns (before, after)."""
    async with db.session() as session, session.begin():
        row = await session.get(KbEntry, entry_id, with_for_update=True)
        draft = _draft_of(row) if row is not None else None
        if row is None or draft is None or draft.entry != expected:
            raise DraftChanged(entry_id)
        if await session.get(KbGroup, draft.group) is None:
            raise DraftChanged(entry_id)
        before = _row_to_entry(row).to_dict()
        for name, value in _entry_values(draft.entry).items():
            setattr(row, name, value)
        row.group_id = draft.group
        row.updated_at, row.updated_by = utcnow(), by
        row.draft, row.draft_by, row.draft_at = None, None, None
        after = draft.entry.to_dict()
        session.add(KbHistory(entry_id=entry_id, changed_by=by, action="publish", before=before, after=after))
        await bump_revision(session)
    return before, after


async def discard_draft(db: Database, entry_id: str, by: str) -> dict[str, Any] | None:
    """Drop the pending draft (the published entry stays as it is); returns the dropped
    draft, or None when there was none."""
    async with db.session() as session, session.begin():
        row = await session.get(KbEntry, entry_id)
        if row is None or row.draft is None:
            return None
        dropped = dict(row.draft["entry"])
        session.add(_discard(row, by, reason="discard"))
    return dropped


async def delete_all(db: Database) -> None:
    async with db.session() as session, session.begin():
        await session.execute(delete(KbEntry))
        await session.execute(delete(KbGroup))
        await bump_revision(session)


def docs_from_groups(groups: list[Group]) -> list[Doc]:
    """The published entries of some groups, as the matcher takes them."""
    return [
        Doc(entry_id=e.id, strings=(e.question, *e.alternates), out_of_scope=e.kind == "out-of-scope",
            english=(e.answer_en,) if e.answer_en else ())
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
        self.chitchat = Chitchat.load(settings.chitchat_path, self.lexicon)
        self.entries: dict[str, Entry] = {}
        self.groups: list[Group] = []
        self._matcher: Matcher | None = None
        self._revision = -1
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self.worker = MatchWorker() if settings.match_worker else None

    async def revision(self) -> int:
        async with self.db.session() as session:
            return int(await session.scalar(select(KbMeta.revision).where(KbMeta.id == 1)) or 0)

    async def matcher(self) -> Matcher:
        """The matcher for the current published entries (rebuilt when they changed)."""
        now = time.monotonic()
        if self._matcher is not None and now - self._checked < 1.0:
            return self._matcher
        async with self._lock:
            if self._matcher is not None and time.monotonic() - self._checked < 1.0:
                return self._matcher  # checked by another message while this one waited
            revision = await self.revision()
            self._checked = time.monotonic()
            if self._matcher is None or revision != self._revision:
                await self.reload(revision)
        assert self._matcher is not None
        return self._matcher

    async def match(self, text: str) -> Match:
        """Match a resident's question against the current published entries (in the
        match worker process when there is one, `bot/match_worker.py`)."""
        matcher = await self.matcher()
        if self.worker is None:
            return matcher.match(text)
        return await self.worker.match(text)

    async def start(self) -> None:
        """Start the match worker, if any (it takes a second)."""
        if self.worker is not None:
            await self.worker.start()

    async def close(self) -> None:
        """Stop the match worker, if any (it starts again on the next question)."""
        if self.worker is not None:
            await self.worker.close()

    async def reload(self, revision: int | None = None) -> None:
        groups = await export_groups(self.db)
        self.groups = groups
        self.entries = {e.id: e for g in groups for e in g.entries}
        revision = revision if revision is not None else await self.revision()
        recipe = Recipe.of(self.settings, revision, docs_from_groups(groups))
        # Off the event loop: with the learned second opinion a build takes seconds.
        matcher = await asyncio.to_thread(recipe.build, self.lexicon, self.chitchat)
        self._matcher = matcher
        self._revision = revision
        if self.worker is not None:
            self.worker.install(dataclasses.replace(recipe, trained=matcher.classifiers), matcher)
        logger.info("knowledge base loaded: %s published entries (revision %s)", len(self._matcher), self._revision)


def matcher_from_files(settings: Settings) -> tuple[Matcher, dict[str, Entry]]:
    """A matcher straight from `knowledge/` (no database): for `match` and `eval`."""
    groups = read_dir(settings.entries_dir)
    return Recipe.of(settings, 0, docs_from_groups(groups)).build(), {e.id: e for g in groups for e in g.entries}
