"""Creating and steering campaigns, and the subscriptions they go to.

Campaign states: draft → scheduled → sending → done; `approve` (draft → scheduled, a
city editor approving a team leader's campaign when CAMPAIGN_APPROVAL_REQUIRED is on),
`pause` (scheduled/sending → paused), `resume` (paused → scheduled), `cancel` (any but
done → cancelled; queued rows become skipped). A team leader's campaign may only target
their own area.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from bot.campaigns import outbox
from bot.clock import TZ
from bot.clock import now as utcnow
from bot.storage.db import Database
from bot.storage.models import Area, Campaign, Resident, Subscription

__all__ = ["CampaignError", "create", "get", "list_campaigns", "set_state", "status", "subscribe", "unsubscribe", "resubscribe", "import_subscribers", "subscriber_stats"]

CHANNELS = ("telegram", "zalo", "zalo_oa", "web")
TELEGRAM_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
STATE_NAMES = {"draft": "nháp", "scheduled": "đã lên lịch", "sending": "đang gửi", "paused": "tạm dừng",
               "done": "đã gửi xong", "cancelled": "đã hủy"}
TRANSITIONS = {
    "approve": (("draft",), "scheduled"),
    "pause": (("scheduled", "sending"), "paused"),
    "resume": (("paused",), "scheduled"),
    "cancel": (("draft", "scheduled", "sending", "paused"), "cancelled"),
}


class CampaignError(ValueError):
    """A campaign that may not be created or changed; the message says why."""


async def create(
    db: Database,
    text: str,
    *,
    channels: list[str] | None = None,
    areas: list[str] | None = None,
    topics: list[str] | None = None,
    at: dt.datetime | None = None,
    now: bool = False,
    sender_area: str | None = None,
    created_by: str = "cli",
    image_url: str | None = None,
    links: list[tuple[str, str]] | None = None,
    needs_approval: bool = False,
) -> int:
    """Validate and store a campaign; scheduled when `at` or `now` is given, else a draft."""
    text = text.strip()
    if not text:
        raise CampaignError("nội dung trống (empty text)")
    if len(text) > TELEGRAM_TEXT_LIMIT - 200:
        raise CampaignError(f"nội dung dài {len(text)} ký tự, tối đa {TELEGRAM_TEXT_LIMIT - 200} (text too long for one message)")
    if image_url is not None and not image_url.startswith("https://"):
        raise CampaignError("ảnh phải là địa chỉ https:// (image must be an https URL)")
    if image_url is not None and len(text) > CAPTION_LIMIT:
        raise CampaignError(f"có ảnh thì nội dung tối đa {CAPTION_LIMIT} ký tự (caption limit), đang có {len(text)}")
    for label, url in links or []:
        if not label.strip() or not url.startswith("https://"):
            raise CampaignError(f"liên kết phải có nhãn và địa chỉ https:// (bad link '{label}|{url}')")
    channels = list(dict.fromkeys(channels or []))
    if bad := [c for c in channels if c not in CHANNELS]:
        raise CampaignError(f"kênh không hợp lệ: {', '.join(bad)} (channels: {', '.join(CHANNELS)})")
    areas = list(dict.fromkeys(areas or []))
    if sender_area is not None and areas != [sender_area]:
        raise CampaignError("tổ trưởng chỉ gửi được cho phường, xã của mình (a team leader can send only to their own area)")
    async with db.session() as session, session.begin():
        known = set((await session.scalars(select(Area.code).where(Area.code.in_(areas)))).all()) if areas else set()
        if unknown := [a for a in areas if a not in known]:
            raise CampaignError(f"không có phường, xã: {', '.join(unknown)} (unknown area codes)")
        when = utcnow() if now else (at.astimezone(dt.UTC).replace(tzinfo=None) if at else None)
        state = "scheduled" if when and not (needs_approval and sender_area is not None) else "draft"
        campaign = Campaign(text=text, channels=channels, areas=areas, topics=list(topics or []), sender_area=sender_area,
                            state=state, scheduled_at=when, created_by=created_by, image_url=image_url,
                            links=[{"label": a, "url": b} for a, b in links or []])
        session.add(campaign)
        await session.flush()
        return int(campaign.id)


def parse_time(value: str) -> dt.datetime:
    """An ISO time; without an offset it is Đà Nẵng time (Asia/Ho_Chi_Minh)."""
    t = dt.datetime.fromisoformat(value)
    return t if t.tzinfo else t.replace(tzinfo=TZ)


async def set_state(db: Database, campaign_id: int, action: str, by: str = "cli") -> str:
    allowed, target = TRANSITIONS[action]
    values: dict[str, object] = {"state": target}
    if action == "approve":
        values["approved_by"] = by
    async with db.engine.begin() as conn:
        c = Campaign.__table__
        cond = [c.c.id == campaign_id, c.c.state.in_(allowed)]
        if action in ("approve", "resume"):
            # A draft without a time gets one now; a resumed campaign keeps its time.
            values["scheduled_at"] = func.coalesce(c.c.scheduled_at, utcnow())
        result = await conn.execute(update(c).where(*cond).values(**values))
    if not result.rowcount:
        current = await status(db, campaign_id)
        raise CampaignError(f"chiến dịch {campaign_id} đang ở trạng thái {current['state']}, không thể {action}")
    if action == "cancel":
        await outbox.skip_queued(db, campaign_id)
        await outbox.requeue_stale(db, campaign_id)
        await outbox.skip_queued(db, campaign_id)
    return target


async def status(db: Database, campaign_id: int) -> dict[str, object]:
    async with db.session() as session:
        c = await session.get(Campaign, campaign_id)
    if c is None:
        raise CampaignError(f"không có chiến dịch số {campaign_id} (no such campaign)")
    n = await outbox.counts(db, campaign_id)
    total = sum(n.values())
    done = n["sent"] + n["failed"] + n["blocked"] + n["skipped"]
    elapsed = ((utcnow() - c.started_at).total_seconds() if c.started_at else 0.0)
    rate = n["sent"] / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 else None
    return {"id": c.id, "state": c.state, "total": total, **n, "rate": round(rate, 1),
            "eta_seconds": round(eta) if eta is not None else None, "scheduled_at": c.scheduled_at}


# -- subscriptions -----------------------------------------------------------------


async def subscribe(db: Database, resident_id: int, area_code: str | None, topics: list[str]) -> None:
    async with db.session() as session, session.begin():
        sub = await session.scalar(select(Subscription).where(Subscription.resident_id == resident_id))
        if sub is None:
            session.add(Subscription(resident_id=resident_id, area_code=area_code, topics=topics, active=True))
        else:
            sub.area_code, sub.topics, sub.active = area_code, topics, True
            sub.consented_at, sub.ended_at, sub.end_reason = utcnow(), None, None


async def unsubscribe(db: Database, resident_id: int, reason: str = "unsubscribed") -> bool:
    async with db.engine.begin() as conn:
        s = Subscription.__table__
        result = await conn.execute(
            update(s).where(s.c.resident_id == resident_id, s.c.active.is_(True))
            .values(active=False, ended_at=utcnow(), end_reason=reason)
        )
    return bool(result.rowcount)


async def resubscribe(db: Database, resident_id: int, ended_by: str) -> bool:
    """Make a subscription active again if it ended for `ended_by` (Zalo OA: following
    the OA again restores what unfollowing ended; consent and topics are kept)."""
    async with db.engine.begin() as conn:
        s = Subscription.__table__
        result = await conn.execute(
            update(s).where(s.c.resident_id == resident_id, s.c.active.is_(False), s.c.end_reason == ended_by)
            .values(active=True, ended_at=None, end_reason=None)
        )
    return bool(result.rowcount)


@dataclass(frozen=True)
class SubscriberRow:
    channel: str
    user_id: str
    area: str | None
    topics: list[str]
    consented_at: dt.datetime


def read_subscribers(path: Path, known_areas: set[str],
                     resolve: Callable[[str], list[str]] | None = None) -> list[SubscriberRow]:
    """Validate every row of `channel,user_id,area,topics,consented_at`; raise listing all
    problems. `area` is a code, or (with `resolve`) a name of today or a former name
    ("Thạc Gián") that leads to exactly one unit of today."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CampaignError(f"không đọc được {path}: {exc.strerror}") from exc
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != ["channel", "user_id", "area", "topics", "consented_at"]:
        raise CampaignError(f"{path}:1: tiêu đề phải là channel,user_id,area,topics,consented_at")
    rows, problems = [], []
    for n, rec in enumerate(reader, 2):
        channel, user = (rec["channel"] or "").strip(), (rec["user_id"] or "").strip()
        area = (rec["area"] or "").strip() or None
        try:
            consented = dt.datetime.fromisoformat((rec["consented_at"] or "").strip())
        except ValueError:
            problems.append(f"{path}:{n}: consented_at phải là thời điểm ISO (e.g. 2026-05-01T09:00:00+07:00)")
            continue
        if channel not in CHANNELS:
            problems.append(f"{path}:{n}: channel phải là {', '.join(CHANNELS)}")
        elif not user:
            problems.append(f"{path}:{n}: thiếu user_id")
        elif area is not None and area not in known_areas and len(meant := (resolve(area) if resolve else [])) != 1:
            if meant:
                problems.append(f"{path}:{n}: '{area}' cũ nay thuộc nhiều đơn vị ({', '.join(meant)}): ghi mã của một đơn vị")
            else:
                problems.append(f"{path}:{n}: không có phường, xã mã '{area}'")
        else:
            if consented.tzinfo:
                consented = consented.astimezone(dt.UTC).replace(tzinfo=None)
            if area is not None and area not in known_areas and resolve is not None:
                area = resolve(area)[0]
            topics = [t.strip() for t in (rec["topics"] or "").split(";") if t.strip()]
            rows.append(SubscriberRow(channel, user, area, topics, consented))
    if problems:
        raise CampaignError("\n".join(problems))
    return rows


