"""What a Tổ CNS member does in the chat: join with a code, take a ticket, answer it
(the answer reaches the resident in their own chat), pass it on, mark it out of scope,
or propose the answer as a new FAQ entry. Members see the question and the resident's
display name only, never a phone number or a platform id."""

from __future__ import annotations

import re

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, save_resident
from bot.handlers import area
from bot.replies import RATE, cancel_button
from bot.services import teams

TEAM = "t:"  # t:claim:<id> | t:answer:<id> | t:reject:<id> | t:propose:<id> | t:move:<id>
PENDING_MOVE = "move"
PENDING_ANSWER = "answer"


def ticket_buttons(ticket_id: int) -> tuple[Button, ...]:
    return (
        Button("Nhận", f"{TEAM}claim:{ticket_id}"),
        Button("Trả lời", f"{TEAM}answer:{ticket_id}"),
        Button("Chuyển", f"{TEAM}move:{ticket_id}"),
        Button("Không thuộc phạm vi", f"{TEAM}reject:{ticket_id}"),
    )


def notification(t: teams.TicketView, reminder: bool = False) -> Reply:
    head = "⏰ Nhắc: câu hỏi chưa ai nhận" if reminder else "📩 Câu hỏi mới cho Tổ"
    guesses = f"\nTrợ lý đoán gần với: {', '.join(t.suggestions)}" if t.suggestions else ""
    text = (
        f"{head} (số {t.id})\nNgười hỏi: {t.display_name or 'cư dân'}\n\n{t.question}{guesses}\n\n"
        f"Trả lời bằng lệnh: /traloi {t.id} <nội dung>"
    )
    return Reply(text, buttons=ticket_buttons(t.id))


_NUMBER = re.compile(r"\(số (\d+)\)")


def replied_ticket(msg: Incoming) -> int | None:
    """The ticket a message replies to, when it quotes a notification ("… (số 12) …")."""
    found = _NUMBER.search(msg.meta.get("reply_to", "")) if msg.meta else None
    return int(found.group(1)) if found else None


async def reply_to_notification(msg: Incoming, ctx: Context) -> list[Reply]:
    """A member's reply (in the platform's sense) to a notification answers that ticket."""
    member = await teams.member_of(ctx.db, msg.channel, msg.user)
    number = replied_ticket(msg)
    if member is None or number is None:  # a resident replying to our message: a question
        from bot.handlers import question

        return await question.handle(msg, ctx)
    if not (msg.text or "").strip():
        return [Reply("Để trả lời, dùng: /traloi <số câu hỏi> <nội dung>")]
    return await _answer(ctx, member, number, (msg.text or "").strip())


async def join(msg: Incoming, ctx: Context) -> list[Reply]:
    """/thamgia <mã>: link this chat account to a team."""
    code = (msg.text or "").partition(" ")[2].strip()
    if not code:
        return [Reply("Gõ /thamgia kèm mã mời, ví dụ: /thamgia 1A2B3C4D")]
    member = await teams.join(ctx.db, code, msg.channel, msg.user, msg.chat, msg.display_name)
    if member is None:
        return [Reply("Mã mời không đúng hoặc đã được dùng. Bạn xin mã mới từ tổ trưởng hoặc quản trị viên.")]
    role = "tổ trưởng" if member.role == "leader" else "thành viên"
    return [Reply(f"Chào mừng bạn là {role} của {member.team_name}. Câu hỏi của người dân trong phường, xã sẽ được gửi tới bạn tại đây.")]


async def reply_command(msg: Incoming, ctx: Context) -> list[Reply]:
    """/traloi <số> <nội dung>: answer a ticket; the resident gets it in their chat."""
    member = await teams.member_of(ctx.db, msg.channel, msg.user)
    if member is None:
        return [Reply("Lệnh này dành cho thành viên Tổ Công nghệ số cộng đồng.")]
    _, _, rest = (msg.text or "").partition(" ")
    number, _, text = rest.strip().partition(" ")
    if not number.isdigit() or not text.strip():
        return [Reply("Cách dùng: /traloi <số câu hỏi> <nội dung trả lời>")]
    return await _answer(ctx, member, int(number), text.strip())


async def answer_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """The text a member types after pressing "Trả lời"."""
    state = ctx.state
    number = int(state.pop("answer_ticket", 0) or 0)
    state.pop("pending", None)
    await save_resident(ctx.db, ctx.resident, state=state)
    member = await teams.member_of(ctx.db, msg.channel, msg.user)
    if member is None or not number or not (msg.text or "").strip():
        return [Reply("Không có câu hỏi nào đang chờ bạn trả lời.")]
    return await _answer(ctx, member, number, (msg.text or "").strip())


async def _answer(ctx: Context, member: teams.Member, number: int, text: str) -> list[Reply]:
    t = await teams.ticket(ctx.db, number)
    if t is None or t.team_id != member.team_id:
        return [Reply(f"Không có câu hỏi số {number} của tổ bạn.")]
    if not await teams.answer(ctx.db, t.id, member, text):
        return [Reply(f"Câu hỏi số {t.id} không còn chờ trả lời (trạng thái: {t.status}).")]
    delivered = False
    if t.chat:
        delivered = await ctx.push(t.channel, t.chat, Reply(
            f"Trả lời từ {member.team_name} cho câu hỏi của bạn (số {t.id}):\n\n{text}",
            buttons=(Button("👍 Hữu ích", f"{RATE}up:ticket-{t.id}"), Button("👎 Chưa đúng", f"{RATE}down:ticket-{t.id}")),
        ))
    status = "Đã gửi câu trả lời tới người hỏi." if delivered else "Đã lưu câu trả lời; người hỏi sẽ nhận khi quay lại."
    return [Reply(status, buttons=(Button("Đề xuất thành câu hỏi thường gặp", f"{TEAM}propose:{t.id}"),))]


