"""/kiemtra, the "Kiểm tra tin nhắn lạ" menu item, and forwarded or pasted messages: the
resident is told whether a message they received shows the signs of a scam, in their own
words, and what to do now, with a one-tap "Hỏi Tổ CNS".

Only counts are stored (verdict, kind, signs, channel, ward: bot/services/scamchecks.py),
never the text; the one-tap question to a person carries it with phone and account
numbers masked (bot/redact.py).
"""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, await_reply, save_resident
from bot.redact import redact
from bot.replies import ESCALATE
from bot.scamcheck import SIGNS, Result, Verdict, check, looks_received
from bot.services import scamchecks, scamlists

__all__ = ["CHECK", "PENDING", "button", "command", "handle_text", "menu_button", "render", "wants_check"]

logger = logging.getLogger(__name__)
CHECK = "k:"  # k:start — the menu item
PENDING = "scamcheck"

WORDS = {
    "vi": {
        "menu": "🛡️ Kiểm tra tin nhắn lạ",
        "ask": ("Bạn dán (hoặc chuyển tiếp) vào đây tin nhắn, đường link hay lời người lạ đã nói với bạn. "
                "Tôi sẽ chỉ ra dấu hiệu lừa đảo, nếu có. Tôi không mở đường link nào."),
        "scam": "⚠️ Tin nhắn này có dấu hiệu LỪA ĐẢO rõ ràng. Đừng làm theo.",
        "suspicious": "⚠️ Tin nhắn này có dấu hiệu đáng ngờ. Đừng làm theo trước khi kiểm tra lại.",
        "no_signs": ("Tôi không thấy dấu hiệu lừa đảo quen thuộc nào trong tin nhắn này. "
                     "Như vậy chưa có nghĩa là an toàn."),
        "signs": "Dấu hiệu tôi thấy:",
        "bad_list": "Địa chỉ {host} nằm trong danh sách địa chỉ lừa đảo mà thành phố đã biết.",
        "todo": "Làm gì bây giờ:",
        "check": "Điều nên kiểm tra:",
        "todo_scam": [
            "Không bấm vào đường link, không cài ứng dụng, không chuyển tiền, không đọc mã OTP hay mật khẩu cho ai.",
            "Muốn hỏi ngân hàng: gọi số tổng đài in trên thẻ ngân hàng của bạn, không gọi số trong tin nhắn.",
            "Nếu đã chuyển tiền hoặc đã đưa mã OTP: gọi ngay ngân hàng để khóa tài khoản, rồi báo Công an phường nơi bạn ở hoặc gọi 113.",
        ],
        "todo_none": [
            "Người gửi có đúng là người, cơ quan bạn biết không? Hãy tự gọi lại số bạn vẫn dùng, không gọi số trong tin nhắn.",
            "Đường link (nếu có) có đúng trang chính thức không? Trang của nhà nước có đuôi .gov.vn.",
            "Không ai được hỏi mã OTP, mật khẩu của bạn; công an không làm việc qua điện thoại hay bắt chuyển tiền.",
        ],
        "ask_team": "Hỏi Tổ CNS",
        "ticket": "Nhờ Tổ CNS xem giúp tin nhắn tôi nhận được (trợ lý đánh giá: {verdict}; dấu hiệu: {signs}):\n{text}",
        "verdict_names": {"scam": "lừa đảo", "suspicious": "đáng ngờ", "no_signs": "chưa thấy dấu hiệu"},
    },
    "en": {
        "menu": "🛡️ Check a strange message",
        "ask": ("Paste (or forward) here the message, the link or what a stranger told you. "
                "I will point out the signs of a scam, if any. I never open links."),
        "scam": "⚠️ This message shows clear signs of a SCAM. Do not act on it.",
        "suspicious": "⚠️ This message looks suspicious. Do not act on it before checking.",
        "no_signs": "I see none of the usual signs of a scam in this message. That does not mean it is safe.",
        "signs": "Signs I found:",
        "bad_list": "The address {host} is on the city's list of known scam addresses.",
        "todo": "What to do now:",
        "check": "What to check:",
        "todo_scam": [
            "Do not click the link, install any app, transfer money, or read out an OTP code or password to anyone.",
            "To ask your bank, call the number printed on your bank card, not a number from the message.",
            "If money already went or you gave an OTP: call your bank at once to lock the account, then report to the ward police (Công an phường) or call 113.",
        ],
        "todo_none": [
            "Is the sender really the person or office you know? Call them back on the number you already have.",
            "Is the link (if any) the official site? Government sites end in .gov.vn.",
            "Nobody may ask for your OTP or password; the police never handle cases by phone or ask for transfers.",
        ],
        "ask_team": "Ask the Tổ CNS",
        "ticket": "Please look at a message I received (the assistant's verdict: {verdict}; signs: {signs}):\n{text}",
        "verdict_names": {"scam": "scam", "suspicious": "suspicious", "no_signs": "no signs"},
    },
}


