"""`cdsbot check`: the scam checker from the command line.

- `cdsbot check "text"`: the reply a resident would get;
- `cdsbot check --jsonl`: lines `{"text": …}` on standard input → one line each,
  `{"verdict": "scam"|"suspicious"|"no_signs", "signs": [ids…]}`;
- `cdsbot check --score FILE`: a labelled set (lines `{"text", "kind", "label":
  "scam"|"legit"|"question", "signs": [...]}`) scored per kind and label: scams flagged
  (scam or suspicious), legitimate messages and questions called scam (and called
  suspicious), and the share of the labelled signs that were named.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.cli_common import answer_json_lines
from bot.settings import Settings

__all__ = ["register", "score"]


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.scamcheck import default_checker

    checker = default_checker(settings.knowledge_dir)
    if args.score:
        path = Path(args.score)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"Không đọc được tệp {path} (cannot read): {exc.strerror}") from exc
        rows = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                    raise ValueError
            except ValueError as exc:
                raise ValueError(f"{path}, dòng {n}: cần một đối tượng JSON có \"text\" (line {n}: need a JSON object with \"text\")") from exc
            rows.append(row)
        print(score(rows, checker, misses=args.misses))
        return 0
    if args.jsonl:
        def answer(text: str) -> dict[str, object]:
            result = checker.check(text)
            return {"verdict": result.verdict.value, "signs": result.signs}

        return answer_json_lines("text", answer, {"verdict": None, "signs": []})
    if not args.text:
        raise ValueError("Cần một tin nhắn, --jsonl hoặc --score TỆP (give a message, --jsonl or --score FILE).")
    from bot.handlers.scamcheck import render
    from bot.text import looks_english

    result = checker.check(args.text)
    print(f"verdict: {result.verdict.value}  signs: {', '.join(result.signs) or '-'}")
    print("-" * 60)
    print(render(result, english=args.english or looks_english(args.text)).text)
    return 0


def score(rows: list[dict[str, Any]], checker: Any, misses: bool = False) -> str:
    """The scores of a labelled set, per kind and per label, as a text table."""
    groups: dict[tuple[str, str], list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for row in rows:
        groups[(str(row.get("label", "?")), str(row.get("kind", "-")))].append((row, checker.check(row["text"])))
    out = [f"{'label':<9} {'kind':<24} {'n':>4} {'flagged':>8} {'scam':>6} {'susp.':>6} {'signs named':>12}"]

    def line(label: str, kind: str, items: list[tuple[dict[str, Any], Any]]) -> str:
        n = len(items)
        scam = sum(r.verdict.value == "scam" for _, r in items)
        susp = sum(r.verdict.value == "suspicious" for _, r in items)
        wanted = sum(len(set(row.get("signs") or [])) for row, _ in items)
        named = sum(len(set(row.get("signs") or []) & set(r.signs)) for row, r in items)
        recall = f"{100 * named / wanted:.1f}% /{wanted}" if wanted else "-"
        return (f"{label:<9} {kind[:24]:<24} {n:>4} {100 * (scam + susp) / n:>7.1f}% {100 * scam / n:>5.1f}% "
                f"{100 * susp / n:>5.1f}% {recall:>12}")

    for (label, kind) in sorted(groups):
        out.append(line(label, kind, groups[(label, kind)]))
    out.append("")
    by_label: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for (label, _), items in groups.items():
        by_label[label] += items
    for label in sorted(by_label):
        out.append(line(label, "ALL", by_label[label]))
    others = [x for label in by_label if label != "scam" for x in by_label[label]]
    if others:
        out.append(line("legit+q", "ALL", others))
    out.append("")
    out.append("Goals: scam flagged >= 95%; legit+q called scam <= 3%; signs named >= 80% (on scams).")
    routed = [(row, r) for items in groups.values() for row, r in items if isinstance(row.get("received"), bool)]
    if routed:  # a pasted text (no forward mark) is checked only when it reads as a received message
        scams = [r for row, r in routed if row["received"] and row.get("label") == "scam"]
        own = [r for row, r in routed if not row["received"]]
        out.append(f"Pasted, read as received: scams {sum(r.looks_received for r in scams)}/{len(scams)}; "
                   f"residents' own requests and questions {sum(r.looks_received for r in own)}/{len(own)} (want 0).")
    if misses:
        out.append("")
        for items in groups.values():
            for row, r in items:
                label = str(row.get("label"))
                wrong = (label == "scam" and r.verdict.value == "no_signs") or (label != "scam" and r.verdict.value == "scam")
                missing = sorted(set(row.get("signs") or []) - set(r.signs))
                if wrong or missing:
                    out.append(f"[{label}/{row.get('kind')}] {r.verdict.value} missing={missing} "
                               f"extra={sorted(set(r.signs) - set(row.get('signs') or []))} | {row['text'][:100]}")
    return "\n".join(out)


def register(sub: Any, add: Any) -> None:
    """Add `check` to the `cdsbot` parser."""
    sp = add(sub, "check", "Kiểm tra tin nhắn có dấu hiệu lừa đảo, không mở đường link nào (check a message for scam signs).",
             cmd_check)
    sp.add_argument("text", nargs="?", help="tin nhắn cần kiểm tra (the message)")
    sp.add_argument("--jsonl", action="store_true", help="đọc {\"text\": …} từng dòng từ stdin, in {\"verdict\", \"signs\"}")
    sp.add_argument("--score", metavar="FILE", help="chấm điểm trên tệp có nhãn (score a labelled JSON Lines file)")
    sp.add_argument("--misses", action="store_true", help="với --score: liệt kê các câu sai (list the misses)")
    sp.add_argument("--english", action="store_true", help="trả lời bằng tiếng Anh (reply in English)")