async def import_subscribers(db: Database, path: Path, old_units_path: Path | None = None) -> int:
    """Import consented subscribers; an area may be given by a name or a former name."""
    from bot.services import old_units
    from bot.services.areas import list_areas

    areas = await list_areas(db)
    known = {a.code for a in areas}
    units = await old_units.current(db, old_units_path) if old_units_path is not None else []

    def resolve(typed: str) -> list[str]:
        return [a.code for a in old_units.resolve(typed, areas, units)]

    rows = read_subscribers(path, known, resolve)  # nothing is imported when a row is wrong
    async with db.session() as session, session.begin():
        for row in rows:
            resident = await session.scalar(
                select(Resident).where(Resident.channel == row.channel, Resident.platform_user_id == row.user_id)
            )
            if resident is None:
                resident = Resident(channel=row.channel, platform_user_id=row.user_id, area_code=row.area, state={})
                session.add(resident)
                await session.flush()
            resident.consent_subscribe_at = row.consented_at
            sub = await session.scalar(select(Subscription).where(Subscription.resident_id == resident.id))
            if sub is None:
                session.add(Subscription(resident_id=resident.id, area_code=row.area, topics=row.topics,
                                         consented_at=row.consented_at, active=True))
            else:
                sub.area_code, sub.topics, sub.active, sub.consented_at = row.area, row.topics, True, row.consented_at
    return len(rows)


