"""Security probes of a real `cdsbot run` process (issue 20), as an attacker or an
unlucky operator would meet it: a malformed update with the right secret, a restart
behind it, a busy port, a lost admin password, first-start secrets, backup files."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import start_cdsbot, stop_cdsbot

SECRET = "webhook-secret-123"
RESIDENT = 5001


def _env(tmp: Path, fake: FakeTelegram) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'run.sqlite3'}", "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_WEBHOOK_URL": "https://example.invalid/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "ADMIN_PASSWORD": "mot-mat-khau-dai", "MATCH_WORKER": "false"}


def _until(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _statuses(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT external_id, status FROM inbox WHERE channel = 'telegram'").fetchall())


def test_an_undecodable_update_is_failed_counted_and_never_blocks_a_restart(tmp_path: Path) -> None:
    fake = FakeTelegram().start()
    try:
        proc, base = start_cdsbot(tmp_path, _env(tmp_path, fake))
        try:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            bad = httpx.post(base + "/telegram/webhook", json={"update_id": 6002, "message": "x"}, headers=headers)
            assert bad.status_code == 200  # stored, failed, and Telegram is not asked to send it again
            good = fake.message(RESIDENT, "dịch vụ công trực tuyến là gì")
            fake.take_update()
            assert httpx.post(base + "/telegram/webhook", json=good, headers=headers).status_code == 200
            _until(lambda: len(fake.sent(RESIDENT)) >= 1)
            metrics = httpx.get(base + "/metrics").text
            assert 'cdsbot_inbox_undecodable_total{channel="telegram"} 1.0' in metrics
        finally:
            out = stop_cdsbot(proc)
        assert _statuses(tmp_path / "run.sqlite3")["6002"] == "failed"
        assert "6002 cannot be decoded" in out and "Traceback" not in out

        # An older version left an undecodable row 'received', with a good one behind it.
        behind = fake.message(RESIDENT, "/trogiup")
        fake.take_update()
        with sqlite3.connect(tmp_path / "run.sqlite3") as conn:
            conn.executemany("INSERT INTO inbox (channel, external_id, payload, received_at, status) "
                             "VALUES ('telegram', ?, ?, '2026-11-18 02:59:00', 'received')",
                             [("7001", json.dumps({"update_id": 7001, "message": "x"})),
                              (str(behind["update_id"]), json.dumps(behind))])
        sent_before = len(fake.sent(RESIDENT))
        proc, base = start_cdsbot(tmp_path, _env(tmp_path, fake))
        try:
            _until(lambda: len(fake.sent(RESIDENT)) > sent_before)  # the item behind it is answered
            _until(lambda: _statuses(tmp_path / "run.sqlite3")["7001"] == "failed")
        finally:
            out = stop_cdsbot(proc)
        assert "Application startup failed" not in out
    finally:
        fake.stop()


# -- 12. backups are readable by their owner only ------------------------------------------


def _cli(folder: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'data' / 'cdsbot.sqlite3'}", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=folder, env=base, capture_output=True, text=True,
                          timeout=180, input=stdin, preexec_fn=lambda: os.umask(0o022))


def test_backups_and_the_copy_before_a_restore_are_0600(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    done = _cli(tmp_path, "db", "backup", str(tmp_path / "sao-luu.sqlite3"))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE((tmp_path / "sao-luu.sqlite3").stat().st_mode) == 0o600
    restored = _cli(tmp_path, "db", "restore", str(tmp_path / "sao-luu.sqlite3"), "--yes")
    assert restored.returncode == 0, restored.stderr
    saved = list((tmp_path / "data").glob("cdsbot.sqlite3.before-restore-*"))
    assert len(saved) == 1 and stat.S_IMODE(saved[0].stat().st_mode) == 0o600


# -- first run: a busy port, a lost password -----------------------------------------------


def test_a_busy_port_is_one_sentence_naming_port_and_the_option(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = _cli(tmp_path, "run", "--port", str(port), env={"ADMIN_PASSWORD": "mot-mat-khau-dai"})
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("Lỗi")]
    assert len(lines) == 1 and r.stderr.strip().endswith(lines[0]), r.stderr
    assert f"Cổng {port} đang được một chương trình khác dùng" in lines[0] and "already in use" in lines[0]
    assert "PORT" in lines[0] and "--port" in lines[0] and "Errno" not in lines[0] and "Traceback" not in r.stderr


def test_reset_password_reads_the_new_password_on_standard_input(tmp_path: Path) -> None:
    import asyncio

    from admin.accounts import verify
    from bot.storage.db import open_database

    made = _cli(tmp_path, "admin", "create-user", "lan.nguyen", "--role", "editor", stdin="mat-khau-cu-da-quen\n")
    assert made.returncode == 0, made.stderr
    done = _cli(tmp_path, "admin", "reset-password", "lan.nguyen", stdin="mat-khau-moi-dai-hon\n")
    assert done.returncode == 0 and "Đã đặt mật khẩu mới cho 'lan.nguyen'" in done.stdout, done.stderr
    assert "mat-khau-moi" not in done.stdout + done.stderr  # never echoed

    async def check() -> tuple[bool, bool]:
        db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cdsbot.sqlite3'}")
        try:
            return (await verify(db, "lan.nguyen", "mat-khau-moi-dai-hon") is not None,
                    await verify(db, "lan.nguyen", "mat-khau-cu-da-quen") is not None)
        finally:
            await db.dispose()

    assert asyncio.run(check()) == (True, False)
    unknown = _cli(tmp_path, "admin", "reset-password", "khong-co-ai", stdin="mat-khau-moi-dai-hon\n")
    assert unknown.returncode == 1 and "khong-co-ai" in unknown.stderr and "Traceback" not in unknown.stderr
    empty = _cli(tmp_path, "admin", "reset-password", "lan.nguyen", stdin="")
    assert empty.returncode == 1 and "standard input" in empty.stderr


# -- 16. the salt and the session key are made once, kept 0600, reused -----------------------


def test_first_start_makes_the_salt_and_session_key_and_reuses_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cdsbot.sqlite3'}", "ADMIN_PASSWORD": "mot-mat-khau-dai"}
    for name in ("RESIDENT_ID_SALT", "ADMIN_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    proc, base = start_cdsbot(tmp_path, env)
    web = httpx.Client()
    try:
        web.get(base + "/admin/login")
        r = web.post(base + "/admin/login", data={"csrftoken": web.cookies["csrftoken"], "username": "admin",
                                                  "password": "mot-mat-khau-dai"})
        assert r.status_code == 303
        session = "khach-0123456789abcdef"
        assert httpx.post(base + "/chat/api/messages", json={"session_id": session, "text": "vneid là gì"}).status_code == 200
    finally:
        out = stop_cdsbot(proc)
    keys = tmp_path / "data" / "secrets.json"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    stored = json.loads(keys.read_text())
    assert len(stored["resident_id_salt"]) >= 40 and len(stored["admin_secret_key"]) >= 40
    assert stored["resident_id_salt"] not in out and stored["admin_secret_key"] not in out
    with sqlite3.connect(tmp_path / "data" / "cdsbot.sqlite3") as conn:
        logged = conn.execute("SELECT resident_hash FROM question_log").fetchone()[0]
    assert logged == hashlib.sha256(f"{stored['resident_id_salt']}:web:{session}".encode()).hexdigest()

    proc, base = start_cdsbot(tmp_path, env)  # a restart: the same key, so the admin stays signed in
    try:
        assert web.get(base + "/admin/").status_code == 200
    finally:
        stop_cdsbot(proc)
        web.close()
    assert json.loads(keys.read_text()) == stored

    refused = _cli(tmp_path, "run", env={"RESIDENT_ID_SALT": "change-me", "TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN"})
    assert refused.returncode == 1 and "RESIDENT_ID_SALT" in refused.stderr and "change-me" in refused.stderr
