"""Group commit (bot/storage/group_commit.py) and what the hot path builds on it: many
residents' loads, question logs and inbox finishes written together, on SQLite and
PostgreSQL, each caller getting its own result; and the per-resident locks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from bot.channels import inbox
from bot.channels.locks import ResidentLocks
from bot.conversation import load_resident
from bot.matcher import Decision, Match
from bot.services.questions import log_question
from bot.storage.db import Database
from bot.storage.group_commit import GroupCommit
from bot.storage.models import InboxItem, QuestionLog, Resident


@pytest.mark.asyncio
async def test_concurrent_requests_are_flushed_in_groups_in_order() -> None:
    seen: list[list[int]] = []

    async def flush(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        await asyncio.sleep(0.01)  # a transaction takes a while: requests pile up meanwhile
        return [i * 10 for i in items]

    group = GroupCommit("test", flush)
    results = await asyncio.gather(*(group.submit(i) for i in range(100)))
    assert results == [i * 10 for i in range(100)]
    assert [i for batch in seen for i in batch] == list(range(100))
    assert len(seen) < 10 and group.items == 100


@pytest.mark.asyncio
async def test_a_bad_request_fails_alone() -> None:
    async def flush(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("13 is refused")
        return list(items)

    group = GroupCommit("test", flush)
    results = await asyncio.gather(*(group.submit(i) for i in range(20)), return_exceptions=True)
    assert isinstance(results[13], ValueError)
    assert [r for i, r in enumerate(results) if i != 13] == [i for i in range(20) if i != 13]


@pytest.mark.asyncio
async def test_a_lone_request_does_not_wait_for_company() -> None:
    group = GroupCommit("test", lambda items: asyncio.sleep(0, result=list(items)))
    assert await asyncio.wait_for(group.submit("x"), timeout=1) == "x"
    assert group.groups == 1


@pytest.mark.asyncio
async def test_many_new_residents_at_once_are_created_once_each(db: Database) -> None:
    users = [str(900_000 + i) for i in range(60)]
    # Every resident twice at the same time (two messages racing): still one row each.
    residents = await asyncio.gather(*(load_resident(db, "telegram", u, f"Cư dân {u}") for u in users + users))
    assert [r.platform_user_id for r in residents] == users + users
    assert all(a.id == b.id for a, b in zip(residents[:60], residents[60:], strict=True))
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 60
    assert db.group_commits["residents"].groups < 60
    again = await load_resident(db, "telegram", users[0])
    assert again.id == residents[0].id and again.display_name == f"Cư dân {users[0]}"


@pytest.mark.asyncio
async def test_questions_at_once_get_their_own_ids_and_states(db: Database) -> None:
    residents = await asyncio.gather(*(load_resident(db, "zalo", str(i)) for i in range(40)))
    match = Match(Decision.ANSWER, 80.0, entry_id="vneid-la-gi", normalized="vneid la gi")

    async def ask(resident: Resident) -> int:
        return await log_question(db, channel="zalo", user=resident.platform_user_id, salt="s", match=match,
                                  resident=resident, state={"lang_hint": resident.platform_user_id},
                                  remember={"text": f"câu hỏi {resident.platform_user_id}", "suggestions": []})

    ids = await asyncio.gather(*(ask(r) for r in residents))
    assert len(set(ids)) == 40
    for resident, qid in zip(residents, ids, strict=True):
        assert resident.state["last_question"] == {"id": qid, "text": f"câu hỏi {resident.platform_user_id}", "suggestions": []}
    async with db.session() as session:
        stored = {r.platform_user_id: r.state for r in (await session.scalars(select(Resident))).all()}
        assert await session.scalar(select(func.count()).select_from(QuestionLog)) == 40
    for resident, qid in zip(residents, ids, strict=True):
        assert stored[resident.platform_user_id] == {"lang_hint": resident.platform_user_id,
                                                      "last_question": resident.state["last_question"]}


@pytest.mark.asyncio
async def test_inbox_items_finished_at_once_each_get_their_status(db: Database) -> None:
    await inbox.store(db, "telegram", [(str(i), {"update_id": i}) for i in range(30)])
    await asyncio.gather(*(inbox.finish(db, "telegram", str(i), "failed" if i % 10 == 0 else "done") for i in range(25)))
    async with db.session() as session:
        status = dict((await session.execute(select(InboxItem.external_id, InboxItem.status))).all())
    assert [k for k, v in status.items() if v == "failed"] == ["0", "10", "20"]
    assert sum(v == "done" for v in status.values()) == 22
    assert sorted(k for k, v in status.items() if v == "received") == ["25", "26", "27", "28", "29"]
    assert [e for e, _ in await inbox.pending(db, "telegram")] == ["25", "26", "27", "28", "29"]


@pytest.mark.asyncio
async def test_resident_locks_keep_order_and_are_forgotten_when_free() -> None:
    locks = ResidentLocks()
    order: list[str] = []

    async def handle(resident: str, name: str, pause: float) -> None:
        async with locks.hold(resident):
            await asyncio.sleep(pause)
            order.append(name)

    await asyncio.gather(handle("a", "a1", 0.03), handle("a", "a2", 0.0), handle("b", "b1", 0.01))
    assert order == ["b1", "a1", "a2"]
    assert len(locks) == 0



@pytest.mark.asyncio
async def test_the_same_question_twice_in_one_group_gets_two_ids_in_the_order_asked(db: Database) -> None:
    match = Match(Decision.ANSWER, 80.0, entry_id="vneid-la-gi", normalized="vneid la gi")
    other = Match(Decision.ANSWER, 80.0, entry_id="vneid-la-gi", normalized="vneid la gi nhi")
    asks = [("7", match), ("7", match), ("8", match), ("7", other)]
    ids = await asyncio.gather(*(log_question(db, channel="zalo", user=u, salt="s", match=m) for u, m in asks))
    assert db.group_commits["questions"].groups == 1  # one group: the case under test
    assert len(set(ids)) == 4 and ids[0] < ids[1]
    async with db.session() as session:
        rows = {r.id: r for r in (await session.scalars(select(QuestionLog))).all()}
    assert [rows[i].normalized for i in ids] == ["vneid la gi", "vneid la gi", "vneid la gi", "vneid la gi nhi"]
    assert rows[ids[0]].resident_hash == rows[ids[1]].resident_hash == rows[ids[3]].resident_hash != rows[ids[2]].resident_hash


@pytest.mark.asyncio
async def test_a_stale_state_in_a_group_fails_only_its_own_question(db: Database) -> None:
    from bot.conversation import StaleResident, save_resident

    residents = await asyncio.gather(*(load_resident(db, "zalo", str(i)) for i in range(10)))
    stale = residents[4]
    await save_resident(db, Resident(**{c: getattr(stale, c) for c in ("id", "channel", "platform_user_id", "version")}),
                        state={"written": "elsewhere"})  # someone else wrote it since it was read
    match = Match(Decision.ANSWER, 80.0, entry_id="vneid-la-gi", normalized="vneid la gi")
    results = await asyncio.gather(*(log_question(db, channel="zalo", user=r.platform_user_id, salt="s", match=match,
                                                  resident=r, state={"n": i}) for i, r in enumerate(residents)),
                                   return_exceptions=True)
    assert isinstance(results[4], StaleResident)
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 4)
    async with db.session() as session:
        states = {r.platform_user_id: r.state for r in (await session.scalars(select(Resident))).all()}
        assert await session.scalar(select(func.count()).select_from(QuestionLog)) == 9
    assert states["4"] == {"written": "elsewhere"}
    assert all(states[str(i)] == {"n": i} for i in range(10) if i != 4)


@pytest.mark.asyncio
async def test_residents_asking_for_their_next_items_at_once_each_get_their_own(db: Database) -> None:
    # Residents r0..r19, three items each, stored interleaved and out of platform order.
    items = [(f"{r}-{k}", {"r": r, "seq": 100 * r + (2 - k)}) for k in range(3) for r in range(20)]
    await inbox.store(db, "telegram", items, order=lambda p: (f"r{p['r']}", p["seq"]))
    await inbox.finish(db, "telegram", "5-2")  # r5's first in platform order is done already
    wanted = [(f"r{r}", 1 if r % 2 else 20) for r in range(20)] + [("nobody", 5)]
    got = await asyncio.gather(*(inbox.next_of(db, "telegram", r, n) for r, n in wanted))
    assert db.group_commits["inbox-next"].groups < len(wanted)
    for (resident, n), found in zip(wanted, got, strict=True):
        if resident == "nobody":
            assert found == []
            continue
        r = int(resident[1:])
        expected = [f"{r}-{k}" for k in (2, 1, 0) if (r, k) != (5, 2)][:n]
        assert [external for external, _, _ in found] == expected
        assert [seq for _, _, seq in found] == sorted(seq for _, _, seq in found)
