"""The match worker process (`bot/match_worker.py`): the same decisions as matching in
the serving process, questions asked together matched as one batch, published changes
followed, and a worker that dies replaced without a question lost."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.kb_files import Entry
from bot.match_worker import MatchWorker
from bot.matcher import Decision
from bot.services.knowledge import KnowledgeBase, save_entry
from bot.settings import Settings
from bot.text import fold
from tests.helpers import prepared

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def kb(settings: Settings) -> AsyncIterator[KnowledgeBase]:
    assistant = await prepared(settings.model_copy(update={"match_worker": True}))
    await assistant.kb.start()
    yield assistant.kb
    await assistant.kb.close()
    await assistant.db.dispose()


def worker_of(kb: KnowledgeBase) -> MatchWorker:
    assert kb.worker is not None
    return kb.worker


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_the_worker_decides_as_the_serving_process_does(kb: KnowledgeBase) -> None:
    matcher = await kb.matcher()
    texts = ["xin chào", "cảm ơn nhé", "giá vàng hôm nay bao nhiêu", "", "🙂", "a" * 300]
    for doc in matcher.docs[:40]:
        texts += [doc.strings[0], fold(doc.strings[-1]), doc.strings[0].upper() + " ạ?"]
    worker = worker_of(kb)
    assert worker.pid is not None  # started with the assistant, before the first question
    matches = await asyncio.gather(*(kb.match(t) for t in texts))
    assert list(matches) == [matcher.match(t) for t in texts]
    assert {m.decision for m in matches} >= {Decision.ANSWER, Decision.CHITCHAT, Decision.UNKNOWN}
    assert worker.in_process == 0
    assert 1 <= worker.batches < len(texts) / 4  # asked together, matched together


async def test_a_published_change_reaches_the_worker(kb: KnowledgeBase) -> None:
    question = "Thủ tục đăng ký cho mèo tham gia cuộc thi sắc đẹp phường"
    before = await kb.match(question)
    assert before.entry_id != "meo-thi-sac-dep"
    group = kb.groups[0].group
    await save_entry(kb.db, Entry(id="meo-thi-sac-dep", question=question, answer="Bạn liên hệ ban tổ chức."), group, by="test")
    await kb.reload()
    after = await kb.match(question)
    assert after.decision == Decision.ANSWER and after.entry_id == "meo-thi-sac-dep"
    assert worker_of(kb).in_process == 0  # the worker answered, with the new entries


async def test_a_dead_worker_is_replaced_before_the_next_question(kb: KnowledgeBase) -> None:
    worker = worker_of(kb)
    matcher = await kb.matcher()
    question = matcher.docs[0].strings[0]
    first = worker.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while not gone(first) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await kb.match(question) == matcher.match(question)
    assert worker.pid not in (None, first) and worker.in_process == 0  # a new worker, given the entries


async def test_a_worker_failing_mid_question_falls_back_to_this_process(kb: KnowledgeBase, tmp_path: Path) -> None:
    worker = worker_of(kb)
    matcher = await kb.matcher()
    recipe = worker._recipe
    assert recipe is not None
    # Entries the worker cannot build a matcher from (its small-talk file is gone): it dies
    # while asked, the question is matched here, and no new worker is tried for a while.
    worker.install(dataclasses.replace(recipe, revision=recipe.revision + 1, chitchat_path=tmp_path / "missing.yaml"), matcher)
    question = matcher.docs[2].strings[0]
    assert await kb.match(question) == matcher.match(question)
    assert worker.in_process == 1 and worker.pid is None
    assert await kb.match(question) == matcher.match(question)
    assert worker.in_process == 2 and worker.pid is None  # not restarted at once
    worker.install(recipe, matcher)
    worker.restart_after = 0.0
    assert await kb.match(question) == matcher.match(question)
    assert worker.in_process == 2 and worker.pid is not None


async def test_close_ends_the_process_and_the_next_question_starts_one(kb: KnowledgeBase) -> None:
    worker = worker_of(kb)
    pid = worker.pid
    assert pid is not None
    await kb.close()
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert gone(pid)
    question = (await kb.matcher()).docs[1].strings[0]
    assert (await kb.match(question)).entry_id == (await kb.matcher()).docs[1].entry_id
    assert worker.pid not in (None, pid) and worker.in_process == 0
