"""What every `cdsbot` subcommand module shares: the one-message error and opening the
database ready for use. Kept apart from `bot/cli.py` so that the subcommand modules
(`cli_run`, `cli_reports`) and the entry point import it without importing each other."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from bot.kb_files import read_dir
from bot.settings import Settings
from bot.storage.db import Database, open_database

__all__ = ["CliError", "load_settings", "ready_db"]


class CliError(Exception):
    """A failure to report to the user in one message (exit code 1)."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join((f"{'.'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
                             + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise CliError(f"Cấu hình không hợp lệ (invalid settings): {problems}") from exc


async def ready_db(settings: Settings, *, seed: bool = True) -> Database:
    """Open (create, migrate) the database; on an empty one import `knowledge/` first."""
    from bot.services import areas as areas_service
    from bot.services.knowledge import entry_count, import_groups

    db = await open_database(settings.database_url)
    if seed and await entry_count(db) == 0:
        groups = read_dir(settings.entries_dir)
        report = await import_groups(db, groups, by="seed")
        print(f"Đã nạp kho tri thức lần đầu: {report.created} mục (knowledge base seeded).", file=sys.stderr)
        areas_file = settings.knowledge_dir / "areas.csv"
        if areas_file.exists() and await areas_service.count(db) == 0:
            await areas_service.import_csv(db, areas_file)
    return db
