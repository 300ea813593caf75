"""Evaluation of the matcher on labelled questions (`cdsbot eval FILE.jsonl`).

Each line has `q`, `topic` (an entry id, or "none" for out of scope) and optionally
`style`. Rates, overall and per style:
- answered-correct: decision `answer` with the right entry;
- helpful: answered correctly, or the right entry among the suggestions;
- wrong-answer: decision `answer` with a wrong entry (in-scope and out-of-scope lines);
- refusal: out-of-scope lines whose decision is `unknown` or `chitchat`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.matcher import Decision, Match, Matcher

__all__ = ["Case", "Scores", "evaluate", "read_cases", "format_report"]


@dataclass(frozen=True)
class Case:
    q: str
    topic: str
    style: str = ""


@dataclass
class Scores:
    """Counts for one slice of the evaluation set."""

    in_scope: int = 0
    correct: int = 0
    helpful: int = 0
    out_of_scope: int = 0
    refused: int = 0
    wrong: int = 0  # answered with a wrong entry, any line
    total: int = 0

    def add(self, case: Case, m: Match) -> bool:
        """Count one result; return True when it is a miss."""
        self.total += 1
        if case.topic == "none":
            self.out_of_scope += 1
            ok = m.decision in (Decision.UNKNOWN, Decision.CHITCHAT)
            self.refused += ok
            self.wrong += m.decision == Decision.ANSWER
            return not ok
        self.in_scope += 1
        right = m.decision == Decision.ANSWER and m.entry_id == case.topic
        helpful = right or (m.decision == Decision.SUGGEST and case.topic in m.suggestions)
        self.correct += right
        self.helpful += helpful
        self.wrong += m.decision == Decision.ANSWER and m.entry_id != case.topic
        return not right


@dataclass
class Report:
    overall: Scores = field(default_factory=Scores)
    by_style: dict[str, Scores] = field(default_factory=lambda: defaultdict(Scores))
    misses: list[tuple[Case, Match]] = field(default_factory=list)


def read_cases(lines: Iterable[str], source: str = "input") -> list[Case]:
    cases = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("q"), str) or not isinstance(obj.get("topic"), str):
            raise ValueError(f"{source}:{n}: each line needs a text 'q' and a text 'topic'")
        cases.append(Case(obj["q"], obj["topic"], str(obj.get("style", ""))))
    return cases


def evaluate(matcher: Matcher, cases: list[Case]) -> Report:
    report = Report()
    for case in cases:
        m = matcher.match(case.q)
        miss = report.overall.add(case, m)
        report.by_style[case.style or "-"].add(case, m)
        if miss:
            report.misses.append((case, m))
    return report


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "    - "


def format_report(report: Report, misses: bool = False) -> str:
    head = f"{'slice':<16}{'n':>5}{'correct':>10}{'helpful':>10}{'wrong':>9}{'refusal':>10}"
    lines = [head, "-" * len(head)]

    def row(name: str, s: Scores) -> str:
        return (
            f"{name:<16}{s.total:>5}{_pct(s.correct, s.in_scope):>10}{_pct(s.helpful, s.in_scope):>10}"
            f"{_pct(s.wrong, s.total):>9}{_pct(s.refused, s.out_of_scope):>10}"
        )

    lines.append(row("overall", report.overall))
    for style in sorted(report.by_style):
        lines.append(row(style, report.by_style[style]))
    lines.append("")
    lines.append(
        "correct = answered with the right entry; helpful = correct or right entry suggested;\n"
        "wrong = answered with a wrong entry (of all lines); refusal = out-of-scope lines not answered."
    )
    if misses and report.misses:
        lines.append("")
        lines.append(f"misses ({len(report.misses)}):")
        for case, m in report.misses:
            got = m.entry_id or m.refusal_id or m.chitchat or "-"
            sugg = ",".join(m.suggestions)
            lines.append(
                f"  [{case.style}] want={case.topic} got={m.decision.value}:{got} score={m.score:.1f}"
                f"{' sugg=' + sugg if sugg else ''}\n      {case.q}"
            )
    return "\n".join(lines)
