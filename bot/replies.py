"""What the resident reads for each decision: the wording of answers, suggestions,
"no answer yet" and small talk, in Vietnamese or English. Channel-agnostic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.channels.base import Button, Link, Reply
from bot.chitchat import Chitchat
from bot.kb_files import Entry
from bot.matcher import Decision, Match

__all__ = ["render_match", "render_entry", "answer_values", "fill", "PLACEHOLDERS", "TEXT"]

# Button payload prefixes (handlers in bot/handlers route on them).
SHOW = "e:"  # show an entry: e:<id>
RATE = "r:"  # rate an answer: r:up:<id> | r:down:<id>
ESCALATE = "h:ask"  # pass the last question to a person
NOT_THIS = "s:none"  # none of the suggestions
CANCEL = "c:"  # leave what the assistant is waiting for (a ward, a question for a person...)

TEXT: dict[str, dict[str, Any]] = {
    "vi": {
        "suggest": "Có phải bạn muốn hỏi:",
        "not_this": "Không phải",
        "unknown": (
            "Xin lỗi, tôi chưa có câu trả lời cho câu hỏi này. "
            "Tôi có thể chuyển câu hỏi đến Tổ Công nghệ số cộng đồng ở phường, xã của bạn để một người trả lời."
        ),
        "escalate": "Hỏi người thật",
        "related": "Xem thêm:",
        "up": "👍 Hữu ích",
        "down": "👎 Chưa đúng",
        "refusal_tail": "Tôi chỉ trả lời các câu hỏi về chuyển đổi số, dịch vụ công trực tuyến và an toàn trên mạng.",
        "welcome": (
            "Xin chào! Tôi là Trợ lý Chuyển đổi số Đà Nẵng, do thành phố vận hành.\n"
            "Tôi trả lời các câu hỏi về chuyển đổi số, dịch vụ công trực tuyến, VNeID, thanh toán và an toàn trên mạng. "
            "Câu nào chưa trả lời được, tôi chuyển cho Tổ Công nghệ số cộng đồng ở phường, xã của bạn.\n"
            "Câu hỏi được ghi lại để cải thiện câu trả lời; xem /xoadulieu để biết và xóa dữ liệu của bạn.\n"
            "Bạn cứ gõ câu hỏi, hoặc chọn chủ đề bên dưới."
        ),
        "help": (
            "Cách dùng:\n"
            "• Gõ câu hỏi bằng lời của bạn, có dấu hay không dấu đều được.\n"
            "• /menu: xem các chủ đề\n"
            "• /hoi: hỏi người thật (Tổ Công nghệ số cộng đồng)\n"
            "• /kiemtra: kiểm tra một tin nhắn lạ có phải lừa đảo không\n"
            "• /khuvuc: chọn phường, xã của bạn\n"
            "• /dangky, /huy: nhận hoặc ngừng nhận thông báo\n"
            "• /ngonngu: đổi tiếng Việt / English\n"
            "• /xoadulieu: xóa dữ liệu của bạn\n"
            "• /thoi: thôi bước đang làm (hoặc bấm nút Thôi, hoặc gõ \"thôi\")\n"
            "• /trogiup: xem hướng dẫn này"
        ),
        "menu": "Chọn nhóm chủ đề:",
        "menu_group": "Chọn câu hỏi:",
        "back": "« Quay lại",
        "why": "Cảm ơn bạn. Vì sao câu trả lời chưa tốt?",
        "reasons": {"sai": "Sai", "thieu": "Thiếu", "kho-hieu": "Khó hiểu", "khong-lien-quan": "Không liên quan"},
        "thanks_up": "Cảm ơn bạn đã đánh giá!",
        "thanks_down": "Cảm ơn bạn. Ý kiến này giúp thành phố sửa câu trả lời.",
        "rephrase": "Bạn thử hỏi lại bằng cách khác, hoặc để tôi chuyển câu hỏi cho người thật.",
        "ask_area": "Bạn ở phường, xã nào? Hãy gõ tên (ví dụ: Hải Châu, Hòa Vang).",
        "area_choose": "Có phải bạn ở:",
        "area_not_found": "Tôi chưa tìm thấy phường, xã đó. Bạn gõ lại tên giúp tôi (ví dụ: An Hải, Hội An).",
        "area_saved": "Đã ghi nhận: bạn ở {area}.",
        "ask_person": "Bạn muốn hỏi người thật điều gì? Hãy gõ câu hỏi.",
        "escalated": (
            "Đã chuyển câu hỏi của bạn (số {ticket}) đến {area}. "
            "Người của tổ sẽ trả lời ngay tại đây, thường trong giờ hành chính, chậm nhất khoảng {hours} giờ làm việc."
        ),
        "escalated_city": (
            "Đã ghi nhận câu hỏi của bạn (số {ticket}). {area} chưa có Tổ Công nghệ số cộng đồng dùng trợ lý này, "
            "nên câu hỏi được chuyển tới cán bộ của thành phố; câu trả lời sẽ gửi lại tại đây, có thể mất vài ngày làm việc. "
            "Cần gấp, bạn gọi Tổng đài 0236 1022."
        ),
        "no_question": "Tôi chưa có câu hỏi nào của bạn để chuyển. Bạn gõ câu hỏi trước nhé.",
        "lang_choose": "Chọn ngôn ngữ / Choose a language:",
        "lang_set": "Đã chuyển sang tiếng Việt.",
        "delete_confirm": (
            "Bạn có chắc muốn xóa mọi dữ liệu của mình? Tôi sẽ xóa ngôn ngữ, phường xã, đăng ký nhận tin, "
            "liên kết giữa bạn và các câu hỏi đã hỏi, và nội dung các câu hỏi đang chờ người trả lời."
        ),
        "delete_yes": "Xóa hết",
        "delete_no": "Không xóa",
        "deleted": (
            "Đã xóa dữ liệu của bạn: hồ sơ trò chuyện, {questions} câu hỏi đã tách khỏi bạn (chỉ còn số đếm ẩn danh), "
            "{tickets} câu hỏi chờ trả lời đã đóng và xóa nội dung."
        ),
        "kept": "Đã giữ nguyên, không xóa gì.",
        "flood": "Bạn gửi hơi nhanh. Đợi một chút rồi gửi tiếp nhé, tôi vẫn ở đây.",
        "not_text": "Tôi chỉ đọc được tin nhắn chữ. Bạn gõ câu hỏi giúp tôi nhé.",
        "too_long": "Tin nhắn rất dài; tôi chỉ đọc phần đầu.",
        "cancel": "Thôi",
        "person_button": "Gặp người thật",
        "ask_person_or_last": "Bạn gõ điều muốn hỏi người thật, hoặc bấm nút để chuyển câu hỏi vừa rồi: \"{question}\"",
        "pass_last": "Chuyển câu hỏi vừa rồi",
        "cancelled": "Đã thôi. Bạn cứ gõ câu hỏi, hoặc chọn chủ đề.",
        "topics": "Chủ đề",
        "left_prompt": "Tôi đã thôi {step}. Còn đây là trả lời cho tin nhắn của bạn:",
        "steps": {"area": "hỏi phường, xã của bạn", "person": "chờ câu hỏi để chuyển cho người thật",
                  "answer": "chờ câu trả lời cho câu hỏi của người dân", "move": "chờ tên phường, xã để chuyển câu hỏi",
                  "subscribe": "đăng ký nhận thông báo (chưa đăng ký)", "delete": "xóa dữ liệu (chưa xóa gì)"},
        "old_one": "{old} cũ nay thuộc {new}. Có phải bạn ở {new}? Bấm để xác nhận.",
        "old_many": "{old} cũ nay thuộc {news}. Bạn ở đâu? Bấm để chọn.",
        "old_district": "{old} cũ nay gồm: {news}. Bạn ở phường, xã nào? Bấm để chọn, hoặc gõ tên phường, xã cũ.",
        "person_offer": "Tôi có thể chuyển câu hỏi của bạn cho một người của Tổ Công nghệ số cộng đồng ở phường, xã của bạn. Bấm nút bên dưới.",
        "sub_topics": "Chọn chủ đề bạn quan tâm (bấm để chọn/bỏ), rồi bấm Đồng ý.",
        "sub_consent": (
            "Bằng cách bấm \"Đồng ý\", bạn đồng ý nhận thông báo về chuyển đổi số của thành phố và của Tổ Công nghệ số "
            "cộng đồng {area} qua kênh trò chuyện này. Bạn có thể hủy bất cứ lúc nào bằng /huy hoặc nút dưới mỗi thông báo."
        ),
        "sub_all": "Tất cả chủ đề",
        "sub_ok": "Đồng ý nhận thông báo",
        "sub_done": "Đã đăng ký nhận thông báo cho {area}. Gõ /huy để ngừng nhận.",
        "unsub_ask": "Bạn muốn ngừng nhận thông báo?",
        "unsub_yes": "Hủy nhận tin",
        "unsub_no": "Vẫn nhận",
        "unsub_kept": "Bạn vẫn tiếp tục nhận thông báo.",
        "unsub_done": "Đã hủy: bạn sẽ không nhận thông báo nữa. Gõ /dangky nếu muốn nhận lại.",
        "unsub_none": "Bạn chưa đăng ký nhận thông báo nào. Gõ /dangky để đăng ký.",
    },
    "en": {
        "suggest": "Did you mean:",
        "not_this": "None of these",
        "unknown": (
            "Sorry, I do not have an answer to this yet. "
            "I can pass your question to the community digital team of your ward so that a person answers."
        ),
        "escalate": "Ask a person",
        "related": "See also:",
        "up": "👍 Helpful",
        "down": "👎 Not right",
        "refusal_tail": "I only answer questions about digital transformation, online public services and online safety.",
        "welcome": (
            "Hello! I am the Da Nang Digital Transformation Assistant, run by the city.\n"
            "I answer questions about digital transformation, online public services, VNeID, payments and online safety. "
            "What I cannot answer I pass to the community digital team of your ward.\n"
            "Questions are logged to improve the answers; see /xoadulieu to see and delete your data.\n"
            "Type your question, or pick a topic below."
        ),
        "help": (
            "How to use me:\n"
            "• Type your question in your own words.\n"
            "• /menu: browse topics\n"
            "• /hoi: ask a person (community digital team)\n"
            "• /kiemtra: check whether a strange message is a scam\n"
            "• /khuvuc: choose your ward or commune\n"
            "• /dangky, /huy: subscribe to or stop announcements\n"
            "• /ngonngu: switch Vietnamese / English\n"
            "• /xoadulieu: delete your data\n"
            "• /cancel: stop what you are doing (or tap Cancel)\n"
            "• /trogiup: this help"
        ),
        "menu": "Choose a group of topics:",
        "menu_group": "Choose a question:",
        "back": "« Back",
        "why": "Thank you. What was wrong with the answer?",
        "reasons": {"sai": "Wrong", "thieu": "Incomplete", "kho-hieu": "Hard to understand", "khong-lien-quan": "Off topic"},
        "thanks_up": "Thanks for your rating!",
        "thanks_down": "Thank you. This helps the city fix the answer.",
        "rephrase": "Try asking in another way, or let me pass your question to a person.",
        "ask_area": "Which ward or commune do you live in? Type its name (e.g. Hai Chau, Hoa Vang).",
        "area_choose": "Do you mean:",
        "area_not_found": "I could not find that ward or commune. Please type the name again (e.g. An Hai, Hoi An).",
        "area_saved": "Noted: you live in {area}.",
        "ask_person": "What would you like to ask a person? Type your question.",
        "escalated": (
            "Your question (no. {ticket}) has been passed to {area}. "
            "A team member will answer here, usually during office hours, within about {hours} working hours."
        ),
        "escalated_city": (
            "Your question (no. {ticket}) is recorded. {area} has no community digital team on this assistant yet, "
            "so it goes to the city's staff; the answer will come here and may take a few working days. "
            "If it is urgent, call the hotline on 0236 1022."
        ),
        "no_question": "I have no question of yours to pass on yet. Please type your question first.",
        "lang_choose": "Chọn ngôn ngữ / Choose a language:",
        "lang_set": "Switched to English.",
        "delete_confirm": (
            "Do you really want to delete all your data? I will delete your language, ward, subscriptions, "
            "the link between you and your questions, and the text of questions waiting for a person."
        ),
        "delete_yes": "Delete everything",
        "delete_no": "Keep",
        "deleted": (
            "Your data is deleted: your chat profile, {questions} questions unlinked from you (only anonymous counts remain), "
            "{tickets} waiting questions closed and their text removed."
        ),
        "kept": "Nothing was deleted.",
        "flood": "You are sending messages a little fast. Wait a moment, I am still here.",
        "not_text": "I can only read text messages. Please type your question.",
        "too_long": "Your message is very long; I only read the beginning.",
        "cancel": "Cancel",
        "person_button": "Talk to a person",
        "ask_person_or_last": "Type what you would like to ask a person, or tap the button to pass on your last question: \"{question}\"",
        "pass_last": "Pass on my last question",
        "cancelled": "Cancelled. Type your question, or pick a topic.",
        "topics": "Topics",
        "left_prompt": "I stopped {step}. Here is the reply to your message:",
        "steps": {"area": "asking for your ward", "person": "waiting for your question for a person",
                  "answer": "waiting for the answer to a resident's question", "move": "waiting for the ward to pass the question to",
                  "subscribe": "the subscription (you are not subscribed)", "delete": "deleting your data (nothing was deleted)"},
        "old_one": "The former {old} is now part of {new}. Do you live in {new}? Tap to confirm.",
        "old_many": "The former {old} is now part of {news}. Where do you live? Tap to choose.",
        "old_district": "The former {old} now covers: {news}. Which ward or commune do you live in? Tap to choose, or type the old ward's name.",
        "person_offer": "I can pass your question to a person of the community digital team of your ward. Tap the button below.",
        "sub_topics": "Choose the topics you care about (tap to select or unselect), then tap Agree.",
        "sub_consent": (
            "By tapping \"Agree\", you agree to receive announcements about the city's digital transformation and from the "
            "community digital team of {area} in this chat. You can stop at any time with /huy or the button under each announcement."
        ),
        "sub_all": "All topics",
        "sub_ok": "Agree to receive announcements",
        "sub_done": "Subscribed to announcements for {area}. Type /huy to stop.",
        "unsub_ask": "Do you want to stop receiving announcements?",
        "unsub_yes": "Stop announcements",
        "unsub_no": "Keep receiving",
        "unsub_kept": "You will keep receiving announcements.",
        "unsub_done": "Stopped: you will not receive announcements any more. Type /dangky to subscribe again.",
        "unsub_none": "You have no subscription. Type /dangky to subscribe.",
    },
}


def t(english: bool) -> dict:
    """The wording table for the resident's language."""
    return TEXT["en" if english else "vi"]


