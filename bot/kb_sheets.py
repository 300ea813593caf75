"""The knowledge base as a spreadsheet (CSV or XLSX, with openpyxl) for editors who work
in one: one row per entry, lists one item per line (links as `label | url`).

Reading gives plain `Group`s; they are validated afterwards exactly as YAML files are
(`bot.kb_files.read_dir`), so a spreadsheet cannot carry what a file could not.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from bot.kb_files import Entry, Group
from bot.sheet_cells import defuse, restore

__all__ = ["COLUMNS", "SheetProblem", "read_csv", "read_xlsx", "rows_of", "write_csv", "write_xlsx"]

COLUMNS = ("group", "group_title", "group_title_en", "pillar", "id", "kind", "status", "question", "alternates",
           "answer", "answer_en", "links", "related", "tags", "sources", "reviewed", "review_by")


class SheetProblem(ValueError):
    """A spreadsheet that cannot be read (wrong columns, bad cell), with the row number."""


def _lines(value: str) -> list[str]:
    return [x.strip() for x in value.replace("\r\n", "\n").split("\n") if x.strip()]


def rows_of(groups: Iterable[Group]) -> list[dict[str, str]]:
    rows = []
    for g in groups:
        for e in g.entries:
            rows.append({
                "group": g.group, "group_title": g.title, "group_title_en": g.title_en, "pillar": g.pillar,
                "id": e.id, "kind": e.kind, "status": e.status, "question": e.question,
                "alternates": "\n".join(e.alternates), "answer": e.answer, "answer_en": e.answer_en,
                "links": "\n".join(f"{x['label']} | {x['url']}" for x in e.links),
                "related": ", ".join(e.related), "tags": ", ".join(e.tags), "sources": "\n".join(e.sources),
                "reviewed": e.reviewed.isoformat() if e.reviewed else "",
                "review_by": e.review_by.isoformat() if e.review_by else "",
            })
    return rows


def _groups(rows: Iterable[tuple[int, dict[str, str]]]) -> list[Group]:
    groups: dict[str, Group] = {}
    for number, row in rows:
        if not any(row.values()):
            continue
        gid = row.get("group", "").strip()
        if not gid:
            raise SheetProblem(f"dòng {number}: thiếu cột group")
        group = groups.setdefault(gid, Group(gid, row.get("group_title", "").strip() or gid,
                                             row.get("group_title_en", "").strip(), row.get("pillar", "").strip() or "chung"))
        links = []
        for line in _lines(row.get("links", "")):
            label, sep, url = line.rpartition("|")
            if not sep:
                raise SheetProblem(f"dòng {number}: liên kết cần dạng 'nhãn | https://…': {line}")
            links.append({"label": label.strip(), "url": url.strip()})
        reviewed_text = row.get("reviewed", "").strip()[:10]
        try:
            reviewed = dt.date.fromisoformat(reviewed_text) if reviewed_text else None
        except ValueError as exc:
            raise SheetProblem(f"dòng {number}: ngày rà soát cần dạng YYYY-MM-DD") from exc
        review_by_text = row.get("review_by", "").strip()[:10]
        try:
            review_by = dt.date.fromisoformat(review_by_text) if review_by_text else None
        except ValueError as exc:
            raise SheetProblem(f"dòng {number}: hạn rà soát lại cần dạng YYYY-MM-DD") from exc
        group.entries.append(Entry(
            id=row.get("id", "").strip(), kind=row.get("kind", "").strip() or "faq",
            status=row.get("status", "").strip() or "draft", question=row.get("question", "").strip(),
            alternates=_lines(row.get("alternates", "")), answer=row.get("answer", "").strip(),
            answer_en=row.get("answer_en", "").strip(), links=links,
            related=[x.strip() for x in row.get("related", "").replace("\n", ",").split(",") if x.strip()],
            tags=[x.strip() for x in row.get("tags", "").replace("\n", ",").split(",") if x.strip()],
            sources=_lines(row.get("sources", "")), reviewed=reviewed, review_by=review_by,
        ))
    return list(groups.values())


def _check_header(header: list[str]) -> None:
    missing = [c for c in ("group", "id", "question", "answer") if c not in header]
    unknown = [c for c in header if c and c not in COLUMNS]
    if missing or unknown:
        raise SheetProblem(f"cột thiếu: {', '.join(missing) or 'không'}; cột lạ: {', '.join(unknown) or 'không'} "
                           f"(các cột: {', '.join(COLUMNS)})")


def read_csv(data: bytes) -> list[Group]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetProblem("tệp CSV phải ở mã UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    _check_header([h.strip() for h in reader.fieldnames or []])
    return _groups((i, {k.strip(): restore(v or "") for k, v in row.items() if k}) for i, row in enumerate(reader, 2))


def read_xlsx(data: bytes) -> list[Group]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SheetProblem("không đọc được tệp XLSX") from exc
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    _check_header(header)

    def cell(value: object) -> str:
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return "" if value is None else str(value)

    return _groups((i, dict(zip(header, map(cell, row), strict=False))) for i, row in enumerate(rows, 2))


def write_csv(groups: Iterable[Group]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({k: defuse(v) for k, v in row.items()} for row in rows_of(groups))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def write_xlsx(groups: Iterable[Group]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "kho-tri-thuc"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows_of(groups):
        sheet.append([row[c] for c in COLUMNS])
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if cell.data_type == "f":  # text that starts with "=" stays text, never a formula
                cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
