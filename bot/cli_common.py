"""What every `cdsbot` subcommand module shares: the one-message error and opening the
database ready for use. Kept apart from `bot/cli.py` so that the subcommand modules
(`cli_run`, `cli_reports`) and the entry point import it without importing each other."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from pydantic import ValidationError

from bot.kb_files import read_dir
from bot.settings import Settings
from bot.storage.db import Database, open_database

__all__ = ["CliError", "answer_json_lines", "load_settings", "ready_db"]


class CliError(Exception):
    """A failure to report to the user in one message (exit code 1)."""


def load_settings() -> Settings:
    """The settings from the environment, with the secrets `cdsbot run` generated
    (bot/keys.py) so that every command hashes residents with the same salt."""
    from bot.keys import SecretsError, resolve

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join((f"{'.'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
                             + str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise CliError(f"Cấu hình không hợp lệ (invalid settings): {problems}") from exc
    try:
        return resolve(settings, create=False)
    except SecretsError as exc:
        raise CliError(str(exc)) from exc


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


def answer_json_lines(key: str, answer: Callable[[str], dict[str, Any]], refused: dict[str, Any],
                      stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """The `--jsonl` contract of `cdsbot match` and `cdsbot check`: every non-blank line
    of standard input is a JSON object with a text under `key`, and gets one JSON line
    out, `answer(text)`. A line that is not such an object gets `refused` (with an
    `error`) and a message on standard error, and the others go on. Returns the exit
    status: 1 when a line was refused, else 0."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    failures = 0
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict) or not isinstance(obj.get(key), str):
                raise ValueError
        except ValueError:
            failures += 1
            print(f"dòng {n}: cần một đối tượng JSON có khóa \"{key}\" là chuỗi (line {n}: need a JSON object with a text \"{key}\")",
                  file=sys.stderr)
            out = {**refused, "error": f"line needs a JSON object with a text '{key}'"}
        else:
            out = answer(obj[key])
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()
    return 1 if failures else 0
