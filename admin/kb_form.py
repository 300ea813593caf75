"""The knowledge-base entry editor's logic: the form to and from an `Entry`, the checks
before saving (the same as `cdsbot kb import`, plus the writing rules before
publishing), the 'try it' matcher over a draft, and the preview of what each channel
shows. The pages in admin/pages/kb.py only call these."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.base import Reply
from bot.channels.telegram import MAX_TEXT as TELEGRAM_MAX
from bot.channels.telegram import keyboard, split_text
from bot.channels.zalo_bot import MAX_TEXT as ZALO_MAX
from bot.channels.zalo_bot import render as zalo_render
from bot.kb_files import Entry, check_entry
from bot.kb_rules import MAX_ANSWER_WORDS, publication_problems, words
from bot.matcher import Doc, Match, Matcher
from bot.replies import render_entry, render_match
from bot.services.knowledge import KnowledgeBase, docs_from_groups

__all__ = ["EntryForm", "Preview", "check", "entry_from_form", "form_from_entry", "preview", "try_draft"]

_SPLIT = re.compile(r"[,\s]+")


@dataclass
class EntryForm:
    """The editor's fields as text, kept as typed so nothing is lost on a refusal."""

    id: str = ""
    group: str = ""
    kind: str = "faq"
    status: str = "draft"
    question: str = ""
    alternates: str = ""  # one per line
    answer: str = ""
    answer_en: str = ""
    links: str = ""  # one "label | https://..." per line
    related: str = ""  # ids separated by commas or spaces
    tags: str = ""
    sources: str = ""  # one per line
    reviewed: str = ""  # YYYY-MM-DD
    review_by: str = ""  # YYYY-MM-DD: facts to check again by then (empty: no such facts)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EntryForm:
        return cls(**{name: str(data.get(name, "") or "").replace("\r\n", "\n") for name in cls.__dataclass_fields__})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def form_from_entry(entry: Entry, group: str) -> EntryForm:
    return EntryForm(
        id=entry.id, group=group, kind=entry.kind, status=entry.status, question=entry.question,
        alternates="\n".join(entry.alternates), answer=entry.answer, answer_en=entry.answer_en,
        links="\n".join(f"{x['label']} | {x['url']}" for x in entry.links),
        related=", ".join(entry.related), tags=", ".join(entry.tags), sources="\n".join(entry.sources),
        reviewed=entry.reviewed.isoformat() if entry.reviewed else "",
        review_by=entry.review_by.isoformat() if entry.review_by else "",
    )


def entry_from_form(form: EntryForm) -> tuple[Entry, list[str]]:
    """The entry the form describes, and the problems found reading it."""
    problems = []
    links = []
    for line in _lines(form.links):
        label, sep, url = line.rpartition("|")
        if not sep or not label.strip() or not url.strip():
            problems.append(f"liên kết cần dạng 'nhãn | https://…': {line}")
            continue
        links.append({"label": label.strip(), "url": url.strip()})
    reviewed = None
    if form.reviewed.strip():
        try:
            reviewed = dt.date.fromisoformat(form.reviewed.strip())
        except ValueError:
            problems.append("ngày rà soát cần dạng YYYY-MM-DD")
    review_by = None
    if form.review_by.strip():
        try:
            review_by = dt.date.fromisoformat(form.review_by.strip())
        except ValueError:
            problems.append("hạn rà soát lại cần dạng YYYY-MM-DD")
    entry = Entry(
        id=form.id.strip(), kind=form.kind.strip() or "faq", status=form.status.strip() or "draft",
        question=form.question.strip(), alternates=_lines(form.alternates), answer=form.answer.strip(),
        answer_en=form.answer_en.strip(), links=links, related=[x for x in _SPLIT.split(form.related) if x],
        tags=[x for x in _SPLIT.split(form.tags) if x], sources=_lines(form.sources), reviewed=reviewed,
        review_by=review_by,
    )
    return entry, problems


def check(entry: Entry, group: str, domains: list[str], known_ids: set[str]) -> list[str]:
    """Every problem that stops this entry from being saved with its status: the
    checks of `cdsbot kb import`, and the writing rules when it is to be published."""
    problems = [p.message for p in check_entry(entry, group or "entry")]
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", group or ""):
        problems.append("nhóm phải là mã dạng chữ-thường-gạch-nối")
    problems += [f"mục liên quan '{r}' không tồn tại" for r in entry.related if r not in known_ids]
    if entry.status == "published":
        problems += [p for p in publication_problems(entry, domains) if not p.startswith("mục liên quan")]
    return problems


@dataclass(frozen=True)
class TryResult:
    """What the matcher does with a question when the draft is in the knowledge base."""

    match: Match
    hits_draft: bool
    suggested_draft: bool
    replies: list[Reply]


async def try_draft(kb: KnowledgeBase, draft: Entry, question: str) -> TryResult:
    """Run the matcher on `question` over the published entries with the draft in
    place of its published version (as if it were published now)."""
    await kb.matcher()  # the current groups and entries
    docs = [d for d in docs_from_groups(kb.groups) if d.entry_id != draft.id]
    docs.append(Doc(entry_id=draft.id, strings=(draft.question, *draft.alternates), out_of_scope=draft.kind == "out-of-scope"))
    matcher = Matcher(docs, kb.lexicon, kb.chitchat, answer_threshold=kb.settings.answer_threshold,
                      suggest_threshold=kb.settings.suggest_threshold)
    m = matcher.match(question)
    entries = {**kb.entries, draft.id: dataclasses.replace(draft, status="published")}
    return TryResult(m, m.entry_id == draft.id and m.decision.value == "answer", draft.id in m.suggestions,
                     render_match(m, entries, kb.chitchat, english=m.english, settings=kb.settings))


@dataclass(frozen=True)
class ChannelView:
    """One channel's rendering of the answer, with its length against the limit."""

    name: str
    parts: list[str]
    buttons: list[str]
    length: int
    limit: int


@dataclass(frozen=True)
class Preview:
    channels: list[ChannelView]
    words: int
    max_words: int
    english_words: int


def preview(entry: Entry, entries: Mapping[str, Entry], settings: Any = None) -> Preview:
    """The answer as Telegram, Zalo and the web chat show it (the channels' own
    rendering code, placeholders filled from `settings`), with lengths against each limit."""
    reply = render_entry(entry, entries, settings=settings)
    telegram_parts = split_text(reply.text)
    markup = keyboard(reply)
    telegram_buttons = [b["text"] for row in markup["inline_keyboard"] for b in row] if markup else []
    zalo_text, _ = zalo_render(reply)
    web_buttons = [b.label for b in reply.buttons] + [f"{x.label} ↗" for x in reply.links]
    return Preview(
        channels=[
            ChannelView("Telegram", telegram_parts, telegram_buttons, len(reply.text), TELEGRAM_MAX),
            ChannelView("Zalo", split_text(zalo_text, ZALO_MAX), [], len(zalo_text), ZALO_MAX),
            ChannelView("Web", [reply.text], web_buttons, len(reply.text), 0),
        ],
        words=words(entry.answer), max_words=MAX_ANSWER_WORDS, english_words=words(entry.answer_en),
    )
