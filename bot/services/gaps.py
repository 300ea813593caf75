"""The knowledge base's gaps: unanswered questions (out-of-scope refusals left out: they
got the right reply), suggestions the resident rejected ("Không phải", feedback
`none`) and answers rated 👎, grouped by
similarity (rapidfuzz over the normaliser's accent-free form), biggest group first, so
an editor fixes what most residents miss."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import and_, or_, select

from bot.storage.db import Database
from bot.storage.models import QuestionLog
from bot.text import canon, fold, has_diacritics

__all__ = ["Gap", "gaps", "group_similar"]

SIMILAR = 72.0  # token_set_ratio at or above which two questions count as one gap
LIMIT = 2000  # the latest questions looked at


@dataclass
class Gap:
    """Questions residents asked in several ways that the knowledge base does not serve."""

    text: str  # the most frequent wording
    count: int = 0
    unanswered: int = 0
    disliked: int = 0
    rejected: int = 0  # "Không phải": none of the suggestions fitted
    examples: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)  # entries that were given or suggested


def group_similar(texts: list[str], threshold: float = SIMILAR) -> list[list[int]]:
    """Indexes of `texts` grouped greedily: each group gathers what is similar to its
    first member; groups come largest first."""
    keys = [fold(canon(t)) for t in texts]
    scores = process.cdist(keys, keys, scorer=fuzz.token_set_ratio, score_cutoff=threshold, workers=1)
    free = set(range(len(texts)))
    groups = []
    # Seeds in order of how many others they are similar to: the centre of a crowd first.
    for i in sorted(range(len(texts)), key=lambda i: -int((scores[i] > 0).sum())):
        if i not in free:
            continue
        members = [j for j in free if scores[i][j] > 0 or j == i]
        free -= set(members)
        groups.append(sorted(members))
    return sorted(groups, key=len, reverse=True)


async def gaps(db: Database, since: dt.datetime | None = None, area: str | None = None) -> list[Gap]:
    """Unanswered (unknown) and 👎-rated questions, grouped, biggest first."""
    query = (
        select(QuestionLog)
        .where(or_(and_(QuestionLog.decision == "unknown", QuestionLog.entry_id.is_(None)),
                   QuestionLog.feedback.startswith("down"), QuestionLog.feedback == "none"))
        .order_by(QuestionLog.id.desc())
        .limit(LIMIT)
    )
    if since is not None:
        query = query.where(QuestionLog.asked_at >= since)
    if area:
        query = query.where(QuestionLog.area_code == area)
    async with db.session() as session:
        rows = list((await session.scalars(query)).all())
    rows = [r for r in rows if r.normalized.strip()]
    out = []
    for members in group_similar([r.normalized for r in rows]):
        texts = [rows[i].normalized for i in members]
        # The most frequent wording; among equals the one with diacritics, then the shortest.
        gap = Gap(text=max(sorted(set(texts)), key=lambda t: (texts.count(t), has_diacritics(t), -len(t))), count=len(members))
        for i in members:
            r = rows[i]
            gap.unanswered += r.decision == "unknown"
            gap.disliked += bool(r.feedback and r.feedback.startswith("down"))
            gap.rejected += r.feedback == "none"
            for e in [r.entry_id, *(r.suggestions or [])]:
                if e and e not in gap.entries:
                    gap.entries.append(e)
        gap.examples = list(dict.fromkeys(texts))[:5]
        out.append(gap)
    return out