async def button(msg: Incoming, ctx: Context) -> list[Reply]:
    """Nhận / Chuyển / Không thuộc phạm vi / Đề xuất."""
    member = await teams.member_of(ctx.db, msg.channel, msg.user)
    if member is None:
        return [Reply("Nút này dành cho thành viên Tổ Công nghệ số cộng đồng.")]
    action, _, number = (msg.button or "")[len(TEAM):].partition(":")
    t = await teams.ticket(ctx.db, int(number)) if number.isdigit() else None
    if t is None or t.team_id != member.team_id:
        return [Reply("Câu hỏi này không thuộc tổ của bạn.")]
    if action == "claim":
        if await teams.claim(ctx.db, t.id, member):
            return [Reply(f"Bạn đã nhận câu hỏi số {t.id}. Trả lời bằng: /traloi {t.id} <nội dung>")]
        return [Reply(f"Câu hỏi số {t.id} đã có người khác nhận hoặc đã được trả lời.")]
    if action == "answer":
        state = ctx.state
        state["pending"] = PENDING_ANSWER
        state["answer_ticket"] = t.id
        await save_resident(ctx.db, ctx.resident, state=state)
        return [Reply(f"Gõ câu trả lời cho câu hỏi số {t.id}; tôi sẽ gửi tới người hỏi.", buttons=(cancel_button(False),))]
    if action == "reject":
        if await teams.reject(ctx.db, t.id, member):
            if t.chat:
                await ctx.push(t.channel, t.chat, Reply(
                    f"{member.team_name} cho biết câu hỏi số {t.id} không thuộc phạm vi hỗ trợ của tổ. "
                    "Bạn có thể gọi Tổng đài 0236 1022 để được hướng dẫn nơi hỏi."))
            return [Reply(f"Đã đánh dấu câu hỏi số {t.id} là không thuộc phạm vi.")]
        return [Reply(f"Câu hỏi số {t.id} đã được xử lý.")]
    if action == "propose":
        entry_id = await teams.propose(ctx.db, t.id, member)
        if entry_id is None:
            return [Reply("Chỉ đề xuất được câu hỏi tổ bạn đã trả lời.")]
        return [Reply(f"Đã gửi đề xuất ({entry_id}) để biên tập viên của thành phố xem xét. Cảm ơn tổ!")]
    if action == "move":
        state = ctx.state
        state["pending"] = PENDING_MOVE
        state["move_ticket"] = t.id
        await save_resident(ctx.db, ctx.resident, state=state)
        return [Reply("Chuyển câu hỏi cho phường, xã nào? Gõ tên (tên cũ cũng được), hoặc gõ \"thành phố\" để chuyển lên thành phố.",
                      buttons=(cancel_button(False),))]
    return [Reply("Không rõ thao tác.")]


async def move_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """The area typed after "Chuyển"."""
    state = ctx.state
    ticket_id = int(state.pop("move_ticket", 0) or 0)
    state.pop("pending", None)
    await save_resident(ctx.db, ctx.resident, state=state)
    member = await teams.member_of(ctx.db, msg.channel, msg.user)
    if member is None or not ticket_id:
        return [Reply("Không có câu hỏi nào đang chờ chuyển.")]
    typed = (msg.text or "").strip()
    code: str | None = None
    label = "thành phố"
    if typed.lower() not in ("thành phố", "thanh pho", "tp", "city"):
        areas = await area.list_areas(ctx.db)
        found = area.find_area(typed, areas)
        units = await area.old_units(ctx)
        old = area.find_old(typed, units)
        if (not found or found[0][1] < 90) and len(old) == 1 and len(old[0][0].new_codes) == 1:
            new_area = next((a for a in areas if a.code == old[0][0].new_codes[0]), None)
            found = [(new_area, 100.0)] if new_area is not None else found
        if not found or found[0][1] < 80:
            hint = area.resolve_old(typed, units, areas)
            extra = f" ({hint.text.split('.')[0]}.)" if hint is not None else ""
            return [Reply(f"Tôi chưa tìm thấy phường, xã đó; câu hỏi chưa được chuyển.{extra} Bấm Chuyển và gõ lại tên.")]
        code, label = found[0][0].code, found[0][0].label
    ok, target = await teams.transfer(ctx.db, ticket_id, member, code)
    if not ok:
        return [Reply(f"Câu hỏi số {ticket_id} không chuyển được (đã được xử lý).")]
    t = await teams.ticket(ctx.db, ticket_id)
    if target is not None and t is not None:
        for m in await teams.members_of(ctx.db, target[0]):
            await ctx.push(m.channel, m.chat, notification(t))
        return [Reply(f"Đã chuyển câu hỏi số {ticket_id} cho {target[1]}.")]
    return [Reply(f"Đã chuyển câu hỏi số {ticket_id} lên {label}; quản trị viên thành phố sẽ xử lý.")]
