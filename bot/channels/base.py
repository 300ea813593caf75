"""The shared vocabulary of every layer: what comes in, what goes out.

`Incoming` is a message or a button press from any channel, already decoded;
`Reply` is what the assistant sends back: text, buttons (payloads handled by
`bot/handlers`), links. Adapters translate between these and their platform.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["APOLOGY", "Button", "Delivered", "Incoming", "Link", "MAX_PAYLOAD_BYTES", "Outcome", "Reply", "replies_or_apology"]

logger = logging.getLogger(__name__)

#: Telegram's `callback_data` is 1-64 bytes (Bot API, InlineKeyboardButton); every channel
#: gets the same short payloads, so a button cannot carry more. The handlers' payloads are a
#: prefix of at most 18 bytes and an id of at most `bot.kb_files.MAX_ID_LENGTH` (40) ASCII
#: characters, so a longer one is a bug, refused here rather than dropped by a channel.
MAX_PAYLOAD_BYTES = 64


@dataclass(frozen=True)
class Button:
    """A choice the resident can tap; `payload` is 1-64 bytes of UTF-8 (Telegram's limit)."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        size = len(self.payload.encode())
        if not 0 < size <= MAX_PAYLOAD_BYTES:
            raise ValueError(f"a button payload must be 1-{MAX_PAYLOAD_BYTES} bytes, this one has {size}: {self.payload[:80]!r}")


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Reply:
    """One message to show the resident."""

    text: str
    buttons: tuple[Button, ...] = ()
    links: tuple[Link, ...] = ()
    image: str | None = None  # an image URL shown with the text as its caption (campaigns)


@dataclass(frozen=True)
class Incoming:
    """A message or button press, from any channel.

    `user` is the platform's id of the person, `chat` where to reply; exactly one of
    `text` and `button` is set.
    """

    channel: str
    user: str
    chat: str
    text: str | None = None
    button: str | None = None
    display_name: str = ""
    meta: dict[str, str] = field(default_factory=dict)


class Outcome(str, Enum):
    """What became of one pushed message; each channel maps its platform's errors here.

    SENT ─ the platform accepted it.
    RETRY_LATER ─ rate-limited: try again after `retry_after` seconds (429).
    TRANSIENT ─ timeout, 5xx, network: try again with backoff. With `maybe_delivered` (a
      read timeout: the platform may have shown it) it is sent again once at most.
    BLOCKED ─ the resident blocked the bot or left (403): stop sending to them.
    GONE ─ the chat does not exist (400 chat not found): stop sending to them.
    FAILED ─ refused for good (e.g. text too long): record the platform's description.
    SKIPPED ─ the platform's rules forbid this message now (Zalo OA: 7-day window closed,
      not a follower, the resident's quota used up): skip it, keep the subscription.
    HALT ─ the sender itself cannot send (Zalo OA: out of quota, not verified, no
      permission, app or OA disabled; Telegram: the bot token refused): pause the
      campaign, keep the message queued, alert an operator.
    """

    SENT = "sent"
    RETRY_LATER = "retry_later"
    TRANSIENT = "transient"
    BLOCKED = "blocked"
    GONE = "gone"
    FAILED = "failed"
    SKIPPED = "skipped"
    HALT = "halt"


@dataclass(frozen=True)
class Delivered:
    outcome: Outcome
    retry_after: float = 0.0
    description: str = ""
    maybe_delivered: bool = False  # the request timed out after it was sent: it may have arrived


#: What a resident is told when handling their message failed (the item is marked failed).
APOLOGY = Reply("Xin lỗi, tôi gặp sự cố khi xử lý tin nhắn này. Bạn thử lại sau ít phút nhé.")


async def replies_or_apology(channel: str, dispatch: Callable[[Incoming], Awaitable[list[Reply]]], msg: Incoming,
                             send: Callable[[str, Reply], Awaitable[object]]) -> list[Reply] | None:
    """The replies to `msg`; or, when handling it failed, None once the failure is logged
    and the resident told to try again (`APOLOGY`). Every channel handles a message so."""
    try:
        return await dispatch(msg)
    except Exception:
        logger.exception("%s: handling a message failed; the resident was told to try again", channel)
        await send(msg.chat, APOLOGY)
        return None
