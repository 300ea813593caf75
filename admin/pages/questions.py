"""Residents' questions (editors and admins): the log with filters, and the gaps
(unanswered and 👎, grouped by similarity) with one click to add a question as an
alternate of an entry or to start a new entry from it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from admin import kb_form
from admin.audit import record
from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import NavItem, flash, render, url
from bot import clock
from bot.kb_rules import allowed_domains
from bot.services.gaps import gaps
from bot.services.knowledge import draft_of, export_groups, save_draft, save_entry
from bot.storage.models import Area, QuestionLog

__all__ = ["ROUTES", "NAV"]

DECISIONS = {"answer": "Đã trả lời", "suggest": "Gợi ý", "unknown": "Chưa trả lời được", "chitchat": "Chào hỏi"}
CHANNELS = ("telegram", "zalo", "web")
PAGE = 100


def _assistant(request: Request) -> Any:
    return assistant(request)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def _areas(request: Request) -> list[Area]:
    async with _assistant(request).db.session() as session:
        return list((await session.scalars(select(Area).order_by(Area.name))).all())


@require(CITY)
async def question_log(request: Request, user: User) -> Response:
    p = request.query_params
    f = {k: p.get(k, "") for k in ("decision", "channel", "area", "since", "until", "feedback")}
    query = select(QuestionLog).order_by(QuestionLog.id.desc())
    if f["decision"] in DECISIONS:
        query = query.where(QuestionLog.decision == f["decision"])
    if f["channel"] in CHANNELS:
        query = query.where(QuestionLog.channel == f["channel"])
    if f["area"]:
        query = query.where(QuestionLog.area_code == f["area"])
    if f["feedback"] == "down":
        query = query.where(QuestionLog.feedback.startswith("down"))
    if since := _date(f["since"]):
        query = query.where(QuestionLog.asked_at >= clock.local_day_start(since))
    if until := _date(f["until"]):
        query = query.where(QuestionLog.asked_at < clock.local_day_start(until + dt.timedelta(days=1)))
    page = max(int(p.get("page", "1")) if p.get("page", "1").isdigit() else 1, 1)
    async with _assistant(request).db.session() as session:
        rows = list((await session.scalars(query.offset((page - 1) * PAGE).limit(PAGE + 1))).all())
    return render(request, "questions/log.html", {
        "rows": rows[:PAGE], "qs": urlencode(f), "more": len(rows) > PAGE, "page": page, "f": f, "decisions": DECISIONS,
        "channels": CHANNELS, "areas": await _areas(request),
    })


@require(CITY)
async def question_gaps(request: Request, user: User) -> Response:
    a = _assistant(request)
    days = request.query_params.get("days", "30")
    since = clock.now() - dt.timedelta(days=int(days)) if days.isdigit() else None
    found = await gaps(a.db, since=since)
    await a.kb.matcher()
    entries = {e.id: e for g in a.kb.groups for e in g.entries}
    return render(request, "questions/gaps.html", {"gaps": found[:100], "entries": entries, "days": days,
                                                   "published": sorted((e for e in entries.values() if e.status == "published"), key=lambda e: e.question)})


@require(CITY)
async def add_alternate(request: Request, user: User) -> Response:
    """Add a resident's wording as an alternate of an entry (the entry keeps its status)."""
    a = _assistant(request)
    data = await request.form()
    text, entry_id = str(data.get("text", "")).strip(), str(data.get("entry_id", ""))
    back = str(data.get("back", "")) or url(request, "question_gaps")
    if not back.startswith(url(request, "home")):
        back = url(request, "question_gaps")
    groups = await export_groups(a.db)
    found = next(((e, g.group) for g in groups for e in g.entries if e.id == entry_id), None)
    if found is None or not text:
        flash(request, "Chọn một mục và một câu hỏi.", "error")
        return RedirectResponse(back, status_code=303)
    entry, group = found
    if text.casefold() in (s.casefold() for s in (entry.question, *entry.alternates)):
        flash(request, f"Câu này đã là một cách hỏi của '{entry.id}'.")
        return RedirectResponse(back, status_code=303)
    changed = dataclasses.replace(entry, alternates=[*entry.alternates, text])
    problems = kb_form.check(changed, group, allowed_domains(a.settings.knowledge_dir), {e.id for g in groups for e in g.entries})
    if problems:
        flash(request, "Chưa thêm được: " + "; ".join(problems), "error")
        return RedirectResponse(back, status_code=303)
    await save_entry(a.db, changed, group, by=user.name)
    pending = await draft_of(a.db, entry.id)
    if pending is not None and text.casefold() not in (s.casefold() for s in pending.entry.alternates):
        # The pending edit gets it too, or publishing that draft would take it away again.
        await save_draft(a.db, dataclasses.replace(pending.entry, alternates=[*pending.entry.alternates, text]),
                         pending.group, by=user.name)
    await record(a.db, user, "kb.add_alternate", f"entry:{entry.id}", {"alternates": entry.alternates}, {"alternates": changed.alternates})
    flash(request, f"Đã thêm “{text}” làm cách hỏi khác của '{entry.id}'.")
    return RedirectResponse(back, status_code=303)


ROUTES = [
    Route("/questions", question_log, methods=["GET"], name="question_log"),
    Route("/questions/gaps", question_gaps, methods=["GET"], name="question_gaps"),
    Route("/questions/alternate", add_alternate, methods=["POST"], name="add_alternate"),
]
NAV = [NavItem("Câu hỏi", "question_log", CITY), NavItem("Lỗ hổng kiến thức", "question_gaps", CITY)]
