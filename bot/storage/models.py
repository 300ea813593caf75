"""The database tables (SQLAlchemy 2 declarative models).

The schema is created and changed only by Alembic migrations (`bot/migrations/`);
`tests/test_storage.py` checks that the migrations produce exactly these models.
Personal data is kept to the least needed: the question log holds a salted hash of the
resident, never the platform id; residents hold what the conversation needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.clock import now as utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    # Every model here maps one Table; saying so lets Core statements (insert, update) on
    # `Model.__table__` type-check.
    __table__: ClassVar[Table]


class KbGroup(Base):
    """A menu group of entries (one file in `knowledge/entries/`)."""

    __tablename__ = "kb_groups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    pillar: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)


class KbEntry(Base):
    """A knowledge-base entry. Only `published` entries are matched."""

    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(ForeignKey("kb_groups.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="faq")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    question: Mapped[str] = mapped_column(Text)
    alternates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    answer_en: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    related: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    review_by: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # facts to check again by then
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    # A pending edit of a published entry: {"group": ..., "entry": Entry.to_dict()}. The
    # fields above stay what residents get until the draft is published.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    draft_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    draft_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class KbHistory(Base):
    """Every change of an entry: who, when, what it was before and after."""

    __tablename__ = "kb_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(64), index=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))  # create | update | publish | archive | import | draft | discard[:import|:status]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class KbMeta(Base):
    """One row: the knowledge base's revision, bumped on every change so that every
    process rebuilds its matcher without a restart."""

    __tablename__ = "kb_meta"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class Area(Base):
    """A commune-level unit (phường, xã, đặc khu) of the city."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # phuong | xa | dac-khu
    name: Mapped[str] = mapped_column(String(200))


class Resident(Base):
    """A resident as one chat account on one channel."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id", name="uq_resident_channel_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(2), default="vi")
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), nullable=True)
    source: Mapped[str | None] = mapped_column(String(64), nullable=True)  # deep-link code
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    consent_log_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    consent_subscribe_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    # Conversation state: what the assistant is waiting for (e.g. the ward name before
    # passing a question on), and the last question asked.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Messages wait for this resident in `deliveries` (handed over with their next message).
    waiting: Mapped[bool] = mapped_column(Boolean, default=False)
    # Zalo OA: the last event from the resident (messages may be sent for 7 days after
    # it) and whether they follow the OA (promotion messages reach only followers).
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    follower: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Bumped by every write of the conversation state: a write based on an older read is
    # refused (compare-and-set, `bot/conversation.py`) and the message handled again.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class QuestionLog(Base):
    """Every question asked, for reports and for improving the knowledge base."""

    __tablename__ = "question_log"
    __table_args__ = (Index("ix_question_log_asked_at", "asked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    resident_hash: Mapped[str] = mapped_column(String(64), index=True)
    normalized: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    score: Mapped[float] = mapped_column(Float)
    suggestions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    area_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str] = mapped_column(String(2), default="vi")
    feedback: Mapped[str | None] = mapped_column(String(16), nullable=True)  # up | down:<reason>


class Ticket(Base):
    """A question passed to a person of the resident's Tổ CNS (or the city)."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(128))  # where the answer goes back
    area_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    question: Mapped[str] = mapped_column(Text)
    suggestions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the assistant's best guesses
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # see bot/services/teams.py
    display_name: Mapped[str] = mapped_column(String(100), default="")  # what team members see of the resident
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True, index=True)  # None: the city
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("team_members.id", ondelete="SET NULL"), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("team_members.id", ondelete="SET NULL"), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    proposed_entry_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The admin-site account (team member, leader or city staff) that claimed / answered
    # from the web inbox; claimed_by / answered_by stay for chat members.
    claimed_by_user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answered_by_user: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AdminUser(Base):
    """An account of the admin site."""

    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # admin | editor | team-leader | team-member
    area_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Sessions carry the version they signed in with; signing out or a new password bumps
    # it, which ends every session of the account (admin/guard.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditLog(Base):
    """Who changed what in the admin site, when, and the values before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. account.create, kb.publish
    target: Mapped[str] = mapped_column(String(200))  # e.g. account:lan, entry:vneid-la-gi
    before: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    after: Mapped[Any | None] = mapped_column(JSON, nullable=True)


class InboxItem(Base):
    """An update received from a platform, stored before it is confirmed to the platform
    (the polling offset moves on, or the webhook answers 2xx) and processed from here,
    so a crash never loses a resident's message and a replay is never answered twice."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external"),
                      Index("ix_inbox_resident_order", "channel", "resident", "status", "seq"),
                      Index("ix_inbox_channel_seq", "channel", "seq"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)  # received | done | failed
    # Whose it is (the platform's user id) and the platform's order (Telegram's update_id,
    # Zalo's event time in ms): a resident's items are handled one at a time in this order.
    resident: Mapped[str | None] = mapped_column(String(128), nullable=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Team(Base):
    """The Tổ Công nghệ số cộng đồng of one area."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TeamMember(Base):
    """A chat account (Telegram or Zalo) that belongs to a team."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id", name="uq_member_channel_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    chat: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16), default="member")  # leader | member
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TeamInvite(Base):
    """A one-time code that links a chat account to a team (`/thamgia <code>`)."""

    __tablename__ = "team_invites"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # None: made before codes expired


class Delivery(Base):
    """A message for a resident that the channel cannot push (the web chat fetches them)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ChatHistory(Base):
    """The web chat's conversation, shown again after a reload: the resident's messages
    and the assistant's replies, in order. Kept as long as the question log
    (QUESTION_RETENTION_DAYS) and deleted with the resident (/xoadulieu)."""

    __tablename__ = "chat_history"
    __table_args__ = (Index("ix_chat_history_chat", "channel", "chat", "id"),
                      Index("ix_chat_history_created_at", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(128))
    sender: Mapped[str] = mapped_column(String(16))  # resident | assistant
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OldUnitsFile(Base):
    """One row: the old-units CSV an admin uploaded (it replaces knowledge/old-units.csv)."""

    __tablename__ = "old_units_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(100), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Subscription(Base):
    """A resident's consent to receive announcements, for an area and some topics."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), unique=True)
    area_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)  # menu group ids; empty: all topics
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # unsubscribed | blocked | gone


