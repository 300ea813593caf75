"""A report as named tables, and its XLSX and CSV files.

`sheets` is the one place that turns figures into rows: the admin page shows these
tables, the XLSX file has one worksheet each, the CSV file has them one after another.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.campaigns.service import STATE_NAMES
from bot.reports.figures import Report
from bot.reports.periods import TZ
from bot.sheet_cells import defuse

__all__ = ["Sheet", "sheets", "to_xlsx", "to_csv", "CHANNEL_NAMES"]

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo (bot)", "zalo_oa": "Zalo OA", "web": "Trò chuyện trên web"}

Cell = str | int | float | dt.date | None


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters (an Excel worksheet name)
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %".replace(".", ",")


def _local(value: dt.datetime) -> str:
    """A stored UTC time in Đà Nẵng time."""
    return value.replace(tzinfo=dt.UTC).astimezone(TZ).strftime("%d/%m/%Y %H:%M")


def _hours(value: float | None) -> float | str:
    return "-" if value is None else value


def summary_rows(r: Report) -> list[tuple[Cell, ...]]:
    t = r.tickets
    return [
        ("Kỳ báo cáo", r.period.label),
        ("Từ ngày", r.period.start),
        ("Đến hết ngày", r.period.last_day),
        ("Phạm vi", r.area_name(r.area) if r.area else "Toàn thành phố"),
        ("Lượt người dân hỏi (mỗi người tính một lần mỗi ngày)", r.residents),
        ("Câu hỏi", r.questions),
        ("Trợ lý trả lời", r.answered),
        ("Trợ lý gợi ý câu hỏi gần đúng", r.suggested),
        ("Ngoài phạm vi (đã chỉ nơi hỏi)", r.out_of_scope),
        ("Chưa có câu trả lời trong kho", r.unanswered),
        ("Lời chào, cảm ơn (không tính là câu hỏi)", r.chitchat),
        ("Chuyển cho Tổ CNS", t.passed),
        ("Tổ CNS đã trả lời", t.answered),
        ("Không thuộc phạm vi của tổ", t.rejected),
        ("Đang chờ tổ trả lời", t.waiting),
        ("Người dân đã xóa dữ liệu", t.closed),
        ("Thời gian tổ trả lời, trung vị (giờ)", _hours(t.median_hours)),
        ("Đánh giá tốt (👍)", r.rated_up),
        ("Đánh giá chưa tốt (👎)", r.rated_down),
        ("Tỉ lệ hài lòng (đánh giá tốt trên số câu được đánh giá)", _percent(r.satisfaction)),
        ("Chiến dịch đã gửi", len(r.campaigns)),
        ("Tin chiến dịch đã đến người dân", r.campaign_reach),
        ("Người đăng ký nhận tin cuối kỳ", r.subscribers_at_end),
    ]


def sheets(r: Report) -> list[Sheet]:
    """Every table of the report, in the order the page and the files show them."""
    areas = sorted(set(r.questions_by_area) | set(r.residents_by_area), key=lambda a: (a == "", r.area_name(a)))
    channels = sorted(set(r.questions_by_channel) | set(r.residents_by_channel))
    return [
        Sheet("Tổng quan", ("Chỉ số", "Giá trị"), summary_rows(r)),
        Sheet("Theo kênh", ("Kênh", "Lượt người dân", "Câu hỏi", "Trợ lý trả lời"),
              [(CHANNEL_NAMES.get(c, c), r.residents_by_channel.get(c, 0), r.questions_by_channel.get(c, 0),
                r.answered_by_channel.get(c, 0)) for c in channels]),
        Sheet("Theo phường, xã", ("Mã", "Phường, xã", "Lượt người dân", "Câu hỏi", "Trợ lý trả lời"),
              [(a or "-", r.area_name(a), r.residents_by_area.get(a, 0), r.questions_by_area.get(a, 0),
                r.answered_by_area.get(a, 0)) for a in areas]),
        Sheet("Chủ đề hỏi nhiều", ("Mục", "Câu hỏi trong kho", "Số lần trả lời", "Đánh giá tốt", "Đánh giá chưa tốt"),
              [tuple(t) for t in r.top_topics]),
        Sheet("Câu hỏi chưa có trả lời", ("Câu hỏi (đã chuẩn hóa)", "Số lần hỏi"), [tuple(g) for g in r.top_gaps]),
        Sheet("Chiến dịch", ("Số", "Bắt đầu gửi", "Người gửi", "Trạng thái", "Nội dung", "Người nhận", "Đã gửi",
                             "Lỗi", "Chặn", "Bỏ qua"),
              [(c.id, _local(c.started_at), r.area_name(c.sender) if c.sender != "Thành phố" else c.sender,
                STATE_NAMES.get(c.state, c.state), c.text, c.recipients, c.sent, c.failed, c.blocked, c.skipped) for c in r.campaigns]),
        Sheet("Người đăng ký", ("Mã", "Phường, xã", "Đang nhận tin cuối kỳ", "Đăng ký trong kỳ", "Ngừng trong kỳ"),
              [(s.area or "-", r.area_name(s.area), s.active_at_end, s.new, s.ended) for s in r.subscribers]),
        Sheet("Tổ CNS", ("Tổ", "Thành viên", "Câu đã trả lời", "Trung vị (giờ)", "Đề xuất vào kho"),
              [(m.team, m.member, m.answered, _hours(m.median_hours), m.proposed) for m in r.members]),
        Sheet("Theo ngày", ("Ngày", "Câu hỏi", "Trợ lý trả lời"), [tuple(d) for d in r.per_day]),
    ]


def to_xlsx(r: Report) -> bytes:
    """The report as an Excel workbook, one worksheet per table."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets(r):
        ws = book.create_sheet(sheet.title[:31])
        ws.append(list(sheet.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(list(row))
        ws.freeze_panes = "A2"
        for i, column in enumerate(ws.columns, 1):
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 80)
            if i > 20:
                break
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(r: Report) -> bytes:
    """The report as one CSV file (UTF-8 with BOM, so Excel shows the diacritics): each
    table starts with a line holding its title and ends with an empty line."""
    out = io.StringIO()
    writer = csv.writer(out)
    for sheet in sheets(r):
        writer.writerow([f"# {sheet.title}"])
        writer.writerow(sheet.columns)
        writer.writerows([["" if v is None else defuse(v) for v in row] for row in sheet.rows])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
