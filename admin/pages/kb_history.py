"""An entry's history (every version, who, when) and the diff of any two versions."""

from __future__ import annotations

import difflib
from typing import Any

import yaml
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from admin.context import assistant
from admin.guard import CITY, User, require
from admin.render import render
from bot.kb_files import ENTRY_FIELDS
from bot.storage.models import KbHistory

__all__ = ["ROUTES", "NAV", "diff_lines"]


def _text(version: dict[str, Any] | None) -> list[str]:
    if not version:
        return []
    ordered = {k: version.get(k) for k in ENTRY_FIELDS if k in version}
    return yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=100).splitlines()


def diff_lines(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(kind, line) pairs of a unified diff: kind is add, remove, hunk or same."""
    out = []
    for line in difflib.unified_diff(_text(a), _text(b), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        out.append((kind, line))
    return out


@require(CITY)
async def kb_history(request: Request, user: User) -> Response:
    entry_id = request.path_params["entry_id"]
    async with assistant(request).db.session() as session:
        rows = list((await session.scalars(select(KbHistory).where(KbHistory.entry_id == entry_id).order_by(KbHistory.id))).all())
    versions = {str(r.id): r for r in rows}
    a, b = request.query_params.get("a", ""), request.query_params.get("b", "")
    if not (a in versions and b in versions) and len(rows) >= 2:
        # the latest version against the one before it that differs (a draft and its publication are the same text)
        earlier = next((r for r in reversed(rows[:-1]) if r.after != rows[-1].after), rows[-2])
        a, b = str(earlier.id), str(rows[-1].id)
    diff = diff_lines(versions[a].after, versions[b].after) if a in versions and b in versions else []
    return render(request, "kb/history.html", {"entry_id": entry_id, "rows": list(reversed(rows)), "a": a, "b": b, "diff": diff})


ROUTES = [Route("/kb/{entry_id:str}/history", kb_history, methods=["GET"], name="kb_history")]
NAV: list = []
