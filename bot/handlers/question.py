"""Free text: the resident gets an answer, a "did you mean", or an honest "no answer yet"
with a one-tap offer to ask a person. Every question is logged."""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.channels.base import Button, Incoming, Reply
from bot.conversation import Context
from bot.handlers.phrases import asks_for_person
from bot.replies import ESCALATE, render_match, t
from bot.services.questions import log_question

logger = logging.getLogger(__name__)
MAX_CHARS = 2000  # what is read of a long paste; the rest is ignored


async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
    """Answer a typed question."""
    text = (msg.text or "").strip()
    if not text:
        return [Reply(t(ctx.english)["not_text"])]
    if asks_for_person(text):
        # "gặp người thật", "cho tôi nói chuyện với cán bộ": the one-tap offer, no command to type.
        words = t(ctx.english)
        return [Reply(words["person_offer"], buttons=(Button(words["escalate"], ESCALATE),))]
    notes: list[Reply] = []
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        notes.append(Reply(t(ctx.english)["too_long"]))
    started = time.perf_counter()
    m = await ctx.kb.match(text)
    metrics.MATCH_SECONDS.observe(time.perf_counter() - started)
    metrics.QUESTIONS.labels(msg.channel, m.decision.value).inc()
    # Only at DEBUG, and redacted like every log line (bot/logs.py): numbers never reach the log.
    logger.debug("question %r: %s %s (score %.0f)", text, m.decision.value, m.entry_id or "-", m.score)
    english = ctx.english or m.english
    remember = None
    if m.decision.value != "chitchat":
        remember = {"text": text[:1000], "suggestions": list(m.suggestions)}
    state = ctx.state
    state.pop("pending", None)
    # The log row and the new state in one transaction (group-committed with other questions).
    await log_question(ctx.db, channel=msg.channel, user=msg.user, salt=ctx.settings.resident_id_salt, match=m,
                       area_code=ctx.resident.area_code, resident=ctx.resident, state=state, remember=remember)
    return notes + render_match(m, ctx.kb.entries, ctx.kb.chitchat, english=english, settings=ctx.settings)
