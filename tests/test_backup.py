"""`cdsbot db backup` while `cdsbot run` answers questions on the web chat, then
`cdsbot db restore` into a fresh folder, whose assistant answers the same."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bot.kb_files import read_dir
from bot.settings import ROOT as REPO
from tests.helpers import start_cdsbot

QUESTIONS = ["vneid là gì", "chữ ký số là gì", "nộp hồ sơ trực tuyến thế nào", "xin chào", "thanh toán không dùng tiền mặt"]


def env_for(folder: Path, port: int | None = None) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'data' / 'cdsbot.sqlite3'}",
           "ADMIN_PASSWORD": "mot-mat-khau-dai", "FLOOD_MESSAGES_PER_MINUTE": "1000"}
    if port is not None:
        env["PORT"] = str(port)
    return env


def cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=folder, env=env_for(folder),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


class Running:
    """`cdsbot run` in a folder, on a free port."""

    def __init__(self, folder: Path) -> None:
        env = env_for(folder)
        env.pop("PORT", None)
        self.proc, self.base = start_cdsbot(folder, env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ask(self, session: str, text: str) -> list[str]:
        r = httpx.post(self.base + "/chat/api/messages", json={"session_id": session, "text": text}, timeout=30)
        assert r.status_code == 200, r.text
        return [reply["text"] for reply in r.json()["replies"]]

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=60)
        return err


def count_questions(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM question_log").fetchone()[0])


def test_backup_while_answering_then_restore_into_a_fresh_folder_answers_the_same(tmp_path: Path) -> None:
    live, fresh = tmp_path / "live", tmp_path / "fresh"
    live.mkdir()
    fresh.mkdir()
    app = Running(live)
    answers: dict[str, list[str]] = {}
    asked = 0
    errors: list[str] = []
    stop = threading.Event()

    def keep_asking() -> None:  # a resident after another, while the backup runs
        nonlocal asked
        while not stop.is_set() and asked < 100:
            text = QUESTIONS[asked % len(QUESTIONS)]
            try:
                answers[text] = app.ask(f"resident-session-{asked:06d}", text)
                asked += 1
            except AssertionError as exc:
                errors.append(str(exc))
    try:
        asker = threading.Thread(target=keep_asking)
        asker.start()
        while asked < 20:
            time.sleep(0.05)
        before = asked
        backup = cli(live, "db", "backup", str(tmp_path / "backups" / "cdsbot.sqlite3"))
        during = asked
        while asked < during + 10 and asker.is_alive():
            time.sleep(0.05)
        stop.set()
        asker.join(timeout=60)
    finally:
        log = app.stop()
    assert backup.returncode == 0, backup.stderr
    entries = sum(len(g.entries) for g in read_dir(REPO / "knowledge" / "entries"))
    assert "Đã sao lưu vào" in backup.stdout and f"{entries} mục tri thức" in backup.stdout
    assert not errors and "Traceback" not in log, (errors, log[-2000:])
    in_backup = count_questions(tmp_path / "backups" / "cdsbot.sqlite3")
    assert before <= in_backup <= asked and in_backup < count_questions(live / "data" / "cdsbot.sqlite3")

    refused = cli(fresh, "db", "restore", str(tmp_path / "backups" / "cdsbot.sqlite3"))
    assert refused.returncode == 1 and "--yes" in refused.stderr and not (fresh / "data").exists()
    restored = cli(fresh, "db", "restore", str(tmp_path / "backups" / "cdsbot.sqlite3"), "--yes")
    assert restored.returncode == 0 and "Đã phục hồi" in restored.stdout, restored.stderr
    assert count_questions(fresh / "data" / "cdsbot.sqlite3") == in_backup

    again = Running(fresh)
    try:
        for i, text in enumerate(QUESTIONS):
            assert again.ask(f"restored-session-{i:06d}", text) == answers[text]
    finally:
        again.stop()
    assert count_questions(fresh / "data" / "cdsbot.sqlite3") == in_backup + len(QUESTIONS)


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    result = cli(tmp_path, "db", "restore", str(junk), "--yes")
    assert result.returncode == 1 and "Lỗi:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "cdsbot.sqlite3").exists()