def cancel_button(english: bool) -> Button:
    """The "Thôi" / "Cancel" button every prompt carries."""
    return Button(TEXT[_lang(english)]["cancel"], CANCEL)


_EN_START = ("what ", "how ", "where ", "when ", "who ", "which ", "why ", "can ", "do ", "does ", "is ", "are ",
             "should ", "i ")


def question_label(entry: Entry, english: bool = False) -> str:
    """An entry's question as a button label: in English, its first English alternate
    (the knowledge base has no separate English question), else the Vietnamese one."""
    if english:
        for alt in entry.alternates:
            if alt.isascii() and alt.lower().startswith(_EN_START):
                return alt
    return entry.question


def _lang(english: bool) -> str:
    return "en" if english else "vi"


# Placeholders an answer may carry, filled from the live settings where answers are
# rendered, so an answer never repeats a default the deployment has changed.
PLACEHOLDERS = ("retention_days", "retention")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def answer_values(settings: Any, english: bool = False) -> dict[str, str]:
    """The placeholder values for these settings (bot.settings.Settings) and language.
    `{retention_days}`: the days questions are kept; `{retention}`: a whole sentence
    saying so, right also when the retention is off (0: kept until deleted)."""
    days = int(getattr(settings, "question_retention_days", 365))
    if english:
        sentence = (f"Questions are kept for at most {days} days, then only anonymous counts remain." if days
                    else "Questions are kept until you delete them with /xoadulieu.")
    else:
        sentence = (f"Câu hỏi được giữ tối đa {days} ngày, sau đó chỉ còn số đếm không gắn với ai." if days
                    else "Câu hỏi được giữ đến khi bạn xóa bằng lệnh /xoadulieu.")
    return {"retention_days": str(days), "retention": sentence}


