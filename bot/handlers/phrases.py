"""What a resident's words mean to the conversation itself, apart from any question:
asking for a person. Shared by `prompt` (leaving a prompt) and `question` (answering),
which must not import each other."""

from __future__ import annotations

import re

from bot.text import canon, fold

__all__ = ["asks_for_person", "key"]

_PERSON = re.compile(
    r"\b(nguoi that|gap nguoi|gap (can bo|nhan vien|tong dai vien|ai do)|noi chuyen (voi|cung) (nguoi|can bo|nhan vien|ai)"
    r"|hoi (can bo|nhan vien|nguoi that)|chuyen (cho|sang|toi|den) (nguoi|can bo|nhan vien)|can bo tu van"
    r"|talk to (a |an |)(human|person|someone|real person|agent|staff)|speak (to|with) (a |an |)(human|person|someone|agent)"
    r"|real person|human agent)\b"
)


def key(text: str | None) -> str:
    """The words without diacritics, case or extra spaces (how phrases are compared)."""
    return " ".join(fold(canon(text or "")).split())


def asks_for_person(text: str | None) -> bool:
    """"gặp người thật", "cho tôi nói chuyện với cán bộ", "talk to a human"..."""
    return bool(_PERSON.search(key(text)))
