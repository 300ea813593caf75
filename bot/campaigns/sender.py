"""The campaign sender: pacing and failure policy. It reaches platforms only through
each channel's `deliver(chat, reply) -> Delivered` and never sees their error codes.

- Pacing: a token bucket per channel at `TELEGRAM_BROADCAST_RATE` / `ZALO_BROADCAST_RATE`
  messages per second, with no initial burst; a resident gets one message per campaign,
  so the 1-per-second-per-chat limit holds by construction.
- RETRY_LATER (429): the whole channel waits `retry_after`, the row is retried then.
  Replies to residents use another connection and are never held up by this.
- TRANSIENT: retried with exponential backoff and jitter, up to `MAX_ATTEMPTS`. A send
  that timed out after it went out (`maybe_delivered`) may have reached the resident: it
  is sent again once at most, then recorded as failed, so a resident sees a campaign
  message at most twice.
- BLOCKED / GONE: the row is `blocked` and the subscription made inactive.
- SKIPPED: the platform's rules forbid it now (Zalo's 7-day window): the row is skipped.
- HALT: the channel cannot send at all (Zalo OA out of quota, not verified, app or OA
  disabled; Telegram token refused): the row stays queued and the campaign pauses, with
  an error in the log for an operator.
- FAILED: recorded with the platform's description. A batch where more than half the
  rows fail pauses the campaign (an operator looks before it goes on).
- On PostgreSQL each channel's sending is serialised across processes by an advisory
  lock taken per batch, so several processes share the work (SKIP LOCKED claims) and
  together stay under the platform's rate: a process keeps the lock until its next slot
  is due, so the next one's first send keeps the spacing (and waits out a 429 pause).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import select, text, update

from bot import metrics
from bot.campaigns import outbox
from bot.campaigns.service import unsubscribe
from bot.channels.base import Button, Delivered, Link, Outcome, Reply
from bot.clock import now as utcnow
from bot.storage.db import Database
from bot.storage.models import Campaign

__all__ = ["Sender", "TokenBucket", "UNSUBSCRIBE"]

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
#: The error a row keeps after a send that may have been delivered (see TRANSIENT above).
MAYBE_DELIVERED = "maybe delivered: "
UNSUBSCRIBE = "u:off"
Deliver = Callable[[str, Reply], Awaitable[Delivered]]


class Halted(Exception):
    """A channel cannot send at all (out of quota, not permitted): the campaign pauses."""


class TokenBucket:
    """`rate` events per second, evenly spaced (no burst at start), pausable.

    One waiter at a time sleeps for the next slot and the slot after it counts from when
    it was granted: waiters that arrive together, or a process that stalled, never send
    two at once to catch up.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()
        self._turn = asyncio.Lock()

    async def wait(self) -> float:
        """Return when the next event may happen; returns that instant (time.monotonic)."""
        async with self._turn:
            while (delay := self.next - time.monotonic()) > 0:
                await asyncio.sleep(delay)  # again if a pause moved the slot meanwhile
            granted = time.monotonic()
            self.next = granted + self.interval
            return granted

    def pause(self, seconds: float) -> None:
        self.next = max(self.next, time.monotonic() + seconds)

    async def settle(self) -> None:
        """Sleep until the next slot is due: whoever sends after this keeps the spacing
        (and a pause), even with a bucket of its own."""
        await asyncio.sleep(max(0.0, self.next - time.monotonic()))


def message(campaign: Campaign) -> Reply:
    links = tuple(Link(x["label"], x["url"]) for x in campaign.links or [])
    return Reply(campaign.text, buttons=(Button("Hủy nhận tin / Unsubscribe", UNSUBSCRIBE),), links=links,
                 image=campaign.image_url)