def _words(english: bool) -> dict[str, Any]:
    return WORDS["en" if english else "vi"]


def menu_button(english: bool) -> Button:
    """The menu item that starts a check."""
    return Button(_words(english)["menu"], CHECK + "start")


def wants_check(msg: Incoming) -> bool:
    """Free text to check before answering: a forwarded message, or a pasted one (a text
    written to its reader by a sender, not the resident's own request: `Result.looks_received`).
    A question about scams, or a request that carries a number or a link, is left to the
    knowledge base."""
    text = (msg.text or "").strip()
    if not text or text.startswith("/"):
        return False
    if msg.meta.get("forwarded"):
        # Checked unless it is plainly a question with nothing to check ("VNeID là gì?").
        result = check(text)
        return bool(result.findings) or result.looks_received or not result.question
    return looks_received(text)


def render(result: Result, english: bool) -> Reply:
    """The verdict in one sentence, the signs in the resident's words, what to do now."""
    w = _words(english)
    lines = [w[result.verdict.value]]
    if result.findings or result.extra:
        lines += ["", w["signs"]]
        # The strongest signs first; a link named for one sign is not quoted again for another.
        shown: set[str] = set()
        for f in sorted(result.findings, key=lambda f: -SIGNS[f.sign].weight):
            if f.sign == "unofficial-domain-for-official-body" and f.quote in shown:
                continue
            shown.add(f.quote)
            sign = SIGNS[f.sign]
            explanation = sign.en if english else sign.vi
            lines.append(f"• «{f.quote}»: {explanation}" if f.quote else f"• {explanation}")
        lines += [f"• {w['bad_list'].format(host=h)}" for h in result.extra]
    none = result.verdict == Verdict.NO_SIGNS
    lines += ["", w["check"] if none else w["todo"]]
    todo = w["todo_none"] if none else w["todo_scam"]
    lines += [f"• {x}" for x in todo]
    return Reply("\n".join(lines), buttons=(Button(w["ask_team"], ESCALATE),))


async def command(msg: Incoming, ctx: Context) -> list[Reply]:
    """/kiemtra [message]: check the message given, or ask for it."""
    text = (msg.text or "").partition(" ")[2].strip()
    if text:
        return await handle_text(Incoming(**{**msg.__dict__, "text": text}), ctx)
    return await _ask(ctx)


async def button(msg: Incoming, ctx: Context) -> list[Reply]:
    """The menu item: ask for the message to check."""
    return await _ask(ctx)


async def _ask(ctx: Context) -> list[Reply]:
    return await await_reply(ctx, PENDING, _words(ctx.english)["ask"])


async def handle_text(msg: Incoming, ctx: Context) -> list[Reply]:
    """Check a message and reply; "Hỏi Tổ CNS" then passes it (numbers masked) to a person."""
    text = (msg.text or "").strip()
    if not text:
        return [Reply(_words(ctx.english)["ask"])]
    await scamlists.refresh(ctx.db, ctx.settings.knowledge_dir)  # the editors' lists, if they changed
    result = check(text)
    w = _words(ctx.english)
    state = ctx.state
    state.pop("pending", None)
    signs = ", ".join(result.signs) or "-"
    ticket = w["ticket"].format(verdict=w["verdict_names"][result.verdict.value], signs=signs, text=redact(text)[:800])
    state["last_question"] = {"id": None, "text": ticket[:1000], "suggestions": []}
    await save_resident(ctx.db, ctx.resident, state=state)
    await scamchecks.record(ctx.db, msg.channel, ctx.resident.area_code, result, forwarded=bool(msg.meta.get("forwarded")))
    logger.info("scam check: %s %s", result.verdict.value, signs)
    return [render(result, ctx.english)]
