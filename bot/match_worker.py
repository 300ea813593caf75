"""Matching residents' questions in a worker process.

The serving process is one Python thread: it receives, stores, dispatches and sends for
every channel. Matching a question is the largest piece of that work (about a
millisecond of CPU, `bench/matcher.py`), and it needs nothing but the text and the
published entries. So a `MatchWorker` hands questions to one child process, and the
serving process's core is left to the channels; `bench/telegram_throughput.py`
measures what this gives.

- Questions asked at the same time go to the worker as one batch (a `GroupCommit`,
  the same coalescing the database writes use), so the cost of crossing processes is
  paid once per batch, not once per question.
- The worker builds its own matcher from the published entries (the `Doc`s, a few
  kilobytes) and the knowledge folder (lexicon, small talk); the serving process sends
  the entries again only when their revision changed, or when the worker is new.
- The decision is the same as matching in process: the same `Matcher`, the same inputs.
- A worker found dead before a batch is replaced at once. One that fails while it
  matches (or cannot start) gets its batch matched in the serving process with the
  serving process's own matcher, and so does every batch for the next `RESTART_AFTER`
  seconds before a new worker is tried: a resident never sees the difference.
  `MATCH_WORKER=false` matches in process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from bot.chitchat import Chitchat
from bot.classifier import EntryClassifier
from bot.english import Glossary
from bot.matcher import Doc, Match, Matcher
from bot.settings import Settings
from bot.storage.group_commit import GroupCommit
from bot.text import Lexicon

__all__ = ["MatchWorker", "Recipe"]

logger = logging.getLogger(__name__)
MAX_BATCH = 64
RESTART_AFTER = 5.0  # seconds before starting a new worker after one failed


@dataclass(frozen=True)
class Recipe:
    """What a matcher is built from: the published entries and the knowledge folder."""

    revision: int
    docs: tuple[Doc, ...]
    lexicon_dir: Path
    chitchat_path: Path
    answer_threshold: float
    suggest_threshold: float
    glossary_path: Path | None = None  # English → Vietnamese words (bot.english.Glossary)
    classifier: bool = False  # the learned second opinion (bot.classifier)
    # ... as the serving process trained it: sent along so the worker does not train it again
    trained: tuple[EntryClassifier, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings, revision: int, docs: Sequence[Doc]) -> Recipe:
        return cls(revision, tuple(docs), settings.lexicon_dir, settings.chitchat_path,
                   settings.answer_threshold, settings.suggest_threshold, settings.glossary_path,
                   settings.match_classifier)

    def build(self, lexicon: Lexicon | None = None, chitchat: Chitchat | None = None) -> Matcher:
        """The matcher (with the lexicon and small talk given, else read from their files)."""
        lexicon = Lexicon.load(self.lexicon_dir) if lexicon is None else lexicon
        chitchat = Chitchat.load(self.chitchat_path, lexicon) if chitchat is None else chitchat
        glossary = Glossary.load(self.glossary_path) if self.glossary_path is not None else None
        return Matcher(self.docs, lexicon, chitchat, answer_threshold=self.answer_threshold,
                       suggest_threshold=self.suggest_threshold, glossary=glossary, use_classifier=self.classifier,
                       trained=self.trained)


# -- in the worker process (`python -m bot.match_worker`) ---------------------------------
#
# The protocol on the worker's stdin and stdout: frames of a 4-byte big-endian length and
# a pickle. Request: (revision, recipe or None, texts). Answer: (matches or None, the
# worker's CPU seconds); None when the worker does not hold that revision and no recipe
# came. Pickle is safe here: both ends are this program, on a pipe no one else holds.

_FRAME = struct.Struct(">I")


def _frame(obj: Any) -> bytes:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(data)) + data


def _write(stream: BinaryIO, obj: Any) -> None:
    stream.write(_frame(obj))
    stream.flush()


def _read(stream: BinaryIO) -> Any:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError
    return pickle.loads(stream.read(_FRAME.unpack(head)[0]))


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer requests until the serving process closes the pipe."""
    built: tuple[int, Matcher] | None = None
    while True:
        try:
            revision, recipe, texts = _read(requests)
        except EOFError:
            return
        if recipe is not None:
            built = (recipe.revision, recipe.build())
        if built is None or built[0] != revision:
            _write(answers, (None, time.process_time()))
            continue
        matcher = built[1]
        _write(answers, ([matcher.match(text) for text in texts], time.process_time()))


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # a stray print must not break the protocol
    try:
        serve(sys.stdin.buffer, answers)
    except KeyboardInterrupt:
        pass


