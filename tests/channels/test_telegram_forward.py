"""A forwarded Telegram message (forward_origin set) is marked so the dispatcher checks it
for the signs of a scam; an ordinary message is not."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram import decode


def _update(**extra: object) -> Update:
    message = {"message_id": 7, "date": 1_790_000_000, "chat": {"id": 42, "type": "private"},
               "from": {"id": 42, "is_bot": False, "first_name": "Năm"}, "text": "Bam vao bit.ly/abc de nhan qua", **extra}
    return Update.de_json({"update_id": 1, "message": message}, None)


def test_forward_origin_marks_the_message_forwarded() -> None:
    origin = {"type": "hidden_user", "date": 1_790_000_000, "sender_user_name": "Ai đó"}
    msg = decode(_update(forward_origin=origin))
    assert msg is not None and msg.meta.get("forwarded") == "1"
    plain = decode(_update())
    assert plain is not None and "forwarded" not in plain.meta
