"""A resident's messages one at a time in the platform's order (bot/channels/ordered.py),
and no state written over a newer one (compare-and-set in bot/conversation.py)."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="function")

from bot.channels import inbox
from bot.channels.ordered import ResidentOrder, Watermark, lock_key
from bot.channels.telegram import order_of
from bot.conversation import StaleResident, load_resident, save_resident
from bot.storage.db import Database


def update(seq: int, user: int, text: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    return str(seq), {"update_id": seq, "message": {"from": {"id": user}, "chat": {"id": user}, "text": text}}


async def test_a_write_based_on_an_older_read_is_refused(db: Database) -> None:
    first = await load_resident(db, "telegram", "42")
    second = await load_resident(db, "telegram", "42")  # read at the same time
    await save_resident(db, first, state={"pending": "area"})
    with pytest.raises(StaleResident):
        await save_resident(db, second, state={"last_question": {"text": "vneid"}})
    fresh = await load_resident(db, "telegram", "42")
    assert fresh.state == {"pending": "area"} and fresh.version == 1
    await save_resident(db, fresh, area_code=None, state={})
    assert (await load_resident(db, "telegram", "42")).version == 2


async def test_a_residents_items_are_handled_one_at_a_time_in_update_order(db: Database) -> None:
    handled: list[str] = []
    running = 0

    async def handle(external: str, payload: dict) -> None:  # type: ignore[type-arg]
        nonlocal running
        running += 1
        assert running == 1, "two messages of one resident at once"
        await asyncio.sleep(0)
        handled.append(payload["message"]["text"])
        running -= 1
        await inbox.finish(db, "telegram", external)

    # Stored out of order (the webhook requests arrived so): 3 before 1 and 2.
    await inbox.store(db, "telegram", [update(3, 7, "c")], order_of)
    await inbox.store(db, "telegram", [update(1, 7, "a"), update(2, 7, "b")], order_of)
    order = ResidentOrder(db, "telegram", handle, concurrency=4, sweep_seconds=0)
    order.start()
    for _ in range(3):
        order.schedule("7")
    await order.idle()
    await order.stop()
    assert handled == ["a", "b", "c"]
    assert await inbox.pending_residents(db, "telegram") == []


async def test_the_watermark_waits_for_an_earlier_update_still_on_its_way(db: Database) -> None:
    await inbox.store(db, "telegram", [update(1, 7, "a"), update(3, 8, "c")], order_of)
    mark = Watermark(db, "telegram", max_wait=60.0, interval=0.001)
    waiting = asyncio.create_task(mark.wait_for(3))
    for _ in range(20):
        await asyncio.sleep(0.005)
    assert not waiting.done(), "update 2 is missing: 3 must wait"
    await inbox.store(db, "telegram", [update(2, 9, "b")], order_of)
    await asyncio.wait_for(waiting, 30)
    assert mark.floor == 3
    await mark.stop()


@pytest.mark.filterwarnings("ignore")
def test_lock_keys_are_per_resident_and_channel() -> None:
    assert lock_key("telegram", "1") == lock_key("telegram", "1")
    assert len({lock_key("telegram", "1"), lock_key("telegram", "2"), lock_key("zalo", "1")}) == 3
    assert -(2**63) <= lock_key("telegram", "1") < 2**63
