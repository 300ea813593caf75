"""Checking a received message for the signs of a scam, offline (issue 22).

`check(text)` → `Result` (verdict `scam` / `suspicious` / `no_signs`, the signs found
with the resident's words). The lists it uses are data in `knowledge/scamcheck/`
(phrases, official and known-bad domains, shorteners) that editors keep.
"""

from __future__ import annotations

import functools
from pathlib import Path

from bot.scamcheck.checker import MAX_CHARS, Checker, Finding, Result, Verdict
from bot.scamcheck.signs import SIGNS, Sign

__all__ = ["Checker", "Finding", "Result", "SIGNS", "Sign", "Verdict", "MAX_CHARS", "check", "default_checker", "looks_received", "use"]

_KNOWLEDGE = Path(__file__).resolve().parent.parent.parent / "knowledge"


@functools.lru_cache(maxsize=4)
def default_checker(knowledge_dir: Path = _KNOWLEDGE) -> Checker:
    """The checker built from `knowledge/scamcheck/` (read once per process)."""
    return Checker.load(knowledge_dir / "scamcheck", knowledge_dir / "link-domains.yaml")


_active: list[Checker] = []


def use(checker: Checker | None) -> None:
    """Check with this checker from now on (the editors' lists); None: the files' lists."""
    _active[:] = [checker] if checker is not None else []


@functools.lru_cache(maxsize=8)
def _check(checker: Checker, text: str) -> Result:
    # The dispatcher asks twice about a pasted message (to route it, then to reply): the
    # second answer comes from here. Only the last few texts are held, in memory.
    return checker.check(text)


def check(text: str) -> Result:
    """Check one message with the lists in use (the editors', else the files')."""
    return _check(_active[0] if _active else default_checker(), text)


def looks_received(text: str) -> bool:
    """Whether one message reads as one the resident received (`Result.looks_received`),
    with the lists in use; a resident's own question is told apart without the whole check."""
    checker = _active[0] if _active else default_checker()
    return not checker.surely_not_received(text) and _check(checker, text).looks_received
