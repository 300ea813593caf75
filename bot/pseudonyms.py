"""The salted hash that stands for a resident in the question log (never the platform id).
Its own module because the question log writes it and the conversation (data deletion)
and campaigns (questions after a campaign) look rows up by it."""

from __future__ import annotations

import hashlib

__all__ = ["resident_hash"]


def resident_hash(channel: str, user: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{channel}:{user}".encode()).hexdigest()
