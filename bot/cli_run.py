"""`cdsbot run` (the assistant in one process) and `cdsbot admin create-user`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
import time
from typing import Any

from bot import clock
from bot.settings import Settings

logger = logging.getLogger(__name__)


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from admin.accounts import count_users, create_user
    from bot.app import create_app, prepare
    from bot.logs import setup

    started = time.monotonic()
    setup(settings)
    if clock.is_set():
        logger.warning("%s is set: the assistant runs on a set clock (%s UTC), not the real time; "
                       "unset it outside tests", clock.ENV_START, clock.now().isoformat(timespec="seconds"))
    if args.port is not None:
        settings = settings.model_copy(update={"port": args.port})
    assistant = await prepare(settings)
    if await count_users(assistant.db) == 0:
        password = await create_user(assistant.db, "admin", "admin", password=settings.admin_password or None)
        if settings.admin_password:
            print("Đã tạo tài khoản quản trị 'admin' với mật khẩu ADMIN_PASSWORD (first admin account created).")
        else:
            print("Đã tạo tài khoản quản trị đầu tiên (first admin account):")
            print(f"  tên đăng nhập: admin   mật khẩu: {password}")
            print("  Mật khẩu chỉ hiện một lần này; hãy lưu lại (shown only once).")
    app = create_app(settings, assistant)
    # log_config=None: uvicorn's records go through our redacting handler (bot/logs.py);
    # the reverse proxy keeps the access log. On SIGTERM uvicorn stops accepting, lets
    # requests in flight finish, then the lifespan stops the channels and the sender.
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on",
                            log_config=None, access_log=False)
    server = uvicorn.Server(config)
    base = f"http://{settings.host}:{settings.port}"
    channels = ["web"]
    if settings.telegram_bot_token:
        mode = f"webhook {base}/telegram/webhook" if settings.telegram_webhook_url else "long polling"
        channels.append(f"telegram ({mode})")
    else:
        channels.append("telegram tắt (off: TELEGRAM_BOT_TOKEN not set)")
    if settings.zalo_bot_token:
        mode = f"webhook {base}/zalo/bot/webhook" if settings.zalo_bot_webhook_url else "long polling"
        channels.append(f"zalo bot ({mode})")
    else:
        channels.append("zalo tắt (off: ZALO_BOT_TOKEN not set)")
    if settings.zalo_oa_enabled:
        channels.append(f"zalo oa (webhook {base}/zalo/oa/webhook)")
    else:
        channels.append("zalo oa tắt (off: ZALO_OA_APP_ID, ZALO_OA_SECRET_KEY and a token not set)")

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.05)
        print(f"Trợ lý đang chạy sau {time.monotonic() - started:.1f} s (the assistant is running):")
        print(f"  Trò chuyện trên web (web chat):   {base}/")
        print(f"  Trang quản trị (admin site):      {base}/admin")
        print(f"  Kiểm tra (health):                {base}/healthz, {base}/readyz, {base}/metrics")
        print(f"  Kênh (channels): {', '.join(channels)}. Dừng bằng Ctrl+C (stop with Ctrl+C).")
        sys.stdout.flush()

    waiter = asyncio.create_task(announce())
    # uvicorn handles SIGTERM/SIGINT (graceful stop), then raises the signal again for the
    # handler that was there before: this one, so the process ends with status 0 after
    # its clean stop instead of being killed by the re-raised signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stopped_cleanly)
    try:
        await server.serve()
    finally:
        waiter.cancel()
        await assistant.db.dispose()
    logger.info("stopped: work in flight finished, anything left waits in the inbox and the outbox")
    return 0


def _stopped_cleanly(sig: int, frame: Any) -> None:
    logger.info("received %s: stopping after the work in flight", signal.Signals(sig).name)


async def cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from admin.accounts import create_user
    from bot.cli_common import CliError, ready_db

    password = None
    if not sys.stdin.isatty():
        password = sys.stdin.readline().strip() or None
    elif args.ask:
        password = getpass.getpass("Mật khẩu (password): ") or None
    db = await ready_db(settings)  # the areas a team leader's code is checked against
    try:
        used = await create_user(db, args.username, args.role, password=password, area_code=args.area)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    finally:
        await db.dispose()
    if password is None:
        print(f"Đã tạo '{args.username}' ({args.role}). Mật khẩu (chỉ hiện một lần / shown once): {used}")
    else:
        print(f"Đã tạo '{args.username}' ({args.role}).")
    return 0


def register(sub: Any, add: Any) -> None:
    sp = add(sub, "run", "Chạy trợ lý: web chat, trang quản trị và các kênh có token (run the assistant).", cmd_run)
    sp.add_argument("--port", type=int, default=None, help="cổng (default: PORT setting, 8080)")
    admin = sub.add_parser("admin", help="tài khoản quản trị (admin accounts)", description="Tài khoản quản trị (admin accounts).")
    adm = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    adm.required = True
    sp = add(adm, "create-user", "Tạo tài khoản quản trị; mật khẩu đọc từ stdin hoặc tự sinh (create an admin account).", cmd_create_user)
    sp.add_argument("username")
    sp.add_argument("--role", required=True, choices=["admin", "editor", "team-leader"])
    sp.add_argument("--area", default=None, help="mã phường, xã (team leaders)")
    sp.add_argument("--ask", action="store_true", help="hỏi mật khẩu trên terminal (prompt for the password)")
