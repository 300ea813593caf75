"""The audit log: who changed what, when, with the values before and after.

Every admin action that changes something calls `record` once, after the change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from admin.guard import User
from bot.storage.db import Database
from bot.storage.models import AuditLog

__all__ = ["Change", "action_label", "changes", "record", "recent"]

#: Vietnamese names of the fields the audit log records; others show as they are.
LABELS = {
    "question": "Câu hỏi", "answer": "Câu trả lời", "answer_en": "Câu trả lời tiếng Anh", "status": "Trạng thái",
    "alternates": "Cách hỏi khác", "tags": "Nhãn", "links": "Liên kết", "sources": "Nguồn", "related": "Mục liên quan",
    "reviewed": "Rà soát lần cuối", "review_by": "Hạn rà soát lại", "group": "Nhóm", "kind": "Loại", "id": "Mã mục",
    "role": "Vai trò", "area": "Phường, xã", "name": "Tên", "username": "Tên đăng nhập", "state": "Trạng thái",
    "text": "Nội dung", "channels": "Kênh", "areas": "Phường, xã", "topics": "Chủ đề", "team": "Tổ", "entry": "Mục",
    "moved": "Số câu hỏi chuyển", "alternate": "Cách hỏi khác", "scheduled_at": "Hẹn giờ gửi", "image_url": "Ảnh",
}
ACTIONS = {
    "account.create": "Tạo tài khoản", "account.delete": "Xóa tài khoản", "account.password": "Đặt lại mật khẩu",
    "account.role": "Đổi vai trò", "campaign.create": "Tạo chiến dịch", "kb.add_alternate": "Thêm cách hỏi khác",
    "kb.import": "Nhập kho tri thức", "kb.create": "Tạo mục", "kb.update": "Sửa mục", "kb.draft.save": "Lưu bản nháp",
    "kb.draft.publish": "Xuất bản bản nháp", "kb.draft.discard": "Bỏ bản nháp", "team.create": "Tạo tổ",
    "team.invite": "Tạo mã mời", "team.take_city_tickets": "Nhận câu hỏi từ hàng đợi thành phố",
    "ticket.answer": "Trả lời câu hỏi", "ticket.claim": "Nhận câu hỏi", "ticket.close": "Đóng câu hỏi",
    "ticket.propose": "Đề xuất thành câu hỏi thường gặp", "ticket.reject": "Không thuộc phạm vi",
    "ticket.transfer": "Chuyển câu hỏi",
}


def action_label(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action]
    head, _, tail = action.rpartition(".")
    if head == "kb.status":
        return f"Đổi trạng thái mục thành {tail}"
    if head == "campaign":
        return f"Chiến dịch: {tail}"
    return action


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "\n".join(_text(v) if not isinstance(v, str) else v for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def changes(before: Any, after: Any, prefix: str = "") -> list[Change]:
    """What changed between two recorded values, field by field, in Vietnamese, with the
    text decoded (no \\u escapes); nested dicts (an entry inside a draft) are walked."""
    if isinstance(before, dict) or isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        out: list[Change] = []
        for key in list(dict.fromkeys([*old, *new])):
            if old.get(key) == new.get(key):
                continue
            label = LABELS.get(key, key)
            name = f"{prefix} › {label}" if prefix else label
            if isinstance(old.get(key), dict) or isinstance(new.get(key), dict):
                out += changes(old.get(key), new.get(key), name)
            else:
                out.append(Change(name, _text(old.get(key)), _text(new.get(key))))
        return out
    if before == after:
        return []
    return [Change(prefix or "Giá trị", _text(before), _text(after))]


async def record(db: Database, user: User, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Write one audit row (action: e.g. "account.create", target: e.g. "account:lan")."""
    async with db.session() as session, session.begin():
        session.add(AuditLog(username=user.name, role=user.role, action=action, target=target, before=before, after=after))


async def recent(db: Database, limit: int = 200, action: str = "", username: str = "") -> list[AuditLog]:
    """The latest rows, newest first, optionally for one action prefix or one user."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    if username:
        query = query.where(AuditLog.username == username)
    async with db.session() as session:
        return list((await session.scalars(query)).all())
