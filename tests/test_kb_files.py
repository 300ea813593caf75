"""Knowledge files: validation with file and line, and the byte-for-byte canonical layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb_files import KbInvalid, dump_group, read_dir, read_text
from bot.settings import ROOT

GOOD = """\
group: g
title: Nhóm
title_en: Group
pillar: chung
entries:
- id: a
  kind: faq
  status: published
  question: Câu A?
  alternates:
  - hỏi a
  answer: |-
    Dòng một.
    Dòng hai.
  answer_en: One.
  links: []
  related: [b]
  tags: [chung]
  sources:
  - Hướng dẫn chung
  reviewed: 2026-11-26
- id: b
  kind: faq
  status: draft
  question: Câu B?
  alternates: []
  answer: Trả lời B.
  answer_en: ''
  links:
  - label: Cổng DVC
    url: https://dichvucong.gov.vn
  related: []
  tags: []
  sources: []
  reviewed: null
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "entries"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text, encoding="utf-8")
    return d


def test_canonical_file_round_trips_byte_for_byte(tmp_path: Path) -> None:
    groups = read_dir(write(tmp_path, "g.yaml", GOOD))
    assert dump_group(groups[0]) == GOOD


def test_every_real_file_is_canonical() -> None:
    for group in read_dir(ROOT / "knowledge" / "entries"):
        path = ROOT / "knowledge" / "entries" / f"{group.group}.yaml"
        assert dump_group(group) == path.read_text(encoding="utf-8"), f"{path} is not in the layout `kb export` writes"


def problems_of(tmp_path: Path, text: str, name: str = "g.yaml") -> list[str]:
    with pytest.raises(KbInvalid) as info:
        read_dir(write(tmp_path, name, text))
    return [str(p) for p in info.value.problems]


def test_invalid_yaml_reports_file_and_line(tmp_path: Path) -> None:
    bad = GOOD.replace("  question: Câu B?", "  question: [unclosed")
    found = problems_of(tmp_path, bad)
    assert len(found) == 1 and "g.yaml:" in found[0] and "not valid YAML" in found[0]
    line = int(found[0].split(":")[1])
    assert 25 <= line <= 27  # the broken line, or the one where the parser notices


def test_unknown_field_missing_answer_duplicate_and_broken_related(tmp_path: Path) -> None:
    bad = GOOD.replace("  answer: Trả lời B.\n", "  anwser: Trả lời B.\n").replace("related: [b]", "related: [zz]")
    bad += bad[bad.index("- id: a") :].replace("related: [zz]", "related: []")
    found = problems_of(tmp_path, bad)
    text = "\n".join(found)
    assert "unknown field 'anwser'" in text
    assert "missing or empty 'answer'" in text
    assert "duplicate id 'a'" in text
    assert "related id 'zz' does not exist" in text
    assert all(p.split(":")[1].isdigit() and int(p.split(":")[1]) > 1 for p in found)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    write(tmp_path, "g.yaml", GOOD)
    other = GOOD.replace("group: g", "group: h")
    found = problems_of(tmp_path, other, "h.yaml")
    assert any("duplicate id 'a'" in p and "g.yaml" in p for p in found)


def test_group_must_match_file_name(tmp_path: Path) -> None:
    assert any("must equal the file name" in p for p in problems_of(tmp_path, GOOD, "other.yaml"))


def test_bad_status_kind_date_links(tmp_path: Path) -> None:
    bad = (
        GOOD.replace("status: draft", "status: live")
        .replace("kind: faq\n  status: published", "kind: banana\n  status: published")
        .replace("reviewed: 2026-11-26", "reviewed: yesterday")
        .replace("url: https://dichvucong.gov.vn", "href: https://dichvucong.gov.vn")
    )
    text = "\n".join(problems_of(tmp_path, bad))
    for expected in ("status must be one of", "kind must be one of", "reviewed must be a date", "links must be"):
        assert expected in text


def test_read_text_gives_entry_lines() -> None:
    group, problems, lines = read_text(GOOD, "g.yaml")
    assert group is not None and not problems
    assert lines == {"a": 6, "b": 22}


def test_review_by_is_read_written_back_and_checked(tmp_path: Path) -> None:
    # Entries whose facts change (ranks, hotlines, fees...) carry `review_by`; the others
    # do not write the field at all, so their files stay as they were.
    text = GOOD.replace("  reviewed: 2026-11-26\n", "  reviewed: 2026-11-26\n  review_by: 2027-06-30\n")
    groups = read_dir(write(tmp_path, "g.yaml", text))
    a, b = groups[0].entries
    assert a.review_by is not None and a.review_by.isoformat() == "2027-06-30" and b.review_by is None
    assert dump_group(groups[0]) == text
    assert a.to_dict()["review_by"] == "2027-06-30"
    found = "\n".join(problems_of(tmp_path, text.replace("review_by: 2027-06-30", "review_by: soon")))
    assert "review_by must be a date" in found
