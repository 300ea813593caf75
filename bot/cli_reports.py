"""`cdsbot report` (the figures of a period, as text, XLSX or CSV) and
`cdsbot maintenance purge` (the retention of question-log rows and ticket texts)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from bot.settings import Settings

__all__ = ["register"]


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"ngày phải viết YYYY-MM-DD (a date like 2026-05-31), không phải '{value}'") from exc


def _period(args: argparse.Namespace):
    from bot.reports import Period, six_month, yearly

    if args.six_month:
        return six_month(args.six_month)
    if args.year:
        return yearly(args.year)
    if not (args.first and args.last):
        raise ValueError("cần --six-month NĂM, --year NĂM, hoặc --from và --to (give a period)")
    return Period.of_days(args.first, args.last)


async def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import ready_db
    from bot.reports import compute, to_csv, to_xlsx
    from bot.reports.tables import summary_rows

    period = _period(args)
    db = await ready_db(settings)
    try:
        report = await compute(db, period, args.area)
    finally:
        await db.dispose()
    for name, value in summary_rows(report):
        print(f"{name}: {value}")
    if args.xlsx:
        Path(args.xlsx).write_bytes(to_xlsx(report))
        print(f"Đã ghi {args.xlsx}")
    if args.csv:
        Path(args.csv).write_bytes(to_csv(report))
        print(f"Đã ghi {args.csv}")
    return 0


async def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_common import ready_db
    from bot.reports import retention

    days = settings.question_retention_days if args.days is None else args.days
    if days <= 0:
        print("QUESTION_RETENTION_DAYS = 0: giữ mọi câu hỏi, không xóa gì (retention off, nothing purged).")
        return 0
    before = retention.cutoff(days)
    db = await ready_db(settings, seed=False)
    print(f"Gộp các câu hỏi trước ngày {before:%d/%m/%Y} (giữ {days} ngày) thành số liệu ẩn danh theo ngày…")
    try:
        result = await retention.purge(db, before, progress=lambda day, n: print(f"  {day:%d/%m/%Y}: {n} câu hỏi"))
    finally:
        await db.dispose()
    print(f"Xong: {result.questions} câu hỏi của {result.days} ngày đã gộp; nội dung {result.tickets} phiếu hỏi Tổ CNS đã xóa; "
          f"{result.raw} tin nhắn gốc đã trả lời quá {retention.RAW_KEEP.days} ngày đã xóa.")
    return 0


def register(sub: Any, add: Any) -> None:
    """Add `report` and `maintenance` to the `cdsbot` parser."""
    sp = add(sub, "report", "Số liệu báo cáo của một kỳ; ghi ra XLSX hoặc CSV (report figures of a period).", cmd_report)
    sp.add_argument("--six-month", type=int, metavar="NĂM", help="báo cáo 6 tháng: 01/12 năm trước – 31/05 năm này")
    sp.add_argument("--year", type=int, metavar="NĂM", help="báo cáo năm: 01/12 năm trước – 30/11 năm này")
    sp.add_argument("--from", dest="first", type=_date, metavar="YYYY-MM-DD", help="ngày đầu (giờ Đà Nẵng)")
    sp.add_argument("--to", dest="last", type=_date, metavar="YYYY-MM-DD", help="ngày cuối, tính cả ngày này")
    sp.add_argument("--area", help="chỉ một phường, xã (mã, xem cdsbot areas list)")
    sp.add_argument("--xlsx", metavar="FILE", help="ghi bảng tính Excel")
    sp.add_argument("--csv", metavar="FILE", help="ghi tệp CSV")
    mt = sub.add_parser("maintenance", help="bảo trì (maintenance)", description="Bảo trì dữ liệu (maintenance).")
    mts = mt.add_subparsers(dest="maintenance_command", metavar="ACTION")
    mts.required = True
    sp = add(mts, "purge", "Gộp câu hỏi cũ hơn QUESTION_RETENTION_DAYS thành số liệu ẩn danh, xóa nội dung phiếu cũ "
             "(purge old questions into anonymous daily counts).", cmd_purge)
    sp.add_argument("--days", type=int, help="số ngày giữ lại (mặc định: QUESTION_RETENTION_DAYS)")