def fill(text: str, values: Mapping[str, str] | None) -> str:
    """`text` with every known `{name}` replaced; anything else is left as written."""
    if not values or "{" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def render_entry(entry: Entry, entries: Mapping[str, Entry], english: bool = False, settings: Any = None) -> Reply:
    """An entry's answer with its links, related entries and 👍/👎 buttons; placeholders
    such as `{retention}` are filled from `settings` (the live Settings)."""
    t = TEXT[_lang(english)]
    text = entry.answer_en if english and entry.answer_en else entry.answer
    text = fill(text, answer_values(settings, english) if settings is not None else None)
    buttons = [Button(question_label(entries[r], english), SHOW + r) for r in entry.related[:3] if r in entries and entries[r].status == "published"]
    buttons += [Button(t["up"], f"{RATE}up:{entry.id}"), Button(t["down"], f"{RATE}down:{entry.id}")]
    links = tuple(Link(x["label"], x["url"]) for x in entry.links)
    return Reply(text=text, buttons=tuple(buttons), links=links)


def render_match(m: Match, entries: Mapping[str, Entry], chitchat: Chitchat, english: bool = False,
                 settings: Any = None) -> list[Reply]:
    """The replies for a match decision."""
    t = TEXT[_lang(english)]
    if m.decision == Decision.CHITCHAT and m.chitchat:
        return [Reply(chitchat.reply(m.chitchat, english))]
    if m.decision == Decision.ANSWER and m.entry_id is not None and m.entry_id in entries:
        return [render_entry(entries[m.entry_id], entries, english, settings)]
    if m.decision == Decision.SUGGEST:
        buttons = [Button(question_label(entries[i], english), SHOW + i) for i in m.suggestions if i in entries]
        buttons.append(Button(t["not_this"], NOT_THIS))
        return [Reply(t["suggest"], buttons=tuple(buttons))]
    replies = []
    if m.refusal_id and m.refusal_id in entries:
        refusal = entries[m.refusal_id]
        text = refusal.answer_en if english and refusal.answer_en else refusal.answer
        replies.append(Reply(fill(text, answer_values(settings, english) if settings is not None else None)))
        return replies
    replies.append(Reply(t["unknown"], buttons=(Button(t["escalate"], ESCALATE),)))
    return replies