# -- in the serving process -----------------------------------------------------------


class MatchWorker:
    """One worker process matching questions in batches. `install` gives it the
    published entries (and the serving process's own matcher, used when the worker fails);
    `match` answers one question."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._recipe: Recipe | None = None
        self._local: Matcher | None = None
        self._worker_has: int | None = None  # the revision the worker holds
        self._failed_at = -RESTART_AFTER
        self.restart_after = RESTART_AFTER
        self._batches: GroupCommit[str, Match] = GroupCommit("match", self._match_batch, max_group=MAX_BATCH)
        self._asking = asyncio.Lock()
        self.cpu = 0.0  # CPU seconds the current worker has used (benchmarks)
        self.batches = 0  # batches the worker matched
        self.in_process = 0  # batches matched in the serving process after a failure

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    async def start(self) -> None:
        """Start the worker and have it build its matcher now (it takes a second), not
        on the first question. A worker that fails here is retried on a later question."""
        proc = await self._ensure_worker()
        if proc is not None and self._recipe is not None:
            try:
                await self._ask(proc, self._recipe, [])
            except Exception as exc:
                self._failed(proc, exc)

    def install(self, recipe: Recipe, local: Matcher) -> None:
        """The entries to match against from now on, and the same matcher built here."""
        self._recipe = recipe
        self._local = local

    async def match(self, text: str) -> Match:
        return await self._batches.submit(text)

    async def close(self) -> None:
        """Stop the worker (it starts again on the next question)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if self._loop is not asyncio.get_running_loop():  # its loop is gone: nothing to wait on
            proc.kill()
            return
        assert proc.stdin is not None
        proc.stdin.close()  # the worker exits at the end of its input
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()

    async def _ensure_worker(self) -> asyncio.subprocess.Process | None:
        loop = asyncio.get_running_loop()
        if self._proc is not None and (self._proc.returncode is not None or self._loop is not loop):
            if self._proc.returncode is None:
                self._proc.kill()
            self._proc = None
        if self._proc is None:
            if time.monotonic() - self._failed_at < self.restart_after:
                return None
            root = str(Path(__file__).resolve().parent.parent)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.match_worker", stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, env=env)
            except OSError as exc:
                logger.warning("match worker could not start (%s); matching in this process", exc)
                self._failed_at = time.monotonic()
                return None
            self._loop = loop
            self._worker_has = None
        return self._proc

    async def _match_batch(self, texts: Sequence[str]) -> list[Match]:
        recipe, local = self._recipe, self._local
        if recipe is None or local is None:
            raise RuntimeError("MatchWorker.install was not called")
        proc = await self._ensure_worker()
        if proc is not None:
            try:
                matches = await self._ask(proc, recipe, texts)
                self.batches += 1
                return matches
            except Exception as exc:  # the process died, or could not build the matcher
                self._failed(proc, exc)
        self.in_process += 1
        return [local.match(text) for text in texts]

    def _failed(self, proc: asyncio.subprocess.Process, exc: Exception) -> None:
        logger.warning("match worker failed (%s); matching in this process until a new one starts",
                       exc.__class__.__name__)
        self._failed_at = time.monotonic()
        if proc.returncode is None:
            proc.kill()
        if self._proc is proc:
            self._proc = None

    async def _ask(self, proc: asyncio.subprocess.Process, recipe: Recipe, texts: Sequence[str]) -> list[Match]:
        async with self._asking:  # one request on the pipe at a time
            return await self._ask_now(proc, recipe, texts)

    async def _ask_now(self, proc: asyncio.subprocess.Process, recipe: Recipe, texts: Sequence[str]) -> list[Match]:
        assert proc.stdin is not None and proc.stdout is not None
        send = recipe if self._worker_has != recipe.revision else None  # a new worker, or new entries
        proc.stdin.write(_frame((recipe.revision, send, list(texts))))
        await proc.stdin.drain()
        size = _FRAME.unpack(await proc.stdout.readexactly(_FRAME.size))[0]
        matches, self.cpu = pickle.loads(await proc.stdout.readexactly(size))
        if matches is None:  # it does not hold what this process thinks it holds
            self._worker_has = None
            raise RuntimeError("the match worker is out of step")
        self._worker_has = recipe.revision
        return matches


if __name__ == "__main__":
    main()
