"""The knowledge base (editors and admins): the list with search and filters, the entry
editor with live preview and 'try it', and draft → published → archived.

Saving an edit of a published entry keeps it as the entry's pending draft: residents
get the published answer until an editor publishes the draft (checked exactly as
publishing is) or discards it.

Search goes through the project's normaliser (bot/text.py), so "vneid" finds "VNeID"
and words typed without diacritics find those written with them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import kb_form
from admin.audit import record
from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import NavItem, flash, render, render_error, url
from bot import clock
from bot.kb_files import PILLARS, STATUSES, Entry, Group
from bot.kb_rules import allowed_domains, needs_review, past_review_by
from bot.services.knowledge import DraftChanged, discard_draft, draft_of, drafts, export_groups, publish_draft, save_draft, save_entry
from bot.text import canon, fold

__all__ = ["ROUTES", "NAV", "load"]

STATUS_NAMES = {"draft": "Bản nháp", "published": "Đã xuất bản", "archived": "Lưu trữ"}
PENDING = "pending"  # the list's status filter for published entries with a pending draft
PROPOSED_GROUP = "de-xuat"  # where teams' proposals land (bot/services/teams.py)


def _assistant(request: Request) -> Any:
    return assistant(request)


def _key(text: str) -> str:
    return fold(canon(text))


async def load(request: Request) -> tuple[list[Group], dict[str, tuple[Entry, str]]]:
    """All groups (every status) and each entry with its group id."""
    groups = await export_groups(_assistant(request).db)
    return groups, {e.id: (e, g.group) for g in groups for e in g.entries}


@require(CITY)
async def kb_list(request: Request, user: User) -> Response:
    groups, _ = await load(request)
    pending = await drafts(_assistant(request).db)
    p = request.query_params
    q, status, tag, review, group = (p.get(k, "") for k in ("q", "status", "tag", "review", "group"))
    words = _key(q).split()
    today = clock.local_today()
    rows = []
    for g in groups:
        for e in g.entries:
            if status == PENDING and e.id not in pending or status and status != PENDING and e.status != status or tag and tag not in e.tags or group and g.group != group:
                continue
            stale = needs_review(e, today)
            due = past_review_by(e, today)
            if review == "stale" and not stale or review == "ok" and stale or review == "due" and not due:
                continue
            if words:
                hay = _key(" ".join([e.id, e.question, *e.alternates, e.answer, e.answer_en, *e.tags]))
                if not all(w in hay for w in words):
                    continue
            rows.append({"entry": e, "group": g, "stale": stale, "due": due, "draft": pending.get(e.id)})
    tags = sorted({t for g in groups for e in g.entries for t in e.tags})
    proposed = sum(1 for g in groups if g.group == PROPOSED_GROUP for e in g.entries if e.status == "draft")
    return render(request, "kb/list.html", {
        "rows": rows, "groups": groups, "tags": tags, "statuses": STATUS_NAMES, "proposed": proposed, "pending": len(pending),
        "f": {"q": q, "status": status, "tag": tag, "review": review, "group": group},
    })


def _editor(request: Request, form: kb_form.EntryForm, groups: list[Group], *, original: str, problems: list[str] = (),  # type: ignore[assignment]
            tried: Any = None, try_question: str = "", preview: Any = None, status_code: int = 200,
            live_status: str = "", draft: Any = None) -> Response:
    return render(request, "kb/edit.html", {
        "form": form, "groups": groups, "original": original, "problems": list(problems), "statuses": STATUS_NAMES,
        "tried": tried, "try_question": try_question, "preview": preview, "pillars": PILLARS,
        "live_status": live_status or form.status, "draft": draft,
    }, status_code=status_code)


def _preview(request: Request, entry: Entry, index: dict[str, tuple[Entry, str]]) -> kb_form.Preview:
    return kb_form.preview(entry, {k: v[0] for k, v in index.items()}, _assistant(request).settings)


@require(CITY)
async def kb_new(request: Request, user: User) -> Response:
    groups, index = await load(request)
    form = kb_form.EntryForm(question=request.query_params.get("question", ""), group=request.query_params.get("group", ""),
                             reviewed=clock.local_today().isoformat())
    entry, _ = kb_form.entry_from_form(form)
    return _editor(request, form, groups, original="", preview=_preview(request, entry, index))


@require(CITY)
async def kb_edit(request: Request, user: User) -> Response:
    groups, index = await load(request)
    found = index.get(request.path_params["entry_id"])
    if found is None:
        return render_error(request, 404, "Không có mục này trong kho tri thức.")
    entry, group = found
    draft = await draft_of(_assistant(request).db, entry.id)
    if draft is not None and entry.status == "published":  # the editor works on the pending draft
        entry, group = draft.entry, draft.group
    return _editor(request, kb_form.form_from_entry(entry, group), groups, original=entry.id, preview=_preview(request, entry, index),
                   live_status=found[0].status, draft=draft)


@require(CITY)
async def kb_save(request: Request, user: User) -> Response:
    """Save (as draft or published), or just try / preview the form without saving."""
    a = _assistant(request)
    data = await request.form()
    action = str(data.get("action", "save"))
    original = str(data.get("original", ""))
    form = kb_form.EntryForm.from_mapping(data)
    if action == "publish":
        form.status = "published"
    elif action == "save" and form.status not in STATUSES:
        form.status = "draft"
    groups, index = await load(request)
    live = index[original][0] if original in index else None
    published = live is not None and live.status == "published"
    if published:  # an edit of a published entry is a draft of its next version; status changes go through kb_status
        form.status = "published"
    live_ctx: dict[str, Any] = {"live_status": live.status if live else "", "draft": await draft_of(a.db, original) if published else None}
    entry, problems = kb_form.entry_from_form(form)
    if action == "try":
        question = str(data.get("try_question", "")).strip()
        tried = await kb_form.try_draft(a.kb, entry, question) if question else None
        return _editor(request, form, groups, original=original, tried=tried, try_question=question,
                       preview=_preview(request, entry, index),
                       **live_ctx)
    if action == "preview":
        return _editor(request, form, groups, original=original, preview=_preview(request, entry, index), **live_ctx)
    if not original and entry.id in index:
        problems.append(f"mã '{entry.id}' đã có; chọn mã khác")
    if original and entry.id != original:
        problems.append("không đổi được mã của một mục đã có")
    known = set(index) | {entry.id}
    # a draft of a published entry is checked as a draft now, and as a published entry when it is published
    checked = dataclasses.replace(entry, status="draft") if published else entry
    problems += kb_form.check(checked, form.group, allowed_domains(a.settings.knowledge_dir), known)
    if problems:
        return _editor(request, form, groups, original=original, problems=problems, preview=_preview(request, entry, index),
                       status_code=400, **live_ctx)
    if published:
        before: dict[str, Any] | None = index[original][0].to_dict()
        try:
            await save_draft(a.db, entry, form.group, by=user.name)
        except DraftChanged:
            flash(request, "Mục này vừa được đổi trạng thái; mở lại để sửa.", "error")
            return RedirectResponse(url(request, "kb_edit", entry_id=original), status_code=303)
        await record(a.db, user, "kb.draft.save", f"entry:{entry.id}", before, entry.to_dict())
        flash(request, f"Đã lưu bản nháp của mục '{entry.id}'. Người dân vẫn nhận câu trả lời đang xuất bản "
                       "cho tới khi bạn xuất bản bản nháp.")
        return RedirectResponse(url(request, "kb_edit", entry_id=entry.id), status_code=303)
    before = index[original][0].to_dict() if original else None
    await save_entry(a.db, entry, form.group, by=user.name)
    verb = {"published": "publish", "archived": "archive"}.get(entry.status, "save")
    await record(a.db, user, f"kb.{verb}", f"entry:{entry.id}", before, entry.to_dict())
    flash(request, f"Đã lưu mục '{entry.id}' ({STATUS_NAMES[entry.status].lower()}).")
    return RedirectResponse(url(request, "kb_edit", entry_id=entry.id), status_code=303)


@require(CITY)
async def kb_status(request: Request, user: User) -> Response:
    """Move an entry along draft → published → archived (publishing checks the rules)."""
    a = _assistant(request)
    data = await request.form()
    status = str(data.get("status", ""))
    groups, index = await load(request)
    found = index.get(request.path_params["entry_id"])
    if found is None or status not in STATUSES:
        return render_error(request, 404, "Không có mục này, hoặc trạng thái không hợp lệ.")
    entry, group = found
    changed = dataclasses.replace(entry, status=status)
    problems = kb_form.check(changed, group, allowed_domains(a.settings.knowledge_dir), set(index))
    if problems:
        flash(request, "Chưa xuất bản được: " + "; ".join(problems), "error")
        return RedirectResponse(url(request, "kb_edit", entry_id=entry.id), status_code=303)
    await save_entry(a.db, changed, group, by=user.name)
    await record(a.db, user, f"kb.status.{status}", f"entry:{entry.id}", {"status": entry.status}, {"status": status})
    flash(request, f"Mục '{entry.id}': {STATUS_NAMES[status].lower()}.")
    return RedirectResponse(url(request, "kb_edit", entry_id=entry.id), status_code=303)


@require(CITY)
async def kb_draft_publish(request: Request, user: User) -> Response:
    """Publish the pending draft of a published entry: checked exactly as publishing is,
    applied in one transaction with a "publish" history row."""
    a = _assistant(request)
    entry_id = request.path_params["entry_id"]
    _, index = await load(request)
    draft = await draft_of(a.db, entry_id)
    if draft is None or entry_id not in index:
        return render_error(request, 404, "Mục này không có bản nháp chờ xuất bản.")
    entry = dataclasses.replace(draft.entry, status="published")
    problems = kb_form.check(entry, draft.group, allowed_domains(a.settings.knowledge_dir), set(index) | {entry.id})
    if problems:
        flash(request, "Chưa xuất bản được: " + "; ".join(problems), "error")
        return RedirectResponse(url(request, "kb_edit", entry_id=entry_id), status_code=303)
    try:
        before, after = await publish_draft(a.db, entry_id, draft.entry, by=user.name)
    except DraftChanged:
        flash(request, "Bản nháp vừa được người khác đổi hoặc bỏ; xem lại rồi xuất bản.", "error")
        return RedirectResponse(url(request, "kb_edit", entry_id=entry_id), status_code=303)
    await record(a.db, user, "kb.draft.publish", f"entry:{entry_id}", before, after)
    flash(request, f"Đã xuất bản bản nháp của mục '{entry_id}'. Người dân nhận câu trả lời mới từ bây giờ.")
    return RedirectResponse(url(request, "kb_edit", entry_id=entry_id), status_code=303)


@require(CITY)
async def kb_draft_discard(request: Request, user: User) -> Response:
    """Drop the pending draft; the published entry stays as it is."""
    a = _assistant(request)
    entry_id = request.path_params["entry_id"]
    dropped = await discard_draft(a.db, entry_id, by=user.name)
    if dropped is None:
        return render_error(request, 404, "Mục này không có bản nháp chờ xuất bản.")
    await record(a.db, user, "kb.draft.discard", f"entry:{entry_id}", dropped, None)
    flash(request, f"Đã bỏ bản nháp của mục '{entry_id}'; câu trả lời đang xuất bản giữ nguyên.")
    return RedirectResponse(url(request, "kb_edit", entry_id=entry_id), status_code=303)


@require(CITY)
async def kb_preview(request: Request, user: User) -> Response:
    """The preview fragment for the editor's live preview (fetched as the editor types)."""
    _, index = await load(request)
    entry, _ = kb_form.entry_from_form(kb_form.EntryForm.from_mapping(await request.form()))
    return render(request, "kb/_preview.html", {"preview": _preview(request, entry, index)})


ROUTES = [
    Route("/kb", kb_list, methods=["GET"], name="kb_list"),
    Route("/kb/new", kb_new, methods=["GET"], name="kb_new"),
    Route("/kb/save", kb_save, methods=["POST"], name="kb_save"),
    Route("/kb/preview", kb_preview, methods=["POST"], name="kb_preview"),
    Route("/kb/{entry_id:str}/edit", kb_edit, methods=["GET"], name="kb_edit"),
    Route("/kb/{entry_id:str}/status", kb_status, methods=["POST"], name="kb_status"),
    Route("/kb/{entry_id:str}/draft/publish", kb_draft_publish, methods=["POST"], name="kb_draft_publish"),
    Route("/kb/{entry_id:str}/draft/discard", kb_draft_discard, methods=["POST"], name="kb_draft_discard"),
]
NAV = [NavItem("Kho tri thức", "kb_list", CITY)]
