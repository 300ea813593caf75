"""Every Prometheus metric the assistant exposes at GET /metrics, defined in one place.

Counters and the histogram are counted by this process as things happen (sum them over
workers); the `*_backlog`, `tickets_open*` gauges are read from the database at each
scrape, so every worker reports the same value (take `max` over workers). Labels never
hold resident data: only channel names, decisions, error classes, campaign ids and age
ranges.

Who counts what:
- `bot/handlers/question.py`: questions and match latency;
- the channels (`telegram`, `zalo_bot`, `web`): replies sent / failed, 429s, channel health;
- `bot/campaigns/sender.py`: campaign messages by outcome, 429s;
- `bot/app.py` (`/metrics`): the backlogs and open tickets, just before rendering.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, disable_created_metrics, generate_latest

__all__ = [
    "CONTENT_TYPE", "QUESTIONS", "MATCH_SECONDS", "REPLIES_SENT", "REPLIES_FAILED", "RATE_LIMITED",
    "CAMPAIGN_MESSAGES", "INBOX_BACKLOG", "INBOX_UNDECODABLE", "OUTBOX_BACKLOG", "TICKETS_OPEN", "TICKET_OLDEST_SECONDS",
    "CHANNEL_LAST_SUCCESS", "CHANNEL_FAILURES", "CHANNEL_CONSECUTIVE_FAILURES", "TICKET_AGES",
    "declare_channel", "render", "set_backlogs",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
disable_created_metrics()  # no `*_created` series beside every counter: they only add noise here

QUESTIONS = Counter("cdsbot_questions", "Questions answered, by channel and decision (answer, suggest, unknown, chitchat)",
                    ["channel", "decision"])
MATCH_SECONDS = Histogram("cdsbot_match_duration_seconds", "Time to match one question against the knowledge base (with the wait for the match worker)",
                          buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
REPLIES_SENT = Counter("cdsbot_replies_sent", "Replies to residents delivered, by channel", ["channel"])
REPLIES_FAILED = Counter("cdsbot_replies_failed", "Replies to residents not delivered, by channel and error class "
                         "(blocked, gone, rate_limited, network, refused)", ["channel", "error"])
RATE_LIMITED = Counter("cdsbot_rate_limited", "HTTP 429 (too many requests) answers received from a platform, "
                       "by channel and path (reply, campaign, poll)", ["channel", "path"])
CAMPAIGN_MESSAGES = Counter("cdsbot_campaign_messages", "Campaign messages attempted, by campaign and outcome "
                            "(sent, retry_later, transient, blocked, gone, failed)", ["campaign", "outcome"])
CHANNEL_LAST_SUCCESS = Gauge("cdsbot_channel_last_success_timestamp_seconds",
                             "Unix time of the channel's last successful poll or webhook call", ["channel"])
CHANNEL_FAILURES = Counter("cdsbot_channel_receive_failures", "Failed polls of a channel, by error class", ["channel", "error"])
CHANNEL_CONSECUTIVE_FAILURES = Gauge("cdsbot_channel_consecutive_failures",
                                     "Polls of a channel that failed in a row since its last success", ["channel"])
INBOX_UNDECODABLE = Counter("cdsbot_inbox_undecodable", "Received items that could not be decoded, marked failed "
                            "and skipped, by channel", ["channel"])
STALE_RETRIES = Counter("cdsbot_stale_state_retries", "Messages handled again because the resident's state changed "
                        "between its read and its write (compare-and-set refused)")
INBOX_BACKLOG = Gauge("cdsbot_inbox_backlog", "Messages received and not yet answered, by channel", ["channel"])
OUTBOX_BACKLOG = Gauge("cdsbot_outbox_backlog", "Campaign messages queued or being sent, by campaign", ["campaign"])
TICKETS_OPEN = Gauge("cdsbot_tickets_open", "Questions waiting for a Tổ CNS (open or claimed), by age", ["age"])
TICKET_OLDEST_SECONDS = Gauge("cdsbot_ticket_oldest_open_age_seconds", "Age of the oldest question waiting for a Tổ CNS")

#: Age ranges of open tickets: label → upper bound in hours (None: no bound).
TICKET_AGES: list[tuple[str, float | None]] = [("0-1h", 1), ("1-8h", 8), ("8-24h", 24), ("1-7d", 168), ("7d+", None)]


REPLY_ERRORS = ("blocked", "gone", "rate_limited", "network", "refused")
PATHS = ("reply", "campaign", "poll")


def declare_channel(channel: str) -> None:
    """Show a configured channel's series at 0 from the start, so an alert on a rate or
    an increase has something to compare with before the first failure."""
    REPLIES_SENT.labels(channel)
    INBOX_UNDECODABLE.labels(channel)
    for error in REPLY_ERRORS:
        REPLIES_FAILED.labels(channel, error)
    for path in PATHS:
        RATE_LIMITED.labels(channel, path)


def set_backlogs(inbox: Mapping[str, int], outbox: Mapping[int, int], ticket_ages_hours: list[float]) -> None:
    """Set the database-read gauges (called by /metrics just before `render`)."""
    INBOX_BACKLOG.clear()
    for channel, n in inbox.items():
        INBOX_BACKLOG.labels(channel).set(n)
    OUTBOX_BACKLOG.clear()
    for campaign, n in outbox.items():
        OUTBOX_BACKLOG.labels(str(campaign)).set(n)
    counts = {label: 0 for label, _ in TICKET_AGES}
    for hours in ticket_ages_hours:
        label = next(label for label, bound in TICKET_AGES if bound is None or hours < bound)
        counts[label] += 1
    for label, n in counts.items():
        TICKETS_OPEN.labels(label).set(n)
    TICKET_OLDEST_SECONDS.set(max(ticket_ages_hours, default=0.0) * 3600)


def render() -> bytes:
    """The Prometheus text format of every metric (and the process's own: CPU, memory, fds)."""
    return generate_latest()
