"""The `cdsbot` command, run as a resident of a fresh machine would: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ROOT


def run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ANSWER_", "SUGGEST_"))}
    environ["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
        cwd=tmp_path, env=environ, timeout=120,
    )


def test_match_jsonl_contract(tmp_path: Path) -> None:
    lines = ["VNeID là gì?", "xin chào", "giá vàng hôm nay bao nhiêu", "dich vu cong truc tuyen la gi"]
    out = run(["match", "--jsonl"], tmp_path, "".join(json.dumps({"q": q}, ensure_ascii=False) + "\n" for q in lines))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) == 4
    for row, q in zip(rows, lines, strict=True):
        assert set(row) == {"q", "decision", "entry_id", "score", "suggestions"}
        assert row["q"] == q and 0 <= row["score"] <= 100 and isinstance(row["suggestions"], list)
    assert (rows[0]["decision"], rows[0]["entry_id"]) == ("answer", "vneid-la-gi")
    assert (rows[1]["decision"], rows[1]["entry_id"]) == ("chitchat", None)
    assert (rows[2]["decision"], rows[2]["entry_id"]) == ("unknown", None)
    assert (rows[3]["decision"], rows[3]["entry_id"]) == ("answer", "dvc-truc-tuyen-la-gi")


def test_match_reports_a_line_without_q_and_goes_on(tmp_path: Path) -> None:
    out = run(["match", "--jsonl"], tmp_path, '{"question": "x"}\nnot json\n{"q": "VNeID là gì"}\n')
    assert out.returncode == 1
    assert "line 1" in out.stderr and "line 2" in out.stderr and "Traceback" not in out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) == 3 and rows[2]["entry_id"] == "vneid-la-gi"


def test_eval_prints_rates_per_style_and_misses(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        "\n".join(json.dumps(c, ensure_ascii=False) for c in [
            {"q": "VNeID là gì", "topic": "vneid-la-gi", "style": "natural"},
            {"q": "thoi tiet mai the nao", "topic": "none", "style": "no-diacritics"},
            {"q": "VNeID là gì", "topic": "chu-ky-so", "style": "natural"},
        ]),
        encoding="utf-8",
    )
    out = run(["eval", str(cases), "--misses"], tmp_path)
    assert out.returncode == 0, out.stderr
    overall = next(line for line in out.stdout.splitlines() if line.startswith("overall"))
    assert overall.split()[1:] == ["3", "50.0%", "50.0%", "33.3%", "100.0%"]
    assert "natural" in out.stdout and "no-diacritics" in out.stdout
    assert "want=chu-ky-so got=answer:vneid-la-gi" in out.stdout


def test_eval_puts_several_sets_side_by_side(tmp_path: Path) -> None:
    dev, blind = tmp_path / "dev.jsonl", tmp_path / "blind.jsonl"
    dev.write_text(json.dumps({"q": "VNeID là gì", "topic": "vneid-la-gi", "style": "natural"}, ensure_ascii=False), encoding="utf-8")
    blind.write_text(json.dumps({"q": "What is VNeID used for?", "topic": "vneid-la-gi", "style": "english"}), encoding="utf-8")
    out = run(["eval", str(dev), str(blind)], tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "dev" in lines[0] and "blind" in lines[0]
    assert any(line.startswith("english") for line in lines) and any(line.startswith("natural") for line in lines)


def test_ask_seeds_an_empty_database_and_answers(tmp_path: Path) -> None:
    out = run(["ask", "lam sao nop ho so truc tuyen"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "decision: answer  entry: nop-ho-so-truc-tuyen" in out.stdout
    assert "dichvucong" in out.stdout
    assert (tmp_path / "cli.sqlite3").exists()


def test_invalid_knowledge_file_imports_nothing(tmp_path: Path) -> None:
    assert run(["kb", "import"], tmp_path).returncode == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    text = (ROOT / "knowledge" / "entries" / "tro-ly.yaml").read_text(encoding="utf-8")
    (bad / "tro-ly.yaml").write_text(text.replace("answer: ", "anwser: ", 1).replace("question:", "question: [", 1), encoding="utf-8")
    before = run(["kb", "export", "--jsonl"], tmp_path).stdout
    out = run(["kb", "import", str(bad)], tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "tro-ly.yaml:" in out.stderr and "nothing imported" in out.stderr
    assert run(["kb", "export", "--jsonl"], tmp_path).stdout == before


def test_export_jsonl_has_one_object_per_entry(tmp_path: Path) -> None:
    out = run(["kb", "export", "--jsonl"], tmp_path)
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) >= 51
    assert all(set(r) == {"id", "question", "alternates", "answer", "status"} for r in rows)


def test_export_to_a_folder_round_trips(tmp_path: Path) -> None:
    out = run(["kb", "export", str(tmp_path / "exported")], tmp_path)
    assert out.returncode == 0, out.stderr
    for path in (ROOT / "knowledge" / "entries").glob("*.yaml"):
        assert (tmp_path / "exported" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x@y/z", "DATABASE_URL"), ("postgresql+asyncpg://nobody@127.0.0.1:1/none", "cannot reach the database")],
)
def test_bad_database_url_is_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    out = run(["ask", "VNeID là gì"], tmp_path, DATABASE_URL=url)
    assert out.returncode == 1
    assert message in out.stderr and "Traceback" not in out.stderr


def test_areas_import_and_list(tmp_path: Path) -> None:
    out = run(["areas", "list"], tmp_path)
    lines = out.stdout.splitlines()
    assert len(lines) == 94 and "phuong-hai-chau\tHải Châu" in lines
    bad = tmp_path / "areas.csv"
    bad.write_text("code,kind,name\nx-1,quan,Hải Châu\n", encoding="utf-8")
    out = run(["areas", "import", str(bad)], tmp_path)
    assert out.returncode == 1 and "kind" in out.stderr
    good = tmp_path / "more.csv"
    good.write_text("code,kind,name\n,xa,Thử Nghiệm\n", encoding="utf-8")
    assert run(["areas", "import", str(good)], tmp_path).returncode == 0
    assert "xa-thu-nghiem\tThử Nghiệm" in run(["areas", "list"], tmp_path).stdout


def test_areas_import_old(tmp_path: Path) -> None:
    header = "kind,name,district,province,new_codes,status,source,note\n"
    bad = tmp_path / "old.csv"
    bad.write_text(header + "phuong,Thạc Gián,,,phuong-khong-co,xac-nhan,x,\n", encoding="utf-8")
    out = run(["areas", "import-old", str(bad)], tmp_path)
    assert out.returncode == 1 and "phuong-khong-co" in out.stderr and "Traceback" not in out.stderr
    out = run(["areas", "import-old", str(ROOT / "knowledge" / "old-units.csv")], tmp_path)
    assert out.returncode == 0 and "317" in out.stdout


@pytest.mark.parametrize("args", [[], ["kb"], ["db"], ["areas"], ["match"], ["eval"], ["ask"]])
def test_every_command_has_help(tmp_path: Path, args: list[str]) -> None:
    out = run([*args, "--help"], tmp_path)
    assert out.returncode == 0 and "usage: cdsbot" in out.stdout


def test_a_wrong_command_line_exits_2(tmp_path: Path) -> None:
    out = run(["frobnicate"], tmp_path)
    assert out.returncode == 2


def test_campaign_and_subscriber_commands(tmp_path: Path) -> None:
    subs = tmp_path / "subs.csv"
    subs.write_text("channel,user_id,area,topics,consented_at\ntelegram,42,phuong-hai-chau,an-toan-so,2026-05-01T09:00:00+07:00\n",
                    encoding="utf-8")
    assert run(["subscribers", "import", str(subs)], tmp_path).returncode == 0
    assert "Đang nhận tin (active): 1" in run(["subscribers", "stats"], tmp_path).stdout
    created = run(["campaign", "create", "--text", "Thông báo", "--area", "phuong-hai-chau", "--at", "2030-01-01T08:00"], tmp_path)
    assert created.returncode == 0 and created.stdout.strip().isdigit()
    cid = created.stdout.strip()
    assert "scheduled" in run(["campaign", "status", cid], tmp_path).stdout
    assert "paused" in run(["campaign", "pause", cid], tmp_path).stdout
    again = run(["campaign", "pause", cid], tmp_path)
    assert again.returncode == 1 and "không thể pause" in again.stderr
    assert "cancelled" in run(["campaign", "cancel", cid], tmp_path).stdout
    bad = run(["campaign", "create", "--text", "x", "--at", "mai"], tmp_path)
    assert bad.returncode == 1 and "--at" in bad.stderr
    no_token = run(["campaign", "test", cid, "--chat", "42"], tmp_path, TELEGRAM_BOT_TOKEN="")
    assert no_token.returncode == 1 and "TELEGRAM_BOT_TOKEN" in no_token.stderr


def test_import_refuses_published_entries_that_break_the_writing_rules(tmp_path: Path) -> None:
    assert run(["kb", "import"], tmp_path).returncode == 0
    folder = tmp_path / "entries"
    folder.mkdir()
    for f in (ROOT / "knowledge" / "entries").glob("*.yaml"):
        (folder / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    text = (folder / "tro-ly.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.strip().startswith("answer_en:"))
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    j = i + 1
    while j < len(lines) and (lines[j].startswith(indent + " ") or not lines[j].strip()):
        j += 1  # the rest of a multi-line English answer
    (folder / "tro-ly.yaml").write_text("\n".join(lines[:i] + lines[j:]) + "\n", encoding="utf-8")
    before = run(["kb", "export", "--jsonl"], tmp_path).stdout
    out = run(["kb", "import", str(folder)], tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "thiếu câu trả lời tiếng Anh" in out.stderr and "nothing imported" in out.stderr
    assert run(["kb", "export", "--jsonl"], tmp_path).stdout == before


def test_export_gives_published_entries_not_pending_drafts(tmp_path: Path) -> None:
    import asyncio
    import dataclasses

    from bot.kb_files import read_dir
    from bot.services.knowledge import save_draft
    from bot.storage.db import open_database

    assert run(["kb", "import"], tmp_path).returncode == 0

    async def draft() -> None:
        db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}")
        group = read_dir(ROOT / "knowledge" / "entries")[0]
        await save_draft(db, dataclasses.replace(group.entries[0], answer="Bản nháp chưa xuất bản."), group.group, by="bientap")
        await db.dispose()

    asyncio.run(draft())
    out = run(["kb", "export", str(tmp_path / "exported")], tmp_path)
    assert out.returncode == 0, out.stderr
    for path in (ROOT / "knowledge" / "entries").glob("*.yaml"):
        assert (tmp_path / "exported" / path.name).read_bytes() == path.read_bytes()
    assert "Bản nháp chưa xuất bản" not in run(["kb", "export", "--jsonl"], tmp_path).stdout


def test_kb_import_check_warns_about_entries_past_their_review_by_date(tmp_path: Path) -> None:
    import dataclasses
    import datetime as dt

    from bot.kb_files import dump_group, read_dir

    folder = tmp_path / "entries"
    folder.mkdir()
    for group in read_dir(ROOT / "knowledge" / "entries"):
        entries = [dataclasses.replace(e, review_by=dt.date(2026, 1, 31)) if e.id == "tong-dai-1022" else e
                   for e in group.entries]
        (folder / f"{group.group}.yaml").write_text(dump_group(dataclasses.replace(group, entries=entries)), encoding="utf-8")
    out = run(["kb", "import", "--check", str(folder)], tmp_path)  # the clock of the tests: 18/11/2026
    assert out.returncode == 0, out.stderr
    warnings = [line for line in out.stdout.splitlines() if line.startswith("Cảnh báo")]
    assert len(warnings) == 1 and "tong-dai-1022" in warnings[0] and "31/01/2026" in warnings[0]
    assert "Hợp lệ" in out.stdout
    out = run(["kb", "import", "--check"], tmp_path)  # the real files: nothing is past its date
    assert out.returncode == 0 and "Cảnh báo" not in out.stdout
