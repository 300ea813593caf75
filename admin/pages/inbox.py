"""The team inbox (issue 21): Tổ CNS members and leaders answer their ward's tickets,
city staff (admins, editors) the city queue and every ward, from the web, live.

Who sees what is decided here on the server from the signed-in account (`_scope`),
never from the request: a team leader or member sees the tickets held by their area's
team; city staff every ticket, narrowed by `?area=` ("city": tickets of wards without a
team). Every action goes through bot/services/teams.py (claim, answer, transfer, reject,
close, propose): the same single conditional UPDATE as the chat commands, so a web
claim and a Telegram claim of the same ticket race safely and one of them loses.

Live: `/inbox/events` is a Server-Sent Events stream. Each open stream polls the
database every POLL_SECONDS (one indexed SELECT of the scope's waiting and recently
answered tickets, at most 500 short rows) and sends `event: tickets` with what changed;
every ACCOUNT_CHECK_EVERY polls it checks the account still exists with the same role
and area (as `require` does per request) and ends otherwise; after LIFETIME_SECONDS it
ends and the browser's EventSource reconnects through `require` again (and, having
possibly missed a change in between, fetches the page once). A stream open when the
server is told to stop (SIGTERM) delays the stop by at most LIFETIME_SECONDS: uvicorn
lets responses in flight finish. Polling works
across processes and workers (no in-process notifier to keep in step).
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from admin.audit import record
from admin.context import assistant
from admin.guard import ALL_ROLES, CITY, User, require
from admin.render import NavItem, flash, render, render_error, url, ward_names
from bot.services import inbox, teams
from bot.storage.models import KbEntry

__all__ = ["NAV", "ROUTES", "POLL_SECONDS"]

POLL_SECONDS = 2.0
ACCOUNT_CHECK_EVERY = 10  # polls
LIFETIME_SECONDS = 60.0  # then EventSource reconnects; also bounds how long a stream delays a graceful stop
KEEPALIVE_EVERY = 10  # polls without a change
MAX_ANSWER = 3500  # Telegram's message limit is 4096, with our heading and the team's name

STATUS_NAMES = {"open": "Chờ nhận", "claimed": "Đang xử lý", "answered": "Đã trả lời", "rejected": "Không thuộc phạm vi",
                "closed": "Đã đóng"}


async def _scope(request: Request, user: User) -> inbox.Scope | Response:
    db = assistant(request).db
    if user.may(CITY):
        area = request.query_params.get("area", "")
        if area and area != "city" and area not in await ward_names(db):
            return render_error(request, 400, "Không có phường, xã này.")
        return inbox.Scope(city=True, area=area)
    team = await teams.team_for_area(db, user.area)
    return inbox.Scope(city=False, team_id=team[0] if team else None)


async def _ticket(request: Request, user: User) -> tuple[inbox.Scope, inbox.Row] | Response:
    """The ticket of the path, if this account may see it."""
    scope = await _scope(request, user)
    if isinstance(scope, Response):
        return scope
    a = assistant(request)
    row = await inbox.row(a.db, request.path_params["ticket_id"], a.settings, a.holidays)
    if row is None:
        return render_error(request, 404, "Không có câu hỏi này.")
    if not scope.allows(row.team_id):
        return render_error(request, 403, "Câu hỏi này không thuộc tổ của bạn.")
    return scope, row


async def _actor(request: Request, user: User, row: inbox.Row) -> teams.Member:
    """The web account as a member acting on the ticket's current team (None: the city
    queue). A ward account always acts for its own area's team; the conditional UPDATE
    then also fails if the ticket moved away since the page was read."""
    if user.may(CITY):
        return teams.web_member(user.name, row.team_id, inbox.CITY_TEAM_NAME, row.area_code or "")
    team = await teams.team_for_area(assistant(request).db, user.area)
    assert team is not None  # _ticket let the account see a ticket of its team
    return teams.web_member(user.name, team[0], team[1], user.area)


def _back(request: Request, ticket_id: int) -> Response:
    return RedirectResponse(url(request, "inbox_ticket", ticket_id=ticket_id), status_code=303)


TicketAction = Callable[[Request, User, inbox.Row], Awaitable[Response]]


def ticket_action(action: TicketAction) -> Callable[[Request], Awaitable[Response]]:
    """A page or action of the ticket of the path (claim, answer...): any signed-in role, and only
    on a ticket this account may see (`_ticket`), else its 400/403/404 page."""
    @require(ALL_ROLES)
    @functools.wraps(action)
    async def run(request: Request, user: User) -> Response:
        got = await _ticket(request, user)
        if isinstance(got, Response):
            return got
        return await action(request, user, got[1])
    return run


@require(ALL_ROLES)
async def inbox_list(request: Request, user: User) -> Response:
    which = request.query_params.get("f", "")
    if which and which not in inbox.FILTERS:
        return render_error(request, 400, "Bộ lọc không hợp lệ.")
    scope = await _scope(request, user)
    if isinstance(scope, Response):
        return scope
    a = assistant(request)
    rows, number = await inbox.listing(a.db, scope, which, user.name, a.settings, a.holidays)
    labels = await ward_names(a.db) if user.may(CITY) else {}
    no_team = not user.may(CITY) and scope.team_id is None
    return render(request, "inbox.html", {
        "rows": rows, "counts": number, "filters": inbox.FILTERS, "which": which, "scope": scope, "areas": labels,
        "statuses": STATUS_NAMES, "no_team": no_team, "ward_label": (await ward_names(a.db)).get(user.area, user.area),
    })


async def _faq_choices(request: Request, row: inbox.Row) -> tuple[list[KbEntry], KbEntry | None, str]:
    """Published entries to start an answer from: the assistant's guesses, or what a
    search finds; and the one chosen (`?faq=`)."""
    a = assistant(request)
    wanted = list(row.suggestions)
    search = request.query_params.get("faq_q", "").strip()[:300]
    if search:
        m = await a.kb.match(search)
        wanted = [i for i in (m.entry_id, *m.suggestions) if i]
    chosen_id = request.query_params.get("faq", "")
    async with a.db.session() as session:
        found = {e.id: e for e in (await session.scalars(
            select(KbEntry).where(KbEntry.id.in_([*wanted, chosen_id]), KbEntry.status == "published"))).all()}
    seen: list[KbEntry] = []
    for i in wanted:
        if i in found and found[i] not in seen:
            seen.append(found[i])
    return seen[:6], found.get(chosen_id), search


@ticket_action
async def inbox_ticket(request: Request, user: User, row: inbox.Row) -> Response:
    a = assistant(request)
    choices, chosen, search = await _faq_choices(request, row)
    if request.query_params.get("faq") and chosen is None:
        return render_error(request, 404, "Không có mục đã xuất bản này trong kho tri thức.")
    earlier = await inbox.earlier_messages(a.db, row, a.settings.resident_id_salt)
    labels = await ward_names(a.db)
    return render(request, "inbox_ticket.html", {
        "t": row, "statuses": STATUS_NAMES, "choices": choices, "chosen": chosen, "search": search, "earlier": earlier,
        "areas": labels, "max_answer": MAX_ANSWER, "ward_label": labels.get(user.area, ""),
        "mine": row.claimed_by_user == user.name,
    })


@ticket_action
async def ticket_claim(request: Request, user: User, row: inbox.Row) -> Response:
    a = assistant(request)
    if await teams.claim(a.db, row.id, await _actor(request, user, row)):
        await record(a.db, user, "ticket.claim", f"ticket:{row.id}", {"status": row.status}, {"status": "claimed"})
        flash(request, f"Bạn đã nhận câu hỏi số {row.id}.")
    else:
        flash(request, f"Câu hỏi số {row.id} đã có người khác nhận hoặc đã được xử lý.", "error")
    return _back(request, row.id)


@ticket_action
async def ticket_answer(request: Request, user: User, row: inbox.Row) -> Response:
    from bot.handlers.team_reply import answer_for_resident

    text = str((await request.form()).get("answer", "")).replace("\r\n", "\n").strip()
    if not text:
        return render_error(request, 400, "Cần nội dung câu trả lời.")
    if len(text) > MAX_ANSWER:
        return render_error(request, 400, f"Câu trả lời dài quá {MAX_ANSWER} ký tự; hãy rút gọn.")
    a = assistant(request)
    member = await _actor(request, user, row)
    if not await teams.answer(a.db, row.id, member, text):
        flash(request, f"Câu hỏi số {row.id} không còn chờ trả lời.", "error")
        return _back(request, row.id)
    await record(a.db, user, "ticket.answer", f"ticket:{row.id}", {"status": row.status}, {"status": "answered", "answer": text})
    delivered = bool(row.chat) and await a.push(row.channel, row.chat, answer_for_resident(member.team_name, row.id, text))
    flash(request, "Đã gửi câu trả lời tới người hỏi." if delivered else "Đã lưu câu trả lời; người hỏi sẽ nhận khi quay lại.")
    return _back(request, row.id)


@ticket_action
async def ticket_reject(request: Request, user: User, row: inbox.Row) -> Response:
    from bot.handlers.team_reply import out_of_scope_for_resident

    a = assistant(request)
    member = await _actor(request, user, row)
    if not await teams.reject(a.db, row.id, member):
        flash(request, f"Câu hỏi số {row.id} đã được xử lý.", "error")
        return _back(request, row.id)
    await record(a.db, user, "ticket.reject", f"ticket:{row.id}", {"status": row.status}, {"status": "rejected"})
    if row.chat:
        await a.push(row.channel, row.chat, out_of_scope_for_resident(member.team_name, row.id))
    flash(request, f"Đã đánh dấu câu hỏi số {row.id} là không thuộc phạm vi.")
    return _back(request, row.id)


@ticket_action
async def ticket_close(request: Request, user: User, row: inbox.Row) -> Response:
    a = assistant(request)
    if not await teams.close(a.db, row.id, await _actor(request, user, row)):
        flash(request, f"Câu hỏi số {row.id} đã được xử lý.", "error")
        return _back(request, row.id)
    await record(a.db, user, "ticket.close", f"ticket:{row.id}", {"status": row.status}, {"status": "closed"})
    flash(request, f"Đã đóng câu hỏi số {row.id}.")
    return _back(request, row.id)


@ticket_action
async def ticket_transfer(request: Request, user: User, row: inbox.Row) -> Response:
    from bot.handlers.team_reply import notification

    a = assistant(request)
    target = str((await request.form()).get("area", "")).strip()
    labels = await ward_names(a.db)
    if target != "city" and target not in labels:
        return render_error(request, 400, "Chọn một phường, xã có trong danh sách, hoặc Thành phố.")
    code = None if target == "city" else target
    ok, team = await teams.transfer(a.db, row.id, await _actor(request, user, row), code)
    if not ok:
        flash(request, f"Câu hỏi số {row.id} không chuyển được (đã được xử lý).", "error")
        return _back(request, row.id)
    await record(a.db, user, "ticket.transfer", f"ticket:{row.id}", {"area": row.area_code, "team": row.team_id},
                 {"area": code, "team": team[0] if team else None})
    view = await teams.ticket(a.db, row.id)
    if team is not None and view is not None:
        for m in await teams.members_of(a.db, team[0]):
            await a.push(m.channel, m.chat, notification(view))
    where = team[1] if team else ("Thành phố" if code is None else f"{labels[code]} (chưa có tổ: hàng đợi của thành phố)")
    flash(request, f"Đã chuyển câu hỏi số {row.id} cho {where}.")
    if user.may(CITY):
        return _back(request, row.id)
    return RedirectResponse(url(request, "inbox_list"), status_code=303)  # no longer this team's


@ticket_action
async def ticket_propose(request: Request, user: User, row: inbox.Row) -> Response:
    a = assistant(request)
    entry_id = await teams.propose(a.db, row.id, await _actor(request, user, row))
    if entry_id is None:
        flash(request, "Chỉ đề xuất được câu hỏi đã trả lời.", "error")
    else:
        await record(a.db, user, "ticket.propose", f"ticket:{row.id}", None, {"entry": entry_id})
        flash(request, f"Đã gửi đề xuất ({entry_id}) để biên tập viên của thành phố xem xét. Cảm ơn!")
    return _back(request, row.id)


@require(ALL_ROLES)
async def inbox_events(request: Request, user: User) -> Response:
    """Server-Sent Events: `event: tickets`, data a JSON list of {id, status, by} for each
    ticket of the account's scope that changed (status "gone": left the scope)."""
    from admin.guard import still_valid

    scope = await _scope(request, user)
    if isinstance(scope, Response):
        return scope
    db = assistant(request).db

    async def stream() -> AsyncIterator[str]:
        last = await inbox.snapshot(db, scope)
        yield f"retry: 3000\nevent: hello\ndata: {json.dumps({'tickets': len(last)})}\n\n"
        started, polls, quiet = time.monotonic(), 0, 0
        while time.monotonic() - started < LIFETIME_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            polls += 1
            if polls % ACCOUNT_CHECK_EVERY == 0 and not await still_valid(request, user):
                yield "event: bye\ndata: {}\n\n"
                return
            now = await inbox.snapshot(db, scope)
            changed = [{"id": i, "status": state.split(":")[0], "by": state.split(":")[3]}
                       for i, state in now.items() if last.get(i) != state]
            changed += [{"id": i, "status": "gone", "by": ""} for i in last if i not in now]
            last = now
            if changed:
                quiet = 0
                yield f"event: tickets\ndata: {json.dumps(changed, ensure_ascii=False)}\n\n"
            else:
                quiet += 1
                if quiet % KEEPALIVE_EVERY == 0:
                    yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


ROUTES = [
    Route("/inbox", inbox_list, methods=["GET"], name="inbox_list"),
    Route("/inbox/events", inbox_events, methods=["GET"], name="inbox_events"),
    Route("/inbox/{ticket_id:int}", inbox_ticket, methods=["GET"], name="inbox_ticket"),
    Route("/inbox/{ticket_id:int}/claim", ticket_claim, methods=["POST"], name="inbox_claim"),
    Route("/inbox/{ticket_id:int}/answer", ticket_answer, methods=["POST"], name="inbox_answer"),
    Route("/inbox/{ticket_id:int}/reject", ticket_reject, methods=["POST"], name="inbox_reject"),
    Route("/inbox/{ticket_id:int}/close", ticket_close, methods=["POST"], name="inbox_close"),
    Route("/inbox/{ticket_id:int}/transfer", ticket_transfer, methods=["POST"], name="inbox_transfer"),
    Route("/inbox/{ticket_id:int}/propose", ticket_propose, methods=["POST"], name="inbox_propose"),
]
NAV = [NavItem("Hộp thư", "inbox_list", ALL_ROLES)]
