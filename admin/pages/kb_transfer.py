"""Import and export of the knowledge base: YAML files as in knowledge/entries (one
file, or a .zip of them) and CSV/XLSX spreadsheets.

An import is merged into the current knowledge base by entry id, the whole result is
validated by `bot.kb_files.read_dir` (what `cdsbot kb import` runs) and every published
entry by the writing rules; only then is it loaded, in one transaction, with history.
Nothing is loaded when any problem is found, and every problem is listed. An entry the
file replaces loses its pending draft (history "discard:import"; named in the message and
the audit log).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin.audit import record
from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import flash, render, url
from bot.kb_files import Group, KbInvalid, dump_group, read_dir, read_text
from bot.kb_rules import allowed_domains, publication_problems
from bot.kb_sheets import SheetProblem, read_csv, read_xlsx, write_csv, write_xlsx
from bot.services.knowledge import export_groups, import_groups

__all__ = ["ROUTES", "NAV", "merge", "validate"]

MAX_UPLOAD = 5 * 1024 * 1024


def _assistant(request: Request) -> Any:
    return assistant(request)


def merge(current: list[Group], uploaded: list[Group]) -> list[Group]:
    """The current groups with the uploaded entries put in by id (replaced where they
    are, moved when their group changed, appended when new)."""
    groups = {g.group: Group(g.group, g.title, g.title_en, g.pillar, list(g.entries)) for g in current}
    for up in uploaded:
        target = groups.setdefault(up.group, Group(up.group, up.title, up.title_en, up.pillar))
        if up.title and up.title != up.group:
            target.title, target.title_en, target.pillar = up.title, up.title_en or target.title_en, up.pillar
        for entry in up.entries:
            for g in groups.values():
                if g is not target:
                    g.entries = [e for e in g.entries if e.id != entry.id]
            ids = [e.id for e in target.entries]
            if entry.id in ids:
                target.entries[ids.index(entry.id)] = entry
            else:
                target.entries.append(entry)
    return [g for g in groups.values() if g.entries]


def validate(groups: list[Group], changed: set[str], domains: list[str]) -> list[str]:
    """The problems of the merged knowledge base: `read_dir` over it, as the command
    line does, then the writing rules for each changed entry that is published."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for g in groups:
            (Path(tmp) / f"{g.group}.yaml").write_text(dump_group(g), encoding="utf-8")
        try:
            read_dir(Path(tmp))
        except KbInvalid as exc:
            problems += [f"{Path(p.path).name}:{p.line}: {p.message}" for p in exc.problems]
    for g in groups:
        for e in g.entries:
            if e.id in changed and e.status == "published":
                problems += [f"{e.id}: {p}" for p in publication_problems(e, domains)]
    return problems


def _read_upload(name: str, data: bytes) -> list[Group]:
    """Groups from an uploaded file; raises SheetProblem or KbInvalid."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return read_csv(data)
    if lower.endswith(".xlsx"):
        return read_xlsx(data)
    files: list[tuple[str, bytes]]
    if lower.endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                files = [(Path(n).name, z.read(n)) for n in z.namelist() if n.endswith(".yaml") and not n.startswith("__MACOSX")]
        except zipfile.BadZipFile as exc:
            raise SheetProblem("tệp .zip bị hỏng") from exc
    elif lower.endswith((".yaml", ".yml")):
        files = [(Path(name).name.replace(".yml", ".yaml"), data)]
    else:
        raise SheetProblem("chỉ nhận .yaml, .zip (các tệp .yaml), .csv hoặc .xlsx")
    groups, problems = [], []
    for fname, raw in files:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SheetProblem(f"{fname}: phải ở mã UTF-8") from exc
        group, found, _ = read_text(text, fname)
        problems += found
        if group is not None:
            groups.append(group)
    if problems:
        raise KbInvalid(problems)
    return groups


@require(CITY)
async def kb_transfer(request: Request, user: User) -> Response:
    return render(request, "kb/transfer.html", {"problems": []})


@require(CITY)
async def kb_export(request: Request, user: User) -> Response:
    groups = await export_groups(_assistant(request).db)
    kind = request.query_params.get("format", "yaml")
    if kind == "csv":
        body, media, name = write_csv(groups), "text/csv; charset=utf-8", "kho-tri-thuc.csv"
    elif kind == "xlsx":
        body, media, name = write_xlsx(groups), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "kho-tri-thuc.xlsx"
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for g in groups:
                z.writestr(f"entries/{g.group}.yaml", dump_group(g))
        body, media, name = out.getvalue(), "application/zip", "kho-tri-thuc-yaml.zip"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@require(CITY)
async def kb_import(request: Request, user: User) -> Response:
    async with request.form() as form:  # closes the uploaded file's temporary copy
        return await _import(request, user, form.get("file"))


async def _import(request: Request, user: User, upload: Any) -> Response:
    a = _assistant(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "kb/transfer.html", {"problems": ["Chọn một tệp để nhập."]}, status_code=400)
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return render(request, "kb/transfer.html", {"problems": ["Tệp lớn hơn 5 MB."]}, status_code=400)
    try:
        uploaded = _read_upload(upload.filename, data)
    except SheetProblem as exc:
        return render(request, "kb/transfer.html", {"problems": [str(exc)]}, status_code=400)
    except KbInvalid as exc:
        return render(request, "kb/transfer.html", {"problems": [str(p) for p in exc.problems]}, status_code=400)
    current = await export_groups(a.db)
    merged = merge(current, uploaded)
    changed = {e.id for g in uploaded for e in g.entries}
    problems = validate(merged, changed, allowed_domains(a.settings.knowledge_dir))
    if problems:
        return render(request, "kb/transfer.html", {"problems": problems}, status_code=400)
    report = await import_groups(a.db, merged, by=user.name)
    await record(a.db, user, "kb.import", f"file:{upload.filename}", None,
                 {"created": report.created, "updated": report.updated, "unchanged": report.unchanged, "entries": sorted(changed),
                  "drafts_dropped": list(report.drafts_dropped)})
    dropped = f" Đã bỏ bản nháp chờ xuất bản của: {', '.join(report.drafts_dropped)}." if report.drafts_dropped else ""
    flash(request, f"Đã nhập {upload.filename}: {report.created} mục mới, {report.updated} thay đổi, {report.unchanged} giữ nguyên.{dropped}")
    return RedirectResponse(url(request, "kb_list"), status_code=303)


ROUTES = [
    Route("/kb/transfer", kb_transfer, methods=["GET"], name="kb_transfer"),
    Route("/kb/export", kb_export, methods=["GET"], name="kb_export"),
    Route("/kb/import", kb_import, methods=["POST"], name="kb_import"),
]
NAV: list = []
