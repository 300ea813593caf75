"""Evaluation of the matcher on labelled questions (`cdsbot eval FILE.jsonl`).

Each line has `q`, `topic` (an entry id, or "none" for out of scope) and optionally
`style`. Rates, overall and per style:
- answered-correct: decision `answer` with the right entry;
- helpful: answered correctly, or the right entry among the suggestions;
- wrong-answer: decision `answer` with a wrong entry (in-scope and out-of-scope lines);
- refusal: out-of-scope lines whose decision is `unknown` or `chitchat`.

Generalisation is judged on three sets side by side (`format_table`): the dev set, a
blind set written by someone who saw neither the dev set nor the knowledge base, and
leave-one-out over the knowledge base's own alternates (`leave_one_out`): each alternate
matched against a matcher built without it. A change that raises dev only is fitting.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from bot.matcher import Decision, Doc, Match, Matcher
from bot.text import canon, has_diacritics

__all__ = ["Case", "Scores", "evaluate", "format_report", "format_table", "leave_one_out", "loo_style", "read_cases"]


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
    return report_of((case, matcher.match(case.q)) for case in cases)


def report_of(results: Iterable[tuple[Case, Match]]) -> Report:
    """Count already matched cases."""
    report = Report()
    for case, m in results:
        miss = report.overall.add(case, m)
        report.by_style[case.style or "-"].add(case, m)
        if miss:
            report.misses.append((case, m))
    return report


LONG_WORDS = 18  # an alternate of more than this many words counts as a "long" question


def loo_style(text: str, matcher: Matcher) -> str:
    """A style for an alternate (alternates carry no label): english, long, no-diacritics
    or natural, from the text alone."""
    words = canon(text).split()
    if matcher.is_english(matcher.lexicon.query(text)):
        return "english"
    if len(words) > LONG_WORDS:
        return "long"
    if not has_diacritics(" ".join(words)):
        return "no-diacritics"
    return "natural"


def leave_one_out(docs: Sequence[Doc], build: Callable[[list[Doc]], Matcher]) -> list[tuple[Case, Match]]:
    """Each alternate (not the main question) matched by a matcher built without it.

    Exact in what matters and about 20 builds instead of 1,000: fold k holds out the k-th
    alternate of every entry at once, so an alternate is never in the index that matches
    it (the index also lacks one alternate of each other entry: slightly pessimistic). An
    out-of-scope entry's alternate is labelled "none": it must be refused.
    """
    results: list[tuple[Case, Match]] = []
    longest = max((len(d.strings) for d in docs), default=0)
    for k in range(1, longest):
        held = [(d, d.strings[k]) for d in docs if len(d.strings) > k]
        kept = [Doc(d.entry_id, d.strings[:k] + d.strings[k + 1:], d.out_of_scope, d.english) for d in docs]
        matcher = build(kept)
        for d, text in held:
            case = Case(text, "none" if d.out_of_scope else d.entry_id, loo_style(text, matcher))
            results.append((case, matcher.match(text)))
    return results


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


def format_table(reports: Sequence[tuple[str, Report]]) -> str:
    """One table, the sets side by side (dev, blind, leave-one-out...), a row per style:
    n, correct, helpful, wrong and out-of-scope refused for each set."""
    styles = sorted({st for _, r in reports for st in r.by_style})
    cols = f"{'n':>5}{'corr':>7}{'help':>7}{'wrong':>7}{'refus':>7} "
    width = len(cols)
    top = " " * 16 + "".join(f"{name[:width - 2]:^{width - 1}}|" for name, _ in reports)
    head = f"{'style':<16}" + "".join(cols[:-1] + "|" for _ in reports)
    lines = [top, head, "-" * len(head)]

    def cell(s: Scores | None) -> str:
        if s is None or not s.total:
            return f"{'':>5}{'':>7}{'':>7}{'':>7}{'':>7}|"
        return (f"{s.total:>5}{_pct(s.correct, s.in_scope):>7}{_pct(s.helpful, s.in_scope):>7}"
                f"{_pct(s.wrong, s.total):>7}{_pct(s.refused, s.out_of_scope):>7}|")

    lines.append(f"{'overall':<16}" + "".join(cell(r.overall) for _, r in reports))
    for st in styles:
        lines.append(f"{st:<16}" + "".join(cell(r.by_style.get(st)) for _, r in reports))
    lines.append("")
    lines.append(
        "corr = answered with the right entry; help = corr or right entry suggested (of in-scope lines);\n"
        "wrong = answered with a wrong entry (of all lines); refus = out-of-scope lines not answered."
    )
    if any(name == "loo" for name, _ in reports):
        lines.append("loo = each alternate of the knowledge base matched by a matcher built without it (style from its text).")
    return "\n".join(lines)
