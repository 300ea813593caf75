"""Backup and restore of the SQLite database, safe while the assistant runs.

`backup(url, target)` copies the database with SQLite's online backup API in one step:
the copy is one consistent snapshot (a read transaction; in WAL mode the running
assistant keeps writing meanwhile), written to `target.partial`, checked with
`PRAGMA integrity_check`, then renamed to `target`, so a half-written file never carries
the final name.

`restore(url, source)` checks the file (integrity, a schema revision this version knows),
saves the current database beside itself as `….before-restore-YYYYmmdd-HHMMSS`, then
copies the file in through the same API. Stop the assistant first: a running process
keeps its own view (knowledge base, conversations) until restarted. At the next start
the migrations bring an older backup up to date.

PostgreSQL is backed up with its own tools (`pg_dump`); see docs/deployment.*.md.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot import clock
from bot.storage.db import alembic_config

__all__ = ["BackupError", "Copied", "backup", "restore", "sqlite_file"]


class BackupError(Exception):
    """Backup or restore cannot go on; the message says why (Vietnamese and English)."""


@dataclass(frozen=True)
class Copied:
    path: Path
    bytes: int
    revision: str | None
    entries: int
    questions: int
    seconds: float
    saved_previous: Path | None = None


def sqlite_file(url: str) -> Path:
    """The file behind a SQLite DATABASE_URL; a clear error for PostgreSQL or memory."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        raise BackupError("Cơ sở dữ liệu là PostgreSQL: sao lưu bằng pg_dump, phục hồi bằng pg_restore, xem "
                          "docs/deployment.vi.md (PostgreSQL: use pg_dump / pg_restore, see docs/deployment.en.md).")
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("DATABASE_URL trỏ tới cơ sở dữ liệu trong bộ nhớ, không có gì để sao lưu (in-memory database).")
    return Path(parsed.database)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30)  # waits for a writer's lock instead of failing
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _describe(conn: sqlite3.Connection, path: Path) -> tuple[str | None, int, int]:
    """(schema revision, entries, questions) of a database file, after an integrity check."""
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} không phải cơ sở dữ liệu SQLite dùng được (not a usable SQLite database): {exc}") from exc
    if check != "ok":
        raise BackupError(f"{path} bị hỏng (integrity check failed): {check}")
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        entries = conn.execute("SELECT count(*) FROM kb_entries").fetchone()[0]
        questions = conn.execute("SELECT count(*) FROM question_log").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} không phải cơ sở dữ liệu của trợ lý (not an assistant database): {exc}") from exc
    return (revision[0] if revision else None), int(entries), int(questions)


def backup(url: str, target: Path, *, overwrite: bool = False) -> Copied:
    """Copy the running database to `target` (one consistent snapshot)."""
    source = sqlite_file(url)
    if not source.exists():
        raise BackupError(f"Chưa có cơ sở dữ liệu {source} (no database there yet).")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} đã có; chọn tên khác hoặc dùng --force (already exists; choose another name or --force).")
    if target.resolve() == source.resolve():
        raise BackupError("Tệp sao lưu trùng với cơ sở dữ liệu đang dùng (the backup file is the database itself).")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    src = _connect(source)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one read transaction, one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        revision, entries, questions = _describe(dst, partial)
    except BaseException:
        dst.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dst.close()
    os.replace(partial, target)
    return Copied(target, target.stat().st_size, revision, entries, questions, time.monotonic() - started)


def restore(url: str, source: Path) -> Copied:
    """Replace the database with the backup `source`, keeping the current one beside it."""
    target = sqlite_file(url)
    if not source.is_file():
        raise BackupError(f"Không thấy tệp sao lưu {source} (backup file not found).")
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("Tệp sao lưu trùng với cơ sở dữ liệu đang dùng (the backup file is the database itself).")
    started = time.monotonic()
    src = _connect(source)
    try:
        revision, entries, questions = _describe(src, source)
        known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if revision is not None and revision not in known:
            raise BackupError(f"Bản sao lưu ở phiên bản lược đồ {revision}, mới hơn phần mềm này; hãy cài phiên bản mới hơn "
                              f"trước (the backup comes from a newer version of the assistant).")
        saved = None
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
            saved = target.with_name(f"{target.name}.before-restore-{stamp}")
            current = _connect(target)
            try:
                with contextlib.closing(sqlite3.connect(saved)) as keep:
                    current.backup(keep)
            finally:
                current.close()
        dst = _connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return Copied(target, target.stat().st_size, revision, entries, questions, time.monotonic() - started, saved)
