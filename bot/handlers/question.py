"""Free text: the resident gets an answer, a "did you mean", or an honest "no answer yet"
with a one-tap offer to ask a person. Every question is logged."""

from __future__ import annotations

import logging
import time

from bot import metrics
from bot.channels.base import Incoming, Reply
from bot.conversation import Context, save_resident
from bot.replies import render_match, t
from bot.services.questions import log_question

logger = logging.getLogger(__name__)
MAX_CHARS = 2000  # what is read of a long paste; the rest is ignored


async def handle(msg: Incoming, ctx: Context) -> list[Reply]:
    """Answer a typed question."""
    text = (msg.text or "").strip()
    if not text:
        return [Reply(t(ctx.english)["not_text"])]
    notes: list[Reply] = []
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS]
        notes.append(Reply(t(ctx.english)["too_long"]))
    matcher = await ctx.kb.matcher()
    started = time.perf_counter()
    m = matcher.match(text)
    metrics.MATCH_SECONDS.observe(time.perf_counter() - started)
    metrics.QUESTIONS.labels(msg.channel, m.decision.value).inc()
    # Only at DEBUG, and redacted like every log line (bot/logs.py): numbers never reach the log.
    logger.debug("question %r: %s %s (score %.0f)", text, m.decision.value, m.entry_id or "-", m.score)
    english = ctx.english or m.english
    async with ctx.db.engine.begin() as conn:  # the log row and the state in one transaction
        qid = await log_question(
            conn, channel=msg.channel, user=msg.user, salt=ctx.settings.resident_id_salt,
            match=m, area_code=ctx.resident.area_code,
        )
        state = ctx.state
        if m.decision.value != "chitchat":
            state["last_question"] = {"id": qid, "text": text[:1000], "suggestions": list(m.suggestions)}
        state.pop("pending", None)
        await save_resident(conn, ctx.resident, state=state)
    return notes + render_match(m, ctx.kb.entries, ctx.kb.chitchat, english=english)