async def subscriber_stats(db: Database) -> dict[str, Any]:
    async with db.session() as session:
        by_area = (await session.execute(
            select(Subscription.area_code, func.count()).where(Subscription.active.is_(True)).group_by(Subscription.area_code)
        )).all()
        inactive = (await session.execute(
            select(Subscription.end_reason, func.count()).where(Subscription.active.is_(False)).group_by(Subscription.end_reason)
        )).all()
    return {"active": sum(int(n) for _, n in by_area), "by_area": {a or "-": int(n) for a, n in by_area},
            "inactive": {r or "-": int(n) for r, n in inactive}}


async def questions_after(db: Database, campaign_id: int, salt: str, hours: int = 72) -> dict[str, int]:
    """Questions asked by the campaign's audience in the `hours` after it started, by
    matched entry ("-" for those the knowledge base could not answer): where a campaign
    raises questions the knowledge base cannot answer, an editor sees where to add."""
    from bot.pseudonyms import resident_hash
    from bot.storage.models import OutboxItem, QuestionLog

    async with db.session() as session:
        c = await session.get(Campaign, campaign_id)
        if c is None or c.started_at is None:
            return {}
        audience = (await session.execute(
            select(OutboxItem.channel, OutboxItem.chat).where(OutboxItem.campaign_id == campaign_id)
        )).all()
        hashes = [resident_hash(ch, chat, salt) for ch, chat in audience]
        out: dict[str, int] = {}
        for start in range(0, len(hashes), 1000):
            rows = (await session.execute(
                select(QuestionLog.entry_id, QuestionLog.decision, func.count())
                .where(QuestionLog.resident_hash.in_(hashes[start : start + 1000]),
                       QuestionLog.asked_at >= c.started_at,
                       QuestionLog.asked_at <= c.started_at + dt.timedelta(hours=hours))
                .group_by(QuestionLog.entry_id, QuestionLog.decision)
            )).all()
            for entry, decision, n in rows:
                key = entry if decision == "answer" and entry else "-"
                out[key] = out.get(key, 0) + int(n)
    return out


async def get(db: Database, campaign_id: int) -> Campaign | None:
    async with db.session() as session:
        return await session.get(Campaign, campaign_id)


async def list_campaigns(db: Database, sender_area: str | None = None, limit: int = 200) -> list[Campaign]:
    """The latest campaigns, newest first; with `sender_area`, only that area's team's."""
    query = select(Campaign).order_by(Campaign.id.desc()).limit(limit)
    if sender_area is not None:
        query = query.where(Campaign.sender_area == sender_area)
    async with db.session() as session:
        return list((await session.scalars(query)).all())
