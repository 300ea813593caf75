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
