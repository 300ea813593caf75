"""Benchmark: the scam checker per message, against the normalisation every question
already pays, measured in the same run.

Messages: the project's own labelled examples (tests/data/scamcheck-own.jsonl), the
labelled set eval/scam-messages.jsonl when present, and long pastes (2,000 and
100,000 characters: the checker reads at most its first MAX_CHARS). For each:
- `check(text)`: phrases, links, verdict (what /kiemtra and a pasted message cost; the
  dispatcher runs it twice for a pasted message: once to route, once to reply);
- baseline: `Lexicon.query(text)` of bot/text.py, the normalisation of every question.
p50 / p99 / max in milliseconds, one core. Goal: p99 <= 5 ms.

Run: `.venv/bin/python bench/scamcheck.py` (BENCH_ROUNDS=20 by default).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.scamcheck import default_checker  # noqa: E402
from bot.text import Lexicon  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def measure(fn: Callable[[str], object], texts: list[str], rounds: int) -> tuple[float, float, float]:
    for t in texts[:20]:
        fn(t)
    times = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            fn(t)
            times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times), percentile(times, 99), max(times)


def main() -> None:
    texts: list[str] = []
    sources = []
    for path in (ROOT / "tests" / "data" / "scamcheck-own.jsonl", ROOT / "eval" / "scam-messages.jsonl"):
        if path.exists():
            rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
            texts += [r["text"] for r in rows]
            sources.append(f"{path.name} ({len(rows)})")
    long_paste = " ".join(texts)
    texts += [long_paste[:2000], (long_paste * 40)[:100_000]]
    rounds = int(os.environ.get("BENCH_ROUNDS", "20"))
    checker = default_checker()
    lexicon = Lexicon.load(ROOT / "knowledge" / "lexicon")
    print(f"messages: {len(texts)} from {', '.join(sources)} + 2 long pastes; {rounds} rounds; python {sys.version.split()[0]}")
    print(f"{'method':<44} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    c50, c99, cmax = measure(checker.check, texts, rounds)
    b50, b99, bmax = measure(lexicon.query, texts, rounds)
    print(f"{'ours: scamcheck.check (phrases+links+verdict)':<44} {c50:>8.3f} {c99:>8.3f} {cmax:>8.3f}")
    print(f"{'baseline: Lexicon.query (question normalise)':<44} {b50:>8.3f} {b99:>8.3f} {bmax:>8.3f}")
    print(f"{'ratio ours/baseline (p50, p99)':<44} {c50 / b50:>7.1f}x {c99 / b99:>7.1f}x")
    print(f"goal p99 <= 5 ms: {'met' if c99 <= 5.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
