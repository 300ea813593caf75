"""What the resident reads for each decision: the wording of answers, suggestions,
"no answer yet" and small talk, in Vietnamese or English. Channel-agnostic."""

from __future__ import annotations

from collections.abc import Mapping

from bot.channels.base import Button, Link, Reply
from bot.chitchat import Chitchat
from bot.kb_files import Entry
from bot.matcher import Decision, Match

__all__ = ["render_match", "render_entry", "TEXT"]

# Button payload prefixes (handlers in bot/handlers route on them).
SHOW = "e:"  # show an entry: e:<id>
RATE = "r:"  # rate an answer: r:up:<id> | r:down:<id>
ESCALATE = "h:ask"  # pass the last question to a person
NOT_THIS = "s:none"  # none of the suggestions

TEXT = {
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
    },
}


def _lang(english: bool) -> str:
    return "en" if english else "vi"


def render_entry(entry: Entry, entries: Mapping[str, Entry], english: bool = False) -> Reply:
    """An entry's answer with its links, related entries and 👍/👎 buttons."""
    t = TEXT[_lang(english)]
    text = entry.answer_en if english and entry.answer_en else entry.answer
    buttons = [Button(entries[r].question, SHOW + r) for r in entry.related[:3] if r in entries and entries[r].status == "published"]
    buttons += [Button(t["up"], f"{RATE}up:{entry.id}"), Button(t["down"], f"{RATE}down:{entry.id}")]
    links = tuple(Link(x["label"], x["url"]) for x in entry.links)
    return Reply(text=text, buttons=tuple(buttons), links=links)


def render_match(m: Match, entries: Mapping[str, Entry], chitchat: Chitchat, english: bool = False) -> list[Reply]:
    """The replies for a match decision."""
    t = TEXT[_lang(english)]
    if m.decision == Decision.CHITCHAT and m.chitchat:
        return [Reply(chitchat.reply(m.chitchat, english))]
    if m.decision == Decision.ANSWER and m.entry_id in entries:
        return [render_entry(entries[m.entry_id], entries, english)]
    if m.decision == Decision.SUGGEST:
        buttons = [Button(entries[i].question, SHOW + i) for i in m.suggestions if i in entries]
        buttons.append(Button(t["not_this"], NOT_THIS))
        return [Reply(t["suggest"], buttons=tuple(buttons))]
    replies = []
    if m.refusal_id and m.refusal_id in entries:
        refusal = entries[m.refusal_id]
        replies.append(Reply(refusal.answer_en if english and refusal.answer_en else refusal.answer))
        return replies
    replies.append(Reply(t["unknown"], buttons=(Button(t["escalate"], ESCALATE),)))
    return replies
