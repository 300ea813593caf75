"""The `cdsbot` command: run the assistant and manage its data without a server.

Every subcommand has `--help`. Errors are one clear sentence on standard error (in
Vietnamese and English) and a non-zero exit code, never a traceback: 1 for a failure
of the data or the environment, 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.cli_common import CliError, answer_json_lines, load_settings, ready_db
from bot.kb_files import KbInvalid, read_dir
from bot.settings import Settings

__all__ = ["main"]

logger = logging.getLogger(__name__)


# -- subcommands ---------------------------------------------------------------------


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.db import open_database

    db = await open_database(settings.database_url)
    print(f"Cơ sở dữ liệu đã ở phiên bản mới nhất (schema at revision {await db.current_revision()}).")
    await db.dispose()
    return 0


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import BackupError, backup

    try:
        done = backup(settings.database_url, Path(args.file), overwrite=args.force)
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    print(f"Đã sao lưu vào {done.path}: {_size(done.bytes)}, lược đồ {done.revision}, {done.entries} mục tri thức, "
          f"{done.questions} câu hỏi, {done.seconds:.1f} s (backup written and checked).")
    return 0


def cmd_db_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage.backup import BackupError, restore, sqlite_file

    try:
        target = sqlite_file(settings.database_url)
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("Phục hồi sẽ thay toàn bộ cơ sở dữ liệu; thêm --yes để xác nhận (restore replaces the whole "
                           "database; add --yes to confirm).")
        print(f"Phục hồi {args.file} sẽ thay toàn bộ cơ sở dữ liệu {target} (bản hiện tại được giữ lại bên cạnh).")
        print("Hãy dừng trợ lý trước (systemctl stop cdsbot). Restore replaces the whole database; stop the assistant first.")
        answer = input("Gõ 'co' hoặc 'yes' để tiếp tục (type 'yes' to go on): ").strip().lower()
        if answer not in ("co", "có", "yes", "y"):
            print("Đã hủy, không thay đổi gì (cancelled, nothing changed).")
            return 1
    try:
        done = restore(settings.database_url, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    if done.saved_previous is not None:
        print(f"Bản cũ được giữ tại {done.saved_previous} (the previous database was kept there).")
    print(f"Đã phục hồi {target}: lược đồ {done.revision}, {done.entries} mục tri thức, {done.questions} câu hỏi "
          f"(restored; migrations run at the next start).")
    return 0


async def cmd_kb_import(args: argparse.Namespace, settings: Settings) -> int:
    """Validate and load the files; an entry they change replaces the one in the database,
    and its pending draft (an unpublished admin-site edit) is dropped, with history."""
    from bot import clock
    from bot.kb_rules import allowed_domains, past_review_by, publication_problems
    from bot.services.knowledge import import_groups

    directory = Path(args.directory) if args.directory else settings.entries_dir
    groups = read_dir(directory)  # validates everything before touching the database
    n = sum(len(g.entries) for g in groups)
    # The writing rules the admin site applies before publishing (bot/kb_rules.py).
    domains = allowed_domains(settings.knowledge_dir)
    broken = [f"{e.id}: {p}" for g in groups for e in g.entries if e.status == "published"
              for p in publication_problems(e, domains)]
    if broken:
        raise CliError("Các mục xuất bản chưa theo quy tắc biên soạn, không nhập gì (published entries break the "
                       "writing rules; nothing imported):\n  " + "\n  ".join(broken))
    today = clock.local_today()
    due = sorted((e for g in groups for e in g.entries if e.status != "archived" and past_review_by(e, today)),
                 key=lambda e: (e.review_by, e.id))
    for e in due:  # a warning, not a refusal: the facts may still be right
        print(f"Cảnh báo: {e.id} quá hạn rà soát lại ({e.review_by:%d/%m/%Y}); kiểm tra lại với nguồn chính thức "
              f"(warning: past its review_by date {e.review_by})")
    if args.check:
        print(f"Hợp lệ: {len(groups)} tệp, {n} mục (valid: {len(groups)} files, {n} entries).")
        return 0
    db = await ready_db(settings, seed=False)
    report = await import_groups(db, groups, by=args.by)
    await db.dispose()
    print(
        f"Đã nhập {n} mục từ {len(groups)} tệp: {report.created} mới, {report.updated} thay đổi, "
        f"{report.unchanged} giữ nguyên (imported: {report.created} new, {report.updated} changed, "
        f"{report.unchanged} unchanged)."
    )
    if report.drafts_dropped:
        print(
            f"Đã bỏ bản nháp chờ xuất bản của các mục được thay: {', '.join(report.drafts_dropped)} "
            "(pending drafts of replaced entries dropped)."
        )
    if report.kept:
        print(
            "Các mục có trong cơ sở dữ liệu nhưng không có trong tệp được giữ lại (kept, not in the files): "
            + ", ".join(report.kept)
        )
    return 0


async def cmd_kb_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.knowledge import export_groups, write_files

    db = await ready_db(settings)
    groups = await export_groups(db)
    await db.dispose()
    if args.jsonl:
        for g in groups:
            for e in g.entries:
                row = {"id": e.id, "question": e.question, "alternates": e.alternates, "answer": e.answer, "status": e.status}
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    directory = Path(args.directory) if args.directory else settings.entries_dir
    paths = write_files(groups, directory)
    print(f"Đã xuất {sum(len(g.entries) for g in groups)} mục ra {len(paths)} tệp trong {directory} (exported).")
    return 0


async def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from bot.replies import render_match
    from bot.services.knowledge import KnowledgeBase

    db = await ready_db(settings)
    kb = KnowledgeBase(db, settings)
    matcher = await kb.matcher()
    m = matcher.match(args.question)
    await db.dispose()
    print(f"decision: {m.decision.value}  entry: {m.entry_id or m.refusal_id or m.chitchat or '-'}  score: {m.score:.1f}")
    if m.suggestions:
        print("suggestions: " + ", ".join(m.suggestions))
    print("-" * 60)
    for reply in render_match(m, kb.entries, kb.chitchat, english=m.english, settings=settings):
        print(reply.text)
        for b in reply.buttons:
            print(f"  [{b.label}]")
        for link in reply.links:
            print(f"  {link.label}: {link.url}")
    return 0


def _matcher_for(args: argparse.Namespace, settings: Settings):
    from bot.services.knowledge import KnowledgeBase, matcher_from_files

    if getattr(args, "source", "files") == "db":

        async def load():
            db = await ready_db(settings)
            kb = KnowledgeBase(db, settings)
            m = await kb.matcher()
            await db.dispose()
            return m

        return asyncio.run(load())
    return matcher_from_files(settings)[0]


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    matcher = _matcher_for(args, settings)

    def answer(q: str) -> dict[str, object]:
        m = matcher.match(q)
        return {"q": q, "decision": m.decision.value, "entry_id": m.entry_id if m.decision in ("answer", "suggest") else None,
                "score": m.score, "suggestions": list(m.suggestions)}

    return answer_json_lines("q", answer, {"q": None, "decision": "unknown", "entry_id": None, "score": 0.0, "suggestions": []})


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.evaluate import evaluate, format_report, format_table, leave_one_out, read_cases, report_of

    if not args.file and not args.loo:
        raise CliError("Cần ít nhất một tệp hoặc --loo (give at least one file, or --loo).")
    sets = []
    for name in args.file:
        path = Path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"Không đọc được tệp {path} (cannot read): {exc.strerror}") from exc
        try:
            sets.append((path.stem, read_cases(text.splitlines(), str(path))))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    matcher = _matcher_for(args, settings)
    if len(sets) == 1 and not args.loo:
        print(format_report(evaluate(matcher, sets[0][1]), misses=args.misses))
        return 0
    reports = [(name, evaluate(matcher, cases)) for name, cases in sets]
    if args.loo:
        reports.append(("loo", report_of(leave_one_out(matcher.docs, matcher.with_docs))))
    print(format_table(reports))
    if args.misses:
        for name, report in reports:
            print(f"\n[{name}]")
            print(format_report(report, misses=True).split("\n\n", 2)[-1])
    return 0


async def cmd_areas_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import areas as areas_service

    path = Path(args.file)
    rows = areas_service.read_csv(path)  # validates before touching the database
    db = await ready_db(settings, seed=False)
    created, updated = await areas_service.import_rows(db, rows)
    await db.dispose()
    print(f"Đã nhập {len(rows)} đơn vị hành chính: {created} mới, {updated} cập nhật (areas imported).")
    return 0


async def cmd_areas_import_old(args: argparse.Namespace, settings: Settings) -> int:
    """Put a corrected old-units file in use (checked against the areas first)."""
    from bot.services import old_units

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"Không đọc được {path} (cannot read): {exc.strerror}") from exc
    db = await ready_db(settings)
    try:
        n = await old_units.save(db, text, "cli")
    except ValueError as exc:
        raise CliError(f"không nhập gì (nothing imported):\n{exc}") from exc
    finally:
        await db.dispose()
    print(f"Đã nhập {n} đơn vị cũ (old units imported).")
    return 0


async def cmd_areas_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import areas as areas_service

    db = await ready_db(settings)
    for area in await areas_service.list_areas(db):
        print(f"{area.code}\t{area.name}")
    await db.dispose()
    return 0


async def cmd_teams_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import teams

    db = await ready_db(settings)
    try:
        team_id = await teams.create_team(db, args.area_code, args.name)
    finally:
        await db.dispose()
    print(team_id)
    return 0


async def cmd_teams_invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import teams

    db = await ready_db(settings)
    try:
        code = await teams.create_invite(db, args.team_id, leader=args.leader)
    finally:
        await db.dispose()
    print(code)
    print(f"Người được mời gõ trong Telegram hoặc Zalo: /thamgia {code} (one-time code)", file=sys.stderr)
    return 0


async def cmd_teams_list(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services import teams

    db = await ready_db(settings)
    try:
        rows = await teams.list_teams(db)
        stats = {s["team"]: s for s in await teams.stats(db)}
    finally:
        await db.dispose()
    for team_id, area_code, name, members in rows:
        s = stats.get(name, {})
        print(f"{team_id}\t{area_code}\t{name}\t{members} thành viên\t"
              f"{s.get('received', 0)} nhận / {s.get('answered', 0)} đã trả lời / {s.get('promoted', 0)} đề xuất")
    return 0


async def cmd_campaign_create(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns import service
    from bot.kb_rules import allowed_domains

    if args.at and args.now:
        raise CliError("chọn --at hoặc --now, không cả hai (choose --at or --now)")
    try:
        at = service.parse_time(args.at) if args.at else None
    except ValueError as exc:
        raise CliError(f"--at phải là thời điểm ISO, ví dụ 2026-12-01T08:00 (giờ Đà Nẵng): {exc}") from exc
    db = await ready_db(settings)
    try:
        links = []
        for item in args.link or []:
            label, sep, url = item.partition("|")
            if not sep:
                raise CliError(f"--link cần dạng \"nhãn|https://…\" (got {item!r})")
            links.append((label.strip(), url.strip()))
        campaign_id = await service.create(
            db, args.text, channels=args.channel, areas=args.area, topics=args.topic, at=at, now=args.now,
            sender_area=args.from_area, image_url=args.image, links=links,
            needs_approval=settings.campaign_approval_required, link_domains=allowed_domains(settings.knowledge_dir),
        )
    except service.CampaignError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await db.dispose()
    print(campaign_id)
    return 0


async def cmd_campaign_action(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns import service

    db = await ready_db(settings)
    try:
        if args.action != "status":
            state = await service.set_state(db, args.id, args.action)
            print(f"Chiến dịch {args.id}: {state}")
        s = await service.status(db, args.id)
    except service.CampaignError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await db.dispose()
    eta = f"{s['eta_seconds']} s" if s["eta_seconds"] is not None else "-"
    print(f"#{s['id']} {s['state']}: đã gửi {s['sent']}/{s['total']}, lỗi {s['failed']}, chặn {s['blocked']}, "
          f"bỏ qua {s['skipped']}, chờ {s['queued']}, đang gửi {s['sending']}; {s['rate']}/s, còn khoảng {eta}")
    return 0


async def cmd_campaign_test(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns.sender import message
    from bot.channels.telegram import TelegramChannel
    from bot.storage.models import Campaign

    if not settings.telegram_bot_token:
        raise CliError("cần TELEGRAM_BOT_TOKEN để gửi thử (Telegram is not configured)")
    db = await ready_db(settings)
    try:
        async with db.session() as session:
            campaign = await session.get(Campaign, args.id)
        if campaign is None:
            raise CliError(f"không có chiến dịch số {args.id}")

        async def no_dispatch(msg):
            return []

        channel = TelegramChannel(settings, db, no_dispatch)
        await channel.bulk_bot.initialize()
        try:
            result = await channel.deliver(args.chat, message(campaign))
        finally:
            await channel.bulk_bot.shutdown()
    finally:
        await db.dispose()
    print(f"Gửi thử: {result.outcome.value} {result.description}".strip())
    return 0 if result.outcome.value == "sent" else 1


async def cmd_campaign_questions(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns import service

    db = await ready_db(settings)
    try:
        counts = await service.questions_after(db, args.id, settings.resident_id_salt)
    finally:
        await db.dispose()
    if not counts:
        print("Chưa có câu hỏi nào từ người nhận (no questions yet, or the campaign has not started).")
    for entry, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n}\t{entry if entry != '-' else '(chưa có câu trả lời: cần bổ sung kho tri thức)'}")
    return 0


async def cmd_subscribers_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns import service

    db = await ready_db(settings)
    try:
        n = await service.import_subscribers(db, Path(args.file), settings.knowledge_dir / "old-units.csv")
    except service.CampaignError as exc:
        raise CliError(f"không nhập gì (nothing imported):\n{exc}") from exc
    finally:
        await db.dispose()
    print(f"Đã nhập {n} người đăng ký (subscribers imported).")
    return 0


async def cmd_subscribers_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.campaigns import service

    db = await ready_db(settings)
    try:
        s = await service.subscriber_stats(db)
    finally:
        await db.dispose()
    print(f"Đang nhận tin (active): {s['active']}")
    for area_code, n in sorted(s["by_area"].items()):
        print(f"  {area_code}\t{n}")
    for reason, n in sorted(s["inactive"].items()):
        print(f"Ngừng ({reason}): {n}")
    return 0


# -- parser ---------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, Settings], "int | Coroutine[Any, Any, int]"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cdsbot",
        description="Trợ lý Chuyển đổi số Đà Nẵng — chạy trợ lý và quản lý dữ liệu (run the assistant, manage its data).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(parent: Any, name: str, help_text: str, func: Handler) -> argparse.ArgumentParser:
        sp: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(func=func)
        return sp

    db = sub.add_parser("db", help="cơ sở dữ liệu (database)", description="Cơ sở dữ liệu (database).")
    dbs = db.add_subparsers(dest="db_command", metavar="ACTION")
    dbs.required = True
    add(dbs, "upgrade", "Tạo hoặc nâng cấp lược đồ cơ sở dữ liệu (apply migrations).", cmd_db_upgrade)
    sp = add(dbs, "backup", "Sao lưu cơ sở dữ liệu SQLite đang chạy vào một tệp, an toàn khi trợ lý đang chạy "
             "(online backup of the running SQLite database).", cmd_db_backup)
    sp.add_argument("file", metavar="FILE", help="tệp đích, ví dụ backups/cdsbot-2026-05-01.sqlite3")
    sp.add_argument("--force", action="store_true", help="ghi đè nếu tệp đã có (overwrite)")
    sp = add(dbs, "restore", "Phục hồi cơ sở dữ liệu SQLite từ tệp sao lưu, sau khi xác nhận; bản hiện tại được giữ lại "
             "(restore from a backup after a confirmation).", cmd_db_restore)
    sp.add_argument("file", metavar="FILE", help="tệp sao lưu do 'cdsbot db backup' tạo")
    sp.add_argument("--yes", action="store_true", help="không hỏi lại (no confirmation prompt)")

    kb = sub.add_parser("kb", help="kho tri thức (knowledge base)", description="Kho tri thức (knowledge base).")
    kbs = kb.add_subparsers(dest="kb_command", metavar="ACTION")
    kbs.required = True
    sp = add(kbs, "import", "Kiểm tra và nạp các tệp YAML vào cơ sở dữ liệu (validate and load the YAML files).", cmd_kb_import)
    sp.add_argument("directory", nargs="?", help="thư mục tệp (default: knowledge/entries)")
    sp.add_argument("--check", action="store_true", help="chỉ kiểm tra, không nạp (validate only)")
    sp.add_argument("--by", default="import", help="tên người nhập, ghi vào lịch sử (who, for the history)")
    sp = add(kbs, "export", "Xuất kho tri thức ra tệp YAML, hoặc JSON Lines (write the files, or JSON Lines).", cmd_kb_export)
    sp.add_argument("directory", nargs="?", help="thư mục đích (default: knowledge/entries)")
    sp.add_argument("--jsonl", action="store_true", help="in mỗi mục một dòng JSON ra stdout (one JSON object per entry)")

    sp = add(sub, "ask", "Hỏi một câu và xem trợ lý trả lời thế nào (ask one question).", cmd_ask)
    sp.add_argument("question", help="câu hỏi (the question)")

    sp = add(sub, "match", "Đối sánh các dòng {\"q\": ...} từ stdin, in kết quả JSON (match JSON lines).", cmd_match)
    sp.add_argument("--jsonl", action="store_true", required=True, help="đọc/ghi JSON Lines (required)")
    sp.add_argument("--source", choices=["files", "db"], default="files", help="kho tri thức từ knowledge/ (files) hay cơ sở dữ liệu (db)")

    sp = add(sub, "eval", "Đánh giá bộ đối sánh trên tệp câu hỏi có nhãn (evaluate on labelled questions).", cmd_eval)
    sp.add_argument("file", nargs="*", help="tệp JSON Lines với q, topic, style; nhiều tệp: một bảng so sánh (several: one table)")
    sp.add_argument("--loo", action="store_true",
                    help="thêm cột leave-one-out trên các câu hỏi thay thế của kho (add leave-one-out over the alternates)")
    sp.add_argument("--misses", action="store_true", help="liệt kê các câu sai (list the misses)")
    sp.add_argument("--source", choices=["files", "db"], default="files", help="kho tri thức từ knowledge/ hay cơ sở dữ liệu")

    areas = sub.add_parser("areas", help="phường, xã, đặc khu (areas)", description="Danh sách phường, xã, đặc khu (areas).")
    ars = areas.add_subparsers(dest="areas_command", metavar="ACTION")
    ars.required = True
    sp = add(ars, "import", "Nhập danh sách đơn vị từ CSV: code,kind,name (import areas).", cmd_areas_import)
    sp.add_argument("file", help="tệp CSV")
    add(ars, "list", "Liệt kê các đơn vị: MÃ<TAB>TÊN (list areas).", cmd_areas_list)
    sp = add(ars, "import-old", "Nhập bảng tên cũ → đơn vị mới (knowledge/old-units.csv đã sửa) (import old unit names).",
             cmd_areas_import_old)
    sp.add_argument("file", metavar="FILE.csv")

    tm = sub.add_parser("teams", help="Tổ Công nghệ số cộng đồng (teams)", description="Tổ Công nghệ số cộng đồng (teams).")
    tms = tm.add_subparsers(dest="teams_command", metavar="ACTION")
    tms.required = True
    sp = add(tms, "create", "Tạo tổ cho một phường, xã; in số của tổ (create a team, print its id).", cmd_teams_create)
    sp.add_argument("area_code", metavar="AREA_CODE", help="mã phường, xã (cdsbot areas list)")
    sp.add_argument("name", metavar="NAME", help="tên tổ, ví dụ: \"Tổ CNS phường Hải Châu\"")
    sp = add(tms, "invite", "Tạo mã mời dùng một lần (one-time invite code).", cmd_teams_invite)
    sp.add_argument("team_id", metavar="TEAM_ID", type=int)
    sp.add_argument("--leader", action="store_true", help="mời làm tổ trưởng (as team leader)")
    add(tms, "list", "Liệt kê các tổ, số thành viên và câu hỏi đã xử lý (list teams).", cmd_teams_list)

    cp = sub.add_parser("campaign", help="chiến dịch thông báo (campaigns)", description="Chiến dịch thông báo (campaigns).")
    cps = cp.add_subparsers(dest="campaign_command", metavar="ACTION")
    cps.required = True
    sp = add(cps, "create", "Tạo chiến dịch; in số của nó (create a campaign, print its id).", cmd_campaign_create)
    sp.add_argument("--text", required=True, help="nội dung thông báo")
    sp.add_argument("--channel", action="append", choices=["telegram", "zalo", "zalo_oa", "web"], help="kênh (lặp lại được); mặc định: mọi kênh")
    sp.add_argument("--area", action="append", help="mã phường, xã (lặp lại được); mặc định: mọi nơi")
    sp.add_argument("--topic", action="append", help="chủ đề = nhóm menu (lặp lại được); mặc định: mọi chủ đề")
    sp.add_argument("--at", help="thời điểm gửi ISO, giờ Đà Nẵng nếu không ghi múi giờ")
    sp.add_argument("--now", action="store_true", help="gửi ngay")
    sp.add_argument("--image", help="địa chỉ ảnh https:// (nội dung thành chú thích, tối đa 1024 ký tự)")
    sp.add_argument("--link", action="append", help="nút liên kết \"nhãn|https://…\" (lặp lại được)")
    sp.add_argument("--from-area", help="gửi với tư cách Tổ CNS của phường, xã này (chỉ gửi cho chính nơi đó)")
    names = {"pause": "Tạm dừng", "resume": "Tiếp tục", "cancel": "Hủy", "status": "Xem tiến độ",
             "approve": "Duyệt (biên tập viên thành phố)"}
    for action in ("approve", "pause", "resume", "cancel", "status"):
        sp = add(cps, action, names[action] + f" chiến dịch ({action}).", cmd_campaign_action)
        sp.add_argument("id", type=int)
        sp.set_defaults(action=action)
    sp = add(cps, "test", "Gửi thử chiến dịch cho một cuộc trò chuyện (test send, e.g. to yourself).", cmd_campaign_test)
    sp.add_argument("id", type=int)
    sp.add_argument("--chat", required=True, help="mã cuộc trò chuyện Telegram của bạn")
    sp = add(cps, "questions", "Câu hỏi của người nhận trong 72 giờ sau chiến dịch, theo chủ đề.", cmd_campaign_questions)
    sp.add_argument("id", type=int)
    sb = sub.add_parser("subscribers", help="người nhận thông báo (subscribers)", description="Người nhận thông báo (subscribers).")
    sbs = sb.add_subparsers(dest="subscribers_command", metavar="ACTION")
    sbs.required = True
    sp = add(sbs, "import", "Nhập danh sách CSV channel,user_id,area,topics,consented_at (topics cách nhau bằng ;).",
             cmd_subscribers_import)
    sp.add_argument("file")
    add(sbs, "stats", "Số người đang nhận tin theo phường, xã (subscriber counts).", cmd_subscribers_stats)

    from bot import cli_check, cli_reports, cli_run

    cli_run.register(sub, add)
    cli_reports.register(sub, add)
    cli_check.register(sub, add)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        from bot.logs import setup

        setup(settings, level="WARNING")  # `run` raises it to LOG_LEVEL
        result = args.func(args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except KbInvalid as exc:
        print(f"Kho tri thức có {len(exc.problems)} lỗi, không nạp gì (knowledge base invalid, nothing imported):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except CliError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 141
    except Exception as exc:  # last resort: one line, not a traceback
        from bot.storage.db import DatabaseError

        if isinstance(exc, DatabaseError | ValueError):
            print(f"Lỗi: {exc}", file=sys.stderr)
            return 1
        logger.debug("unexpected error", exc_info=True)
        print(f"Lỗi không mong đợi (unexpected error): {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