class Campaign(Base):
    """An announcement to opted-in residents."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: every channel
    areas: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: every area
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: every topic
    sender_area: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: the city
    state: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)  # when approval is required
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class OutboxItem(Base):
    """One message of a campaign to one resident: the unique key makes it exactly one."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "resident_id", name="uq_outbox_campaign_resident"),
        # Claiming walks this index in id order: no sort of the whole queue per batch.
        Index("ix_outbox_campaign_status_id", "campaign_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|sending|sent|failed|blocked|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # retry after this time
    error: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ZaloOAToken(Base):
    """The Zalo OA's current OAuth tokens (one row). Refresh tokens are single-use and
    rotated: a refresh writes both new tokens in one UPDATE guarded by `version`."""

    __tablename__ = "zalo_oa_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)  # None: unknown (seeded)
    seed_hash: Mapped[str] = mapped_column(String(64))  # of the settings' tokens this row started from
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReportQuestionsDaily(Base):
    """Questions of one day (Đà Nẵng time) after their log rows were purged
    (QUESTION_RETENTION_DAYS): anonymous counts in the shape the reports read."""

    __tablename__ = "report_questions_daily"
    __table_args__ = (
        UniqueConstraint("day", "channel", "area_code", "decision", "entry_id", name="uq_report_questions_daily"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(String(64), default="")  # "": area not known
    decision: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[str] = mapped_column(String(64), default="")  # "": no entry
    questions: Mapped[int] = mapped_column(Integer, default=0)
    rated_up: Mapped[int] = mapped_column(Integer, default=0)
    rated_down: Mapped[int] = mapped_column(Integer, default=0)


class ReportResidentsDaily(Base):
    """Residents who wrote on one day, per channel and area, after the purge (a count, no ids)."""

    __tablename__ = "report_residents_daily"
    __table_args__ = (UniqueConstraint("day", "channel", "area_code", name="uq_report_residents_daily"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str] = mapped_column(String(64), default="")
    residents: Mapped[int] = mapped_column(Integer, default=0)


class ReportGapsDaily(Base):
    """Questions the knowledge base could not answer on one day, by their normalised
    (already masked) text, after the purge: what the gaps list of old periods shows."""

    __tablename__ = "report_gaps_daily"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    area_code: Mapped[str] = mapped_column(String(64), default="")
    normalized: Mapped[str] = mapped_column(Text)
    questions: Mapped[int] = mapped_column(Integer, default=0)


class RateCounter(Base):
    """Events counted for a limit in one time window (login failures, web-chat requests,
    team-code attempts), shared by every worker and kept across restarts (bot/ratelimit.py)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # limit name, subject, window number
    hits: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class ScamCheck(Base):
    """One message checked for scam signs (bot/scamcheck): counts for the city's reports.
    No text of the message is kept, so nothing of it (no number) can leak from here."""

    __tablename__ = "scam_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))  # scam | suspicious | no_signs
    kind: Mapped[str] = mapped_column(String(32))  # bot.scamcheck.kinds
    signs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)


class ScamList(Base):
    """An editor's version of one of the scam checker's lists (official domains, known-bad
    domains, shorteners, platforms, imitated names, and the phrase lists of
    bot/scamcheck/phrases.py); it replaces the file's list. Who changed what is in the
    audit log."""

    __tablename__ = "scam_lists"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    items: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