class Sender:
    """Sends every due campaign through the channels given.

    Parameters:
        db: the database with the outbox.
        channels: channel name → its `deliver` coroutine.
        rates: channel name → messages per second.
        concurrency: messages in flight at once per channel (the bucket still paces them).
    """

    def __init__(self, db: Database, channels: dict[str, Deliver], rates: dict[str, float], concurrency: int = 8) -> None:
        self.db = db
        self.channels = channels
        self.buckets = {name: TokenBucket(rates.get(name, 25.0)) for name in channels}
        self.concurrency = concurrency
        self._stop = asyncio.Event()

    async def run_forever(self, poll: float = 1.0) -> None:
        """Pick up due campaigns (also those created from the command line) until stopped."""
        await outbox.requeue_stale(self.db)
        while not self._stop.is_set():
            try:
                await self.run_once()
            except Exception:
                logger.exception("campaign sender: a round failed; trying again")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), poll)

    def stop(self) -> None:
        self._stop.set()

    async def run_once(self) -> int:
        """Send what is due now; returns the number of messages sent."""
        sent = 0
        async with self.db.session() as session:
            due = (await session.scalars(
                select(Campaign).where(Campaign.state.in_(("scheduled", "sending")), Campaign.scheduled_at <= utcnow())
                .order_by(Campaign.id)
            )).all()
        for campaign in due:
            if campaign.state == "scheduled":
                await outbox.materialise(self.db, campaign)
                await self._set(campaign.id, state="sending", started_at=campaign.started_at or utcnow())
            sent += await self._send_campaign(campaign)
        return sent

    async def _set(self, campaign_id: int, **values: object) -> None:
        c = Campaign.__table__
        async with self.db.engine.begin() as conn:
            await conn.execute(update(c).where(c.c.id == campaign_id).values(**values))

    async def _state(self, campaign_id: int) -> str:
        async with self.db.engine.connect() as conn:
            c = Campaign.__table__
            return str((await conn.execute(select(c.c.state).where(c.c.id == campaign_id))).scalar())

    async def _send_campaign(self, campaign: Campaign) -> int:
        reply = message(campaign)
        sent = 0
        while not self._stop.is_set():
            if await self._state(campaign.id) != "sending":
                return sent  # paused or cancelled between batches
            rows = await outbox.claim_next_batch(self.db, campaign.id)
            if not rows:
                counts = await outbox.counts(self.db, campaign.id)
                if counts["queued"] == 0 and counts["sending"] == 0:
                    await self._set(campaign.id, state="done", finished_at=utcnow())
                return sent  # what is left waits for its not_before time
            by_channel: dict[str, list[outbox.Row]] = {}
            for row in rows:
                by_channel.setdefault(row.channel, []).append(row)
            failures = 0
            for channel, batch in by_channel.items():
                try:
                    async with self._channel_lock(channel) as shared:
                        ok, bad = await self._send_batch(channel, batch, reply)
                        if shared and channel in self.buckets:  # the next holder starts one slot after our last send
                            await self.buckets[channel].settle()
                except Halted as exc:
                    logger.error("campaign %s paused: %s cannot send (%s); resume it once fixed", campaign.id, channel, exc)
                    await self._set(campaign.id, state="paused")
                    return sent
                sent += ok
                failures += bad
            if len(rows) >= 20 and failures * 2 > len(rows):
                logger.error("campaign %s: %s of %s messages failed in one batch; paused", campaign.id, failures, len(rows))
                await self._set(campaign.id, state="paused")
                return sent
        return sent

    async def _send_batch(self, channel: str, rows: list[outbox.Row], reply: Reply) -> tuple[int, int]:
        deliver = self.channels.get(channel)
        if deliver is None:
            # The channel is not configured in this process (no token): the rows wait, they
            # are not failed, and go out once a process with that channel picks them up.
            logger.warning("campaign sender: channel %s is not configured here; %s messages wait", channel, len(rows))
            later = utcnow() + dt.timedelta(minutes=5)
            for row in rows:
                await outbox.mark(self.db, row.id, "queued", f"channel {channel} is not configured", not_before=later)
            return 0, 0
        bucket = self.buckets[channel]
        limit = asyncio.Semaphore(self.concurrency)
        sent_ids: list[int] = []
        halted: list[str] = []
        failures = 0

        async def one(row: outbox.Row) -> None:
            nonlocal failures
            async with limit:
                await bucket.wait()
                result = await deliver(row.chat, reply)
            metrics.CAMPAIGN_MESSAGES.labels(str(row.campaign_id), result.outcome.value).inc()
            if result.outcome == Outcome.SENT:
                sent_ids.append(row.id)
            elif result.outcome == Outcome.RETRY_LATER:
                metrics.RATE_LIMITED.labels(channel, "campaign").inc()
                bucket.pause(result.retry_after)
                await outbox.mark(self.db, row.id, "queued", result.description,
                                  not_before=utcnow() + dt.timedelta(seconds=result.retry_after))
            elif result.outcome == Outcome.TRANSIENT and result.maybe_delivered and row.error.startswith(MAYBE_DELIVERED):
                failures += 1  # the second timeout: never a third copy
                await outbox.mark(self.db, row.id, "failed", f"timed out twice, may have been delivered: {result.description}")
            elif result.outcome == Outcome.TRANSIENT and row.attempts < MAX_ATTEMPTS:
                backoff = min(300.0, 2.0 ** row.attempts) * (0.5 + random.random())
                once = result.maybe_delivered or row.error.startswith(MAYBE_DELIVERED)  # remembered across retries
                error = (MAYBE_DELIVERED if once else "") + result.description
                await outbox.mark(self.db, row.id, "queued", error, not_before=utcnow() + dt.timedelta(seconds=backoff))
            elif result.outcome == Outcome.SKIPPED:
                await outbox.mark(self.db, row.id, "skipped", result.description)
            elif result.outcome == Outcome.HALT:
                halted.append(result.description)
                await outbox.mark(self.db, row.id, "queued", result.description)
            elif result.outcome in (Outcome.BLOCKED, Outcome.GONE):
                await outbox.mark(self.db, row.id, "blocked", result.description)
                if row.resident_id is not None:
                    await unsubscribe(self.db, row.resident_id, reason=result.outcome.value)
            else:
                failures += 1
                await outbox.mark(self.db, row.id, "failed", result.description)

        await asyncio.gather(*(one(row) for row in rows))
        await outbox.mark_many_sent(self.db, sent_ids)
        if halted:
            raise Halted(halted[0])
        return len(sent_ids), failures

    @contextlib.asynccontextmanager
    async def _channel_lock(self, channel: str) -> AsyncIterator[bool]:
        """PostgreSQL: one process at a time sends a batch on this channel; yields whether
        the channel is shared with other processes."""
        if self.db.is_sqlite:
            yield False
            return
        key = int.from_bytes(hashlib.sha256(f"cdsbot-sender:{channel}".encode()).digest()[:8], "big", signed=True)
        async with self.db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            try:
                yield True
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
