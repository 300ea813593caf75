"""Leaving what the assistant is waiting for. Every prompt (a ward, a question for a
person, a team's answer, a transfer, the subscription steps, the data deletion) can be
left: a command or another button drops it (the dispatcher does that), the "Thôi" /
"Cancel" button and the words "thôi", "hủy", "không" leave it, and a message that is
clearly a question is answered, telling the resident the earlier step was cancelled."""

from __future__ import annotations

from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context, save_resident
from bot.handlers.phrases import asks_for_person
from bot.handlers.phrases import key as _key
from bot.replies import ESCALATE, t

__all__ = ["KEYS", "is_cancel", "drop", "cancel", "leave_and_answer", "looks_like_question"]

# Everything a prompt keeps in the conversation state.
KEYS = ("pending", "after_area", "move_ticket", "answer_ticket", "sub_topics", "area_options")

_CANCEL = {
    "thoi", "huy", "khong", "huy bo", "thoi khong", "thoi khoi", "khong can", "thoi khong can", "bo qua", "thoi nhe",
    "thoi a", "thoi nha", "khong a", "khong nhe", "khong can nua", "thoi bo qua", "dung lai", "quay lai", "tro lai",
    "cancel", "stop", "no", "quit", "exit", "back", "never mind", "nevermind",
}
_YES = {"co", "dung", "dung roi", "phai", "phai roi", "u", "uh", "vang", "da", "da phai", "da dung", "ok", "oke", "yes", "yep"}


def is_cancel(text: str | None) -> bool:
    return _key(text).removeprefix("/") in _CANCEL


def is_yes(text: str | None) -> bool:
    return _key(text) in _YES


async def drop(ctx: Context) -> str | None:
    """Forget the prompt (if any); returns what was being waited for."""
    state = ctx.state
    pending = state.get("pending")
    if not any(k in state for k in KEYS):
        return None
    for k in KEYS:
        state.pop(k, None)
    await save_resident(ctx.db, ctx.resident, state=state)
    return pending


async def cancel(msg: Incoming, ctx: Context) -> list[Reply]:
    """The "Thôi" button, "thôi"/"hủy"/"không", or /huy while a prompt waits."""
    words = t(ctx.english)
    dropped = await drop(ctx)
    if dropped == "delete":
        return [Reply(words["kept"])]
    return [Reply(words["cancelled"], buttons=(Button(words["topics"], "m:"), Button(words["escalate"], ESCALATE)))]


async def leave_and_answer(msg: Incoming, ctx: Context) -> list[Reply]:
    """A question typed while a prompt waited: drop the prompt, say so, answer it."""
    from bot.handlers import question

    dropped = await drop(ctx)
    words = t(ctx.english)
    intent = _small_talk(msg.text)
    if intent and intent in ctx.kb.chitchat.intents:
        replies = [Reply(ctx.kb.chitchat.reply(intent, ctx.english))]
    else:
        replies = await question.handle(msg, ctx)
    if dropped:
        step = words["steps"].get(dropped, words["steps"]["area"])
        replies.insert(0, Reply(words["left_prompt"].format(step=step)))
    return replies


def _small_talk(text: str | None) -> str | None:
    """Thanks or goodbye said at a prompt ("cảm ơn nghe", "thôi chào nhé")."""
    key = _key(text)
    if key.startswith(("cam on", "thank", "ok cam on")):
        return "thanks"
    if key.startswith(("tam biet", "bye", "goodbye", "chao nhe", "thoi chao")):
        return "goodbye"
    return None


async def looks_like_question(text: str, ctx: Context) -> bool:
    """Clearly a question (not a misspelt name): a question mark, a sentence, or
    something the knowledge base answers, suggests for, or takes as small talk."""
    if "?" in text or len(text.split()) >= 5 or asks_for_person(text):
        return True
    if _small_talk(text):
        return True
    m = await ctx.kb.match(text)
    if m.decision.value == "suggest":  # a single vague word ("hòa") is more likely a name
        return len(text.split()) >= 3 or m.score >= 80
    # A particle or a letter alone ("a", "hả": the "unclear" small talk) is no question either.
    return m.decision.value == "answer" or (m.decision.value == "chitchat" and m.chitchat != "unclear")
