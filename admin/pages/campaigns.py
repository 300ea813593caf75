"""Campaigns: compose with a preview per channel and the audience size, schedule,
pause, resume, cancel, approve, live progress and results.

Editors and admins send city campaigns and approve teams' campaigns (when
CAMPAIGN_APPROVAL_REQUIRED is on); a team leader sends only to their own area and sees
only their area's campaigns: the area comes from the session, never from the form.
The rules themselves (limits, states, audience) live in bot/campaigns/.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from admin.audit import record
from admin.context import assistant
from admin.guard import CITY, EVERYONE, TEAM_LEADER, User, require
from admin.render import NavItem, flash, render, render_error, url
from bot import clock
from bot.campaigns import outbox, service
from bot.campaigns.sender import message
from bot.channels.zalo_bot import render as zalo_text
from bot.channels.zalo_oa import promotion as zalo_promotion
from bot.kb_rules import allowed_domains
from bot.services import old_units
from bot.storage.models import Area, Campaign, KbGroup

__all__ = ["ROUTES", "NAV"]

STATES = service.STATE_NAMES
ACTIONS = {"approve": "Duyệt và gửi", "pause": "Tạm dừng", "resume": "Tiếp tục", "cancel": "Hủy chiến dịch"}
CHANNELS = {"telegram": "Telegram", "zalo": "Zalo (bot)", "zalo_oa": "Zalo OA", "web": "Trò chuyện trên web"}


def _assistant(request: Request):
    return assistant(request)


def previews(text: str, image_url: str | None, links: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """What each channel would show, from the same message the sender sends."""
    reply = message(Campaign(text=text, image_url=image_url or None, links=[{"label": a, "url": b} for a, b in links]))
    return {
        "telegram": {"text": reply.text, "image": reply.image, "links": reply.links, "buttons": [b.label for b in reply.buttons]},
        # Zalo's Bot Platform has no buttons and sends no image with the text: links go in the text.
        "zalo": {"text": zalo_text(reply)[0], "image": None, "links": (), "buttons": [],
                 "note": "Zalo không gửi kèm ảnh." if reply.image else ""},
        # The Zalo OA sends a promotion (banner, header, text, buttons) or a consultation
        # message, by the resident's last message and whether they follow the OA.
        "zalo_oa": {"text": "\n".join(str(e.get("content", "")) for e in zalo_promotion(reply)["attachment"]["payload"]["elements"]
                                       if e.get("type") != "banner"),
                    "image": reply.image, "links": (), "buttons": [b.label for b in reply.buttons]},
        "web": {"text": reply.text, "image": reply.image, "links": reply.links, "buttons": [b.label for b in reply.buttons]},
    }


def _links(raw: str) -> list[tuple[str, str]]:
    out = []
    for line in raw.splitlines():
        if line.strip():
            label, _, link = line.partition("|")
            out.append((label.strip(), link.strip()))
    return out


def _draft(form: FormData, user: User) -> dict[str, Any]:
    """The compose form as values (kept as typed, so nothing is lost on an error)."""
    return {
        "text": str(form.get("text", "")), "image_url": str(form.get("image_url", "")).strip(),
        "links_raw": str(form.get("links", "")), "channels": [str(c) for c in form.getlist("channels") if c in CHANNELS],
        "areas": [user.area] if user.role == TEAM_LEADER else [str(a) for a in form.getlist("areas") if a],
        "topics": [str(t) for t in form.getlist("topics") if t], "when": str(form.get("when", "draft")),
        "at": str(form.get("at", "")),
    }


async def _choices(request: Request) -> dict[str, Any]:
    async with _assistant(request).db.session() as session:
        areas = (await session.execute(select(Area.code, Area.name).order_by(Area.name))).all()
        topics = (await session.execute(select(KbGroup.id, KbGroup.title).order_by(KbGroup.position))).all()
    # Each ward shown with the former units it took in (1 July 2025), so an editor who
    # thinks in old names ("Thạc Gián") finds "Phường Thanh Khê".
    a = _assistant(request)
    units = await old_units.current(a.db, a.settings.knowledge_dir / "old-units.csv")
    former = {code: ", ".join(u.name for u in found) for code, found in old_units.names_by_area(units).items()}
    labelled = [(code, f"{name} (cũ: {former[code]})" if former.get(code) else name) for code, name in areas]
    return {"all_areas": labelled, "all_topics": topics, "all_channels": CHANNELS}


async def _compose(request: Request, user: User, draft: dict[str, Any], error: str = "", preview: bool = False) -> Response:
    context = {"draft": draft, "error": error, **await _choices(request)}
    if preview:
        context["previews"] = previews(draft["text"].strip(), draft["image_url"], _links(draft["links_raw"]))
        context["audience"] = await outbox.audience_size(_assistant(request).db, draft["channels"], draft["areas"], draft["topics"])
    return render(request, "campaign_new.html", context, status_code=400 if error else 200)


@require(EVERYONE)
async def campaign_list(request: Request, user: User) -> Response:
    db = _assistant(request).db
    rows = await service.list_campaigns(db, user.area if user.role == TEAM_LEADER else None)
    progress = {c.id: await outbox.counts(db, c.id) for c in rows}
    return render(request, "campaigns.html", {"rows": rows, "progress": progress, "states": STATES})


@require(EVERYONE)
async def campaign_new(request: Request, user: User) -> Response:
    draft = {"text": "", "image_url": "", "links_raw": "", "channels": [], "areas": [user.area] if user.area else [],
             "topics": [], "when": "draft", "at": ""}
    # Prefilled from a link (the weekly scam-check view proposes a warning for its wards).
    p = request.query_params
    if p.get("text"):
        draft["text"] = p["text"][:2000]
    if p.getlist("area") and user.role != TEAM_LEADER:
        draft["areas"] = [a for a in p.getlist("area") if a][:200]
    return await _compose(request, user, draft)


@require(EVERYONE)
async def campaign_create(request: Request, user: User) -> Response:
    assistant = _assistant(request)
    form = await request.form()
    draft = _draft(form, user)
    if user.role == TEAM_LEADER and not user.area:
        return render_error(request, 403, "Tài khoản tổ trưởng chưa gắn với phường, xã nào.")
    if form.get("action") == "preview":
        return await _compose(request, user, draft, preview=True)
    at = None
    if draft["when"] == "at":
        try:
            at = service.parse_time(draft["at"])
            at.astimezone(dt.UTC)  # year 1 or 9999 cannot be moved to UTC
        except (ValueError, OverflowError):
            return await _compose(request, user, draft, "Thời điểm gửi không hợp lệ.", preview=True)
        if at.astimezone(dt.UTC).replace(tzinfo=None) < clock.now() - dt.timedelta(minutes=1):
            return await _compose(request, user, draft, "Thời điểm gửi đã qua.", preview=True)
    try:
        campaign_id = await service.create(
            assistant.db, draft["text"], channels=draft["channels"], areas=draft["areas"], topics=draft["topics"], at=at,
            now=draft["when"] == "now", sender_area=user.area if user.role == TEAM_LEADER else None, created_by=user.name,
            image_url=draft["image_url"] or None, links=_links(draft["links_raw"]),
            needs_approval=assistant.settings.campaign_approval_required,
            link_domains=allowed_domains(assistant.settings.knowledge_dir),
        )
    except service.CampaignError as exc:
        return await _compose(request, user, draft, str(exc), preview=True)
    await record(assistant.db, user, "campaign.create", f"campaign:{campaign_id}", None,
                 {k: draft[k] for k in ("text", "channels", "areas", "topics", "when", "at")})
    state = (await service.status(assistant.db, campaign_id))["state"]
    flash(request, f"Đã tạo chiến dịch số {campaign_id} ({STATES.get(str(state), state)}).")
    return RedirectResponse(url(request, "campaign_detail", campaign_id=campaign_id), status_code=303)


async def _campaign_for(request: Request, user: User) -> Campaign | Response:
    campaign = await service.get(_assistant(request).db, request.path_params["campaign_id"])
    if campaign is None:
        return render_error(request, 404, "Không có chiến dịch này.")
    if user.role == TEAM_LEADER and campaign.sender_area != user.area:
        return render_error(request, 403, "Bạn chỉ xem được chiến dịch của phường, xã mình.")
    return campaign


def _may(user: User, campaign: Campaign, action: str, approval_required: bool) -> bool:
    if action not in service.TRANSITIONS or campaign.state not in service.TRANSITIONS[action][0]:
        return False
    if action == "approve" and approval_required and campaign.sender_area is not None:
        return user.may(CITY)  # a team's campaign waits for the city
    return True


@require(EVERYONE)
async def campaign_detail(request: Request, user: User) -> Response:
    assistant = _assistant(request)
    campaign = await _campaign_for(request, user)
    if isinstance(campaign, Response):
        return campaign
    status = await service.status(assistant.db, campaign.id)
    required = assistant.settings.campaign_approval_required
    actions = {a: label for a, label in ACTIONS.items() if _may(user, campaign, a, required)}
    if "approve" in actions and not (required and campaign.sender_area is not None):
        actions["approve"] = "Gửi ngay"
    links = [(x["label"], x["url"]) for x in campaign.links or []]
    questions = await service.questions_after(assistant.db, campaign.id, assistant.settings.resident_id_salt)
    return render(request, "campaign.html", {
        "c": campaign, "s": status, "states": STATES, "actions": actions, "channels": CHANNELS,
        "previews": previews(campaign.text, campaign.image_url, links),
        "questions": sorted(questions.items(), key=lambda kv: -kv[1]),
        "waiting_approval": required and campaign.sender_area is not None and campaign.state == "draft",
    })


@require(EVERYONE)
async def campaign_status(request: Request, user: User) -> Response:
    campaign = await _campaign_for(request, user)
    if isinstance(campaign, Response):
        return campaign
    s = await service.status(_assistant(request).db, campaign.id)
    return JSONResponse({**{k: v for k, v in s.items() if k != "scheduled_at"}, "state_label": STATES.get(str(s["state"]), s["state"])})


@require(EVERYONE)
async def campaign_action(request: Request, user: User) -> Response:
    assistant = _assistant(request)
    campaign = await _campaign_for(request, user)
    if isinstance(campaign, Response):
        return campaign
    action = str((await request.form()).get("action", ""))
    if action not in ACTIONS:
        return render_error(request, 400, "Thao tác không hợp lệ.")
    if action == "approve" and not _may(user, campaign, action, assistant.settings.campaign_approval_required) \
            and campaign.state == "draft":
        return render_error(request, 403, "Chiến dịch của tổ cần biên tập viên thành phố duyệt.")
    before = campaign.state
    try:
        state = await service.set_state(assistant.db, campaign.id, action, by=user.name)
    except service.CampaignError as exc:
        flash(request, str(exc), "error")
    else:
        await record(assistant.db, user, f"campaign.{action}", f"campaign:{campaign.id}", {"state": before}, {"state": state})
        flash(request, f"Chiến dịch {campaign.id}: {STATES.get(state, state)}.")
    return RedirectResponse(url(request, "campaign_detail", campaign_id=campaign.id), status_code=303)


ROUTES = [
    Route("/campaigns", campaign_list, methods=["GET"], name="campaign_list"),
    Route("/campaigns/new", campaign_new, methods=["GET"], name="campaign_new"),
    Route("/campaigns/new", campaign_create, methods=["POST"], name="campaign_create"),
    Route("/campaigns/{campaign_id:int}", campaign_detail, methods=["GET"], name="campaign_detail"),
    Route("/campaigns/{campaign_id:int}/status", campaign_status, methods=["GET"], name="campaign_status"),
    Route("/campaigns/{campaign_id:int}/action", campaign_action, methods=["POST"], name="campaign_action"),
]
NAV = [NavItem("Chiến dịch", "campaign_list", EVERYONE)]
