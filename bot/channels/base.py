"""The shared vocabulary of every layer: what comes in, what goes out.

`Incoming` is a message or a button press from any channel, already decoded;
`Reply` is what the assistant sends back: text, buttons (payloads handled by
`bot/handlers`), links. Adapters translate between these and their platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = ["Button", "Delivered", "Incoming", "Link", "Outcome", "Reply"]


@dataclass(frozen=True)
class Button:
    """A choice the resident can tap; `payload` is short (Telegram allows 64 bytes)."""

    label: str
    payload: str


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
    TRANSIENT ─ timeout, 5xx, network: try again with backoff.
    BLOCKED ─ the resident blocked the bot or left (403): stop sending to them.
    GONE ─ the chat does not exist (400 chat not found): stop sending to them.
    FAILED ─ refused for good (e.g. text too long): record the platform's description.
    SKIPPED ─ the platform's rules forbid this message now (Zalo OA: 7-day window closed,
      not a follower, the resident's quota used up): skip it, keep the subscription.
    HALT ─ the sender itself cannot send (Zalo OA: out of quota, not verified, no
      permission): pause the campaign, keep the message queued, alert an operator.
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
