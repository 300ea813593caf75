"""SIGTERM under load: `cdsbot run` (a real process) is answering a few hundred queued
Telegram questions and sending a campaign to a few hundred subscribers when it gets
SIGTERM (what systemd sends on `systemctl stop` or `restart`). It must finish or put
back what is in flight and exit cleanly; started again, it answers every question and
sends every campaign message. Nothing is lost, and nothing is sent twice: a graceful
stop has no in-flight work left to repeat (unlike SIGKILL, test_telegram_crash.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.helpers import free_port

QUESTIONS = 300
LATE = 100  # asked while the process stops: for the next one to answer
SUBSCRIBERS = 300
RESIDENTS = range(70_000, 70_000 + QUESTIONS + LATE)
AUDIENCE = range(80_000, 80_000 + SUBSCRIBERS)
CAMPAIGN_TEXT = "Thông báo: tuần lễ chuyển đổi số"


def env_for(fake: FakeTelegram, tmp: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'term.sqlite3'}", "PORT": str(free_port()),
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_POLL_TIMEOUT": "1",
            "TELEGRAM_BROADCAST_RATE": "40", "ADMIN_PASSWORD": "mot-mat-khau-dai"}


def cli(fake: FakeTelegram, tmp: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp, env=env_for(fake, tmp),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(fake: FakeTelegram, tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp, env=env_for(fake, tmp),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def answers(fake: FakeTelegram) -> Counter[str]:
    return Counter(str(m["chat_id"]) for m in fake.sent() if int(m["chat_id"]) in RESIDENTS)


def announcements(fake: FakeTelegram) -> Counter[str]:
    return Counter(str(m["chat_id"]) for m in fake.sent() if m.get("text") == CAMPAIGN_TEXT)


def test_sigterm_while_answering_and_sending_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    fake = FakeTelegram().start()
    try:
        csv = tmp_path / "subscribers.csv"
        csv.write_text("channel,user_id,area,topics,consented_at\n" + "".join(
            f"telegram,{u},phuong-hai-chau,,2026-05-01T09:00:00+07:00\n" for u in AUDIENCE), encoding="utf-8")
        cli(fake, tmp_path, "subscribers", "import", str(csv))
        campaign = cli(fake, tmp_path, "campaign", "create", "--text", CAMPAIGN_TEXT, "--channel", "telegram", "--now").split()[-1]
        for i, user in enumerate(RESIDENTS[:QUESTIONS]):
            fake.message(user, ["vneid là gì", "chữ ký số là gì", "nộp hồ sơ trực tuyến thế nào"][i % 3])

        first = start(fake, tmp_path)
        assert wait(lambda: len(answers(fake)) >= 40 and len(announcements(fake)) >= 40, 120), "did not get going"
        first.send_signal(signal.SIGTERM)
        at_signal = len(answers(fake)), len(announcements(fake))
        for i, user in enumerate(RESIDENTS[QUESTIONS:]):
            fake.message(user, ["đăng ký tài khoản dịch vụ công", "xin chào"][i % 2])
        _, log = first.communicate(timeout=90)
        assert first.returncode == 0, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        answered, announced = len(answers(fake)), len(announcements(fake))
        assert announced < SUBSCRIBERS, "the campaign ended before SIGTERM: nothing was tested"

        second = start(fake, tmp_path)
        try:
            ok = wait(lambda: len(answers(fake)) >= QUESTIONS + LATE and len(announcements(fake)) >= SUBSCRIBERS, 180)
            time.sleep(1.0)  # anything sent twice would show up now
        finally:
            second.send_signal(signal.SIGTERM)
            _, log2 = second.communicate(timeout=90)
        print(f"at SIGTERM: {at_signal[0]} answered, {at_signal[1]}/{SUBSCRIBERS} announced; at exit: {answered}/"
              f"{QUESTIONS + LATE} answered, {announced} announced; after restart: {len(answers(fake))}, {len(announcements(fake))}")
        assert ok, f"lost: {QUESTIONS + LATE - len(answers(fake))} answers, {SUBSCRIBERS - len(announcements(fake))} announcements"
        assert set(answers(fake)) == {str(u) for u in RESIDENTS} and set(announcements(fake)) == {str(u) for u in AUDIENCE}
        assert set(answers(fake).values()) == {1}, "a question was answered twice"
        assert set(announcements(fake).values()) == {1}, "a campaign message was sent twice"
        assert second.returncode == 0 and "Traceback" not in log2, log2[-3000:]
        status = cli(fake, tmp_path, "campaign", "status", campaign)
        assert "done" in status, status
    finally:
        fake.stop()
